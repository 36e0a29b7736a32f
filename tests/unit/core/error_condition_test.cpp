// The conditions callers branch on: the condition category itself (system and generic codes),
// and every code of the core's categories against docs/design/error-model.md §2.3.
#include "lanyard/core/error_condition.hpp"

#include "lanyard/core/app_message.hpp"
#include "lanyard/core/base32.hpp"
#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/fingerprint.hpp"
#include "lanyard/core/pairing_error.hpp"
#include "lanyard/core/provisioning.hpp"
#include "lanyard/core/setup_code.hpp"
#include "lanyard/core/setup_payload.hpp"
#include "lanyard/core/txt_error.hpp"
#include "support/condition_table.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <string>
#include <system_error>

using namespace lanyard::core;
using lanyard::test::check_conditions;
using lanyard::test::expected_code;
using enum lanyard::core::condition;

TEST_CASE("condition_set holds what was inserted and nothing else", "[error_condition]") {
  constexpr condition_set none;
  CHECK(none.empty());
  constexpr condition_set s{refused_by_peer, permanent};
  static_assert(s.contains(refused_by_peer) && s.contains(permanent) && !s.contains(transient));
  CHECK_FALSE(s.empty());
  CHECK_FALSE(s.contains(0));
  CHECK_FALSE(s.contains(32));
  CHECK_FALSE(s.contains(-1));
  condition_set t;
  t.insert(permanent);
  t.insert(refused_by_peer);
  CHECK(t == s);
}

TEST_CASE("the condition category names and explains each condition", "[error_condition]") {
  CHECK(std::string(condition_category().name()) == "lanyard.condition");
  for (int i = static_cast<int>(first_condition); i <= static_cast<int>(last_condition); ++i) {
    const auto c = static_cast<condition>(i);
    INFO(i);
    CHECK_FALSE(to_string(c).empty());
    CHECK(make_error_condition(c).message().find("unknown") == std::string::npos);
    CHECK(make_error_condition(c).category() == condition_category());
  }
  CHECK(to_string(transient) == "transient");
  CHECK(to_string(permanent) == "permanent");
  CHECK(to_string(static_cast<condition>(99)).empty());
}

TEST_CASE("system and generic codes: cancellation and the network's passing failures",
          "[error_condition]") {
  // asio::error::operation_aborted is ECANCELED in the system category.
  CHECK(std::error_code(ECANCELED, std::system_category()) == cancelled);
  CHECK(std::make_error_code(std::errc::operation_canceled) == cancelled);
  CHECK(conditions_of(std::error_code(ECANCELED, std::system_category())) ==
        condition_set{cancelled});
  for (int e :
       {ETIMEDOUT, ECONNREFUSED, ECONNRESET, ECONNABORTED, EHOSTUNREACH, ENETUNREACH, ENETDOWN,
        ENETRESET, EPIPE, EADDRNOTAVAIL, ENOBUFS, EMFILE, ENFILE, EAGAIN, EINTR, ENOTCONN}) {
    INFO(e);
    CHECK(conditions_of(std::error_code(e, std::system_category())) == condition_set{transient});
    CHECK(conditions_of(std::error_code(e, std::generic_category())) == condition_set{transient});
  }
  // Not classified: the channel's default (retry) applies, nothing is called permanent.
  CHECK(conditions_of(std::make_error_code(std::errc::no_such_file_or_directory)).empty());
  CHECK(conditions_of(std::make_error_code(std::errc::permission_denied)).empty());
  CHECK(conditions_of(std::error_code()).empty());
}

TEST_CASE("a category that is not Lanyard's is in no condition", "[error_condition]") {
  struct foreign final : std::error_category {
    const char* name() const noexcept override { return "foreign"; }
    std::string message(int) const override { return "foreign"; }
  };
  static const foreign cat;
  for (int v = 0; v < 64; ++v)
    CHECK(conditions_of(std::error_code(v, cat)).empty());
  // ...and has no code name: it is named by category and value.
  CHECK_FALSE(is_lanyard_code(std::error_code(3, cat)));
  CHECK(code_string(std::error_code(3, cat)) == "foreign:3");
}

