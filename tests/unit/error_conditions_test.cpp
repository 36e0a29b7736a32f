// Every code of the adapters' categories (tls, trust, link, discovery, crypto) against
// docs/design/error-model.md §2.3, and the channel runtime's codes, which now live in the core's
// lanyard.channel; the core's categories are checked in tests/unit/core/error_condition_test.cpp.
#include <lanyard/channel/error.hpp>
#include <lanyard/crypto/error.hpp>
#include <lanyard/discovery/error.hpp>
#include <lanyard/link/error.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/trust/error.hpp>

#include "support/condition_table.hpp"

#include <lanyard/core/error_condition.hpp>

#include <asio/error.hpp>
#include <catch2/catch.hpp>

using lanyard::core::condition_set;
using lanyard::core::conditions_of;
using lanyard::test::check_conditions;
using lanyard::test::expected_code;
using enum lanyard::core::condition;

TEST_CASE("asio's cancellation is cancelled, its timeout transient, end of stream unclassified",
          "[error_condition]") {
  // asio 1.22's own "asio.system" category maps none of its errno values to std::errc: the
  // condition category reads them as errno values itself.
  CHECK(conditions_of(asio::error::operation_aborted) == condition_set{cancelled});
  CHECK(conditions_of(asio::error::timed_out) == condition_set{transient});
  CHECK(conditions_of(asio::error::connection_refused) == condition_set{transient});
  CHECK(conditions_of(asio::error::network_down) == condition_set{transient});
  CHECK(conditions_of(asio::error::eof).empty());
  CHECK(conditions_of(asio::error::host_not_found).empty());
}

TEST_CASE("the channel runtime's codes folded into lanyard.channel keep their conditions",
          "[error_condition]") {
  namespace channel = lanyard::channel;
  // What lanyard.channel.io said about each code before the fold (its value, then the
  // conditions its table gave): the client's fatal check (== permanent) and everything else
  // that branches on a condition decide as before. not_started (7, permanent) was never
  // produced and is gone.
  struct folded {
    int old_value;
    std::error_code now;
    condition_set before;
  };
  const folded rows[] = {
      {1, channel::errc::session_reset, {transient}},
      {2, channel::errc::session_expired, {transient}},
      {3, channel::errc::no_session, {transient}},
      {4, channel::errc::too_many_waiting_sends, {transient}},
      {5, channel::errc::connection_replaced, {cancelled}},
      {6, channel::errc::no_address, {transient}},
      {8, channel::errc::not_discovered, {transient}},
  };
  for (const folded& row : rows) {
    INFO("lanyard.channel.io " << row.old_value << " is now lanyard.channel " << row.now.value());
    CHECK(row.now.category() == lanyard::core::channel_category());
    CHECK(conditions_of(row.now) == row.before);
    CHECK(row.now != permanent);
  }
  // One session_reset: what the runtime completes sends with is what callers compare with.
  CHECK(std::error_code(channel::errc::session_reset) ==
        lanyard::core::channel_errc::session_reset);
  CHECK(channel::errc::no_address == channel::errc::host_not_resolved);
  // The deprecated accessor names the one category.
  CHECK(channel::error_category() == lanyard::core::channel_category());
}

TEST_CASE("lanyard.trust codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "key_changed", {authentication_failed, permanent}},
      {2, "unknown_device", {policy, permanent}},
      {3, "payload_mismatch", {authentication_failed, permanent}},
      {4, "payload_required", {policy, permanent}},
      {5, "store_corrupt", {permanent}},
      {6, "store_unsupported_version", {permanent}},
      {7, "store_io", {permanent}},
      {8, "store_permissions", {policy, permanent}},
      {9, "invalid_record", {permanent}},
      {10, "not_paired", {authentication_failed, permanent}},
      // 11, 12, 15 reserved: the store reports core::pairing_errc::window_closed,
      // too_many_attempts and controllers_full.
      {13, "not_admin", {policy, permanent}},
      {14, "last_admin", {policy, permanent}},
      {16, "request_not_supported", {refused_by_peer, permanent}},
      {17, "request_refused", {refused_by_peer, permanent}},
  };
  check_conditions(lanyard::trust::trust_category(), rows);
}

TEST_CASE("lanyard.tls codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "handshake_timeout", {transient}},
      {2, "alpn_mismatch", {protocol_violation, permanent}},
      {3, "peer_certificate_missing", {authentication_failed, permanent}},
      {4, "peer_rejected_certificate", {refused_by_peer, authentication_failed, permanent}},
      {5, "peer_alert", {transient}},
      {6, "peer_closed_during_handshake", {transient}},
      {7, "handshake_failed", {protocol_violation, transient}},
      // Design: {authentication_failed, permanent}; transient until the channel stops retrying
      // it (a behaviour change of its own).
      {8, "bad_peer_certificate", {authentication_failed, transient}},
      {9, "no_peer_verifier", {policy, authentication_failed, permanent}},
      {20, "bad_record", {protocol_violation, transient}},
      {21, "stream_truncated", {transient}},
      {22, "not_connected", {permanent}},
      {23, "already_handshaken", {permanent}},
      {24, "protocol_error", {protocol_violation, transient}},
      {25, "closed_by_peer", {transient}},
      {40, "bad_identity_file", {permanent}},
      {41, "identity_permissions", {policy, permanent}},
      {42, "identity_io", {permanent}},
      {43, "invalid_device_id", {permanent}},
      {44, "crypto_failure", {transient}},
  };
  check_conditions(lanyard::tls::tls_category(), rows);
}

TEST_CASE("lanyard.link codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "no_such_interface", {transient}},
      {2, "interface_down", {transient}},
      {3, "no_address", {transient}},
      {4, "policy_prohibits", {policy, transient}}, // the channel waits for an allowed path
      {5, "netlink_failed", {transient}},
      {6, "netlink_malformed", {protocol_violation, transient}},
      {7, "netlink_overrun", {transient}},
      {8, "family_mismatch", {permanent}},
      {9, "bind_to_device_failed", {transient}},
      {10, "join_failed", {transient}},
  };
  check_conditions(lanyard::link::link_category(), rows);
}

TEST_CASE("lanyard.discovery codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "daemon_unavailable", {transient}},      {2, "bus_unavailable", {transient}},
      {3, "service_type_format", {permanent}},     {4, "service_type_protocol", {permanent}},
      {5, "service_name_length", {permanent}},     {6, "service_name_characters", {permanent}},
      {7, "service_name_no_letter", {permanent}},  {8, "service_name_hyphen", {permanent}},
      {9, "subtype_invalid", {permanent}},         {10, "instance_name_empty", {permanent}},
      {11, "instance_name_too_long", {permanent}}, {12, "instance_name_invalid", {permanent}},
      {13, "txt_too_large", {permanent}},          {14, "port_zero", {permanent}},
      {15, "unknown_interface", {transient}},      {16, "name_conflict", {permanent}},
      {17, "daemon_error", {transient}},           {18, "too_many_objects", {transient}},
      {19, "not_published", {permanent}},
  };
  check_conditions(lanyard::discovery::discovery_category(), rows);
}

TEST_CASE("lanyard.crypto codes have the design's conditions", "[error_condition]") {
  constexpr expected_code rows[] = {
      {1, "bad_input", {permanent}},
      {2, "bad_point", {protocol_violation, permanent}},
      {3, "confirmation_mismatch", {authentication_failed, permanent}},
      {4, "wrong_state", {permanent}},
      {5, "mbedtls_failure", {transient}},
      {6, "random_failure", {transient}},
  };
  check_conditions(lanyard::crypto::crypto_category(), rows);
}
