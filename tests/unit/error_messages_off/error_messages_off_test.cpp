// Lanyard built with LANYARD_ERROR_MESSAGES=OFF (firmware short of flash): the categories'
// sentences are compiled out and message() names the code instead. This executable compiles a
// few category sources with LANYARD_ERROR_MESSAGES=0 (tests/CMakeLists.txt), whatever the build's
// option, so the default build checks the terse form too: the names, code_string() and the
// conditions must be what the full build gives.
#include "lanyard/core/error_condition.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/txt_error.hpp"
#include "lanyard/crypto/error.hpp"
#include "lanyard/firmware/error.hpp"
#include "lanyard/tls_engine/error.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using namespace lanyard::core;
using enum lanyard::core::condition;

static_assert(LANYARD_ERROR_MESSAGES == 0, "this test is built without the error texts");

namespace {
const std::string hint(detail::terse_message_hint);
}

TEST_CASE("without texts, message() names the code and its value", "[error_messages_off]") {
  CHECK(make_error_code(txt_errc::empty_key).message() == "lanyard.txt.empty_key (3)" + hint);
  CHECK(make_error_code(channel_errc::not_paired).message() ==
        "lanyard.channel.not_paired (13)" + hint);
  CHECK(std::error_code(lanyard::crypto::crypto_errc::confirmation_mismatch).message() ==
        "lanyard.crypto.confirmation_mismatch (3)" + hint);
  CHECK(std::error_code(lanyard::tls::tls_errc::alpn_mismatch).message() ==
        "lanyard.tls.alpn_mismatch (2)" + hint);
  CHECK(std::error_code(lanyard::firmware::firmware_errc::not_started).message() ==
        "lanyard.firmware.not_started (10)" + hint);
  // The hint is short and says where the texts are.
  CHECK(hint.size() < 100);
  CHECK(hint.find("LANYARD_ERROR_MESSAGES=OFF") != std::string::npos);
}

TEST_CASE("without texts, every code of a category is named, none is unknown",
          "[error_messages_off]") {
  for (int v = 1; v <= 6; ++v) {
    const std::error_code ec(v, txt_category());
    CAPTURE(v);
    CHECK(ec.message() == code_string(ec) + " (" + std::to_string(v) + ")" + hint);
  }
  for (int v = 1; v <= 31; ++v) {
    if (v > 14 && v < 20) continue;
    const std::error_code ec(v, channel_category());
    CAPTURE(v);
    CHECK(ec.message().starts_with(code_string(ec) + " ("));
  }
}

TEST_CASE("without texts, a value outside the enum still says which category",
          "[error_messages_off]") {
  CHECK(std::error_code(42, txt_category()).message() == "lanyard.txt error 42");
  CHECK(std::error_code(99, channel_category()).message() == "lanyard.channel error 99");
  CHECK(std::error_code(0, txt_category()).message() == "lanyard.txt error 0");
  CHECK(std::error_code(-1, lanyard::tls::tls_category()).message() == "lanyard.tls error -1");
}

TEST_CASE("without texts, names, code_string() and conditions are unchanged",
          "[error_messages_off]") {
  CHECK(code_string(make_error_code(txt_errc::empty_key)) == "lanyard.txt.empty_key");
  CHECK(code_string(make_error_code(channel_errc::session_reset)) ==
        "lanyard.channel.session_reset");
  CHECK(code_string(std::error_code(42, txt_category())) == "lanyard.txt:42");
  CHECK(is_lanyard_code(make_error_code(txt_errc::truncated)));
  CHECK(make_error_code(txt_errc::empty_key) == protocol_violation);
  CHECK(make_error_code(txt_errc::empty_key) == permanent);
  CHECK(make_error_code(txt_errc::record_too_long) != protocol_violation);
  CHECK(make_error_code(channel_errc::peer_dead) == transient);
  CHECK(condition_names(make_error_code(channel_errc::not_paired)) ==
        std::vector<std::string_view>{"refused_by_peer", "permanent"});
  CHECK(std::error_code(lanyard::crypto::crypto_errc::confirmation_mismatch) ==
        authentication_failed);
}

TEST_CASE("without texts, the condition category names each condition", "[error_messages_off]") {
  CHECK(make_error_condition(transient).message() == "transient");
  CHECK(make_error_condition(refused_by_peer).message() == "refused_by_peer");
  CHECK(make_error_condition(permanent).message() == "permanent");
  CHECK(std::error_condition(99, condition_category()).message() == "lanyard.condition 99");
}

TEST_CASE("without texts, an error_detail's own sentence is still used", "[error_messages_off]") {
  // describe() of the parse results is not an error category's message: it stays.
  const error_detail d{make_error_code(txt_errc::empty_key), "TXT string 1 has no key"};
  CHECK(d.message() == "TXT string 1 has no key");
  const error_detail bare{make_error_code(txt_errc::empty_key), {}};
  CHECK(bare.message() == "lanyard.txt.empty_key (3)" + hint);
}