TEST_CASE("code_string: stable names for programs, never the message", "[error_condition]") {
  CHECK(code_string(make_error_code(pairing_errc::wrong_proof)) == "lanyard.pairing.wrong_proof");
  CHECK(code_string(make_error_code(channel_errc::not_discovered)) ==
        "lanyard.channel.not_discovered");
  CHECK(code_string({}).empty());
  CHECK(code_string(std::make_error_code(std::errc::timed_out)) ==
        "generic:" + std::to_string(static_cast<int>(std::errc::timed_out)));
  // A value outside a Lanyard enum is named by its number, like any other category.
  CHECK(is_lanyard_code(std::error_code(999, pairing_category())));
  CHECK(code_string(std::error_code(999, pairing_category())) == "lanyard.pairing:999");
  // Errno-valued codes are not Lanyard's, whatever conditions they are in.
  CHECK_FALSE(is_lanyard_code(std::make_error_code(std::errc::operation_canceled)));
}

TEST_CASE("a Lanyard code compares equal to each of its conditions, and only those",
          "[error_condition]") {
  const std::error_code ec = make_error_code(pairing_errc::window_closed);
  CHECK(ec == refused_by_peer);
  CHECK(ec == permanent);
  CHECK(ec != transient);
  CHECK(ec != authentication_failed);
  // Unchanged: another code with the same conditions is still another code, and no std::errc
  // matches a Lanyard code.
  CHECK(ec != make_error_code(channel_errc::not_paired));
  CHECK(ec != std::errc::operation_canceled);
}

TEST_CASE("lanyard.channel codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "protocol_violation", {protocol_violation, transient}},
      {2, "frame_too_large", {protocol_violation, transient}},
      {3, "unknown_frame_type", {protocol_violation, transient}},
      {4, "bad_version", {protocol_violation, transient}},
      {5, "frame_truncated", {protocol_violation, transient}},
      {6, "frame_trailing_bytes", {protocol_violation, transient}},
      {7, "invalid_frame_field", {protocol_violation, transient}},
      {8, "sequence_out_of_window", {protocol_violation, transient}},
      {9, "session_not_owned", {protocol_violation, transient}},
      {10, "peer_dead", {transient}},
      {11, "handshake_timeout", {transient}},
      {12, "closed_by_peer", {transient}},
      {13, "not_paired", {refused_by_peer, permanent}},
      {14, "too_many_sessions", {refused_by_peer, transient}},
      {20, "buffer_full", {transient}},
      {21, "message_too_large", {permanent}},
      {22, "session_closed", {permanent}},
      {23, "invalid_state", {permanent}},
      {24, "session_reset", {transient}},
      {25, "no_viable_path", {transient}},
      {26, "session_expired", {transient}},
      {27, "no_session", {transient}},
      {28, "too_many_waiting_sends", {transient}},
      {29, "connection_replaced", {cancelled}}, // superseded by a newer connection
      {30, "host_not_resolved", {transient}},
      {31, "not_discovered", {transient}},
      {32, "relay_unavailable", {transient}},
  };
  check_conditions(channel_category(), rows);
}

TEST_CASE("lanyard.pairing codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "window_closed", {refused_by_peer, permanent}},
      {2, "too_many_attempts", {refused_by_peer, permanent}},
      {3, "invalid_timeout", {permanent}},
      {4, "wrong_proof", {authentication_failed, permanent}},
      {5, "accessory_unverified", {authentication_failed, permanent}},
      {6, "method_not_supported", {refused_by_peer, permanent}},
      {7, "controllers_full", {refused_by_peer, permanent}},
      {8, "timeout", {transient}},
      {9, "protocol_violation", {protocol_violation, permanent}},
      // 10 reserved: channel traffic before pairing is channel_errc::not_paired.
      {11, "needs_full_handshake", {refused_by_peer, transient}},
      {12, "accessory_failure", {refused_by_peer, transient}},
      {13, "not_confirmed", {cancelled, permanent}},
  };
  check_conditions(pairing_category(), rows);
}

TEST_CASE("lanyard.provisioning codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "not_provisioning", {}}, // not an error: the message is for another handler
      {2, "missing_field", {protocol_violation, permanent}},
      {3, "unknown_field", {protocol_violation, permanent}},
      {4, "bad_ssid", {protocol_violation, permanent}},
      {5, "bad_passphrase", {protocol_violation, permanent}},
      {6, "bad_state", {protocol_violation, permanent}},
      {7, "bad_reason", {protocol_violation, permanent}},
      {8, "bad_addresses", {protocol_violation, permanent}},
      {9, "bad_re", {protocol_violation, permanent}},
      {10, "wrong_passphrase", {authentication_failed, permanent}},
      {11, "network_not_found", {permanent}},
      {12, "join_timeout", {transient}},
      {13, "not_admin", {refused_by_peer, policy, permanent}},
      {14, "credentials_refused", {refused_by_peer, permanent}},
  };
  check_conditions(provisioning_category(), rows);
}

TEST_CASE("lanyard.app_message codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "empty", {protocol_violation, permanent}},
      {2, "bad_version", {protocol_violation, permanent}},
      {3, "unsupported_version", {protocol_violation, permanent}},
      {4, "bad_verb", {protocol_violation, permanent}},
      {5, "bad_key", {protocol_violation, permanent}},
      {6, "bad_value", {protocol_violation, permanent}},
      {7, "duplicate_key", {protocol_violation, permanent}},
      {8, "too_many_fields", {protocol_violation, permanent}},
      {9, "too_long", {protocol_violation, permanent}},
      {10, "bad_spacing", {protocol_violation, permanent}},
  };
  check_conditions(app_message_category(), rows);
}

TEST_CASE("lanyard.payload codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "empty", {permanent}},
      {2, "bad_prefix", {permanent}},
      {3, "bad_character", {permanent}},
      {4, "bad_length", {permanent}},
      {5, "truncated", {permanent}},
      {6, "checksum_mismatch", {permanent}},
      {7, "unsupported_version", {permanent}},
      {8, "bad_device_id", {permanent}},
      {9, "device_id_too_long", {permanent}},
      {10, "bad_ssid", {permanent}},
      {11, "ssid_too_long", {permanent}},
      {12, "trailing_data", {permanent}},
      {13, "missing_setup_secret", {permanent}},
      {14, "unexpected_setup_secret", {permanent}},
      {15, "no_setup_secret", {permanent}},
  };
  check_conditions(payload_category(), rows);
}

TEST_CASE("lanyard.setup_code codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "empty", {permanent}},        {2, "bad_character", {permanent}},
      {3, "wrong_length", {permanent}}, {4, "check_digit_mismatch", {permanent}},
      {5, "trivial_code", {permanent}}, {6, "not_enough_random_bytes", {transient}},
  };
  check_conditions(setup_code_category(), rows);
}

TEST_CASE("lanyard.fingerprint, lanyard.base32 and lanyard.txt codes have the design's "
          "conditions",
          "[error_condition]") {
  constexpr expected_code fingerprint_rows[] = {
      {1, "empty", {permanent}},
      {2, "invalid_character", {permanent}},
      {3, "invalid_length", {permanent}},
      {4, "invalid_last_character", {permanent}},
  };
  check_conditions(fingerprint_category(), fingerprint_rows);
  constexpr expected_code base32_rows[] = {
      {1, "invalid_character", {permanent}},
      {2, "invalid_length", {permanent}},
      {3, "nonzero_trailing_bits", {permanent}},
  };
  check_conditions(base32_category(), base32_rows);
  // A peer's TXT record that breaks RFC 6763 is a protocol violation; one too long to build is
  // this side's mistake.
  constexpr expected_code txt_rows[] = {
      {1, "truncated", {protocol_violation, permanent}},
      {2, "empty_string", {protocol_violation, permanent}},
      {3, "empty_key", {protocol_violation, permanent}},
      {4, "bad_key_byte", {protocol_violation, permanent}},
      {5, "string_too_long", {permanent}},
      {6, "record_too_long", {permanent}},
  };
  check_conditions(txt_category(), txt_rows);
}

TEST_CASE("code_string into fixed room: the same text, cut at the room's end",
          "[error_condition]") {
  std::array<char, 64> room{};
  const std::error_code wrong = make_error_code(pairing_errc::wrong_proof);
  CHECK(std::string_view(room.data(), code_string(wrong, room)) == code_string(wrong));
  const std::error_code timed_out = std::make_error_code(std::errc::timed_out);
  CHECK(std::string_view(room.data(), code_string(timed_out, room)) == code_string(timed_out));
  CHECK(code_string({}, room) == 0);
  std::array<char, 10> small{};
  CHECK(std::string_view(small.data(), code_string(wrong, small)) == "lanyard.pa");
}
