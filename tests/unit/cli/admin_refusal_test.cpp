// `lanyard controllers` turns the accessory's refusal tokens into codes a script branches on;
// a service the accessory does not offer is not a storage failure, and a token this version
// does not know is a refusal of its own, kept (escaped) in the `reason` field.
#include "cli/admin_refusal.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/trust/error.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <system_error>
#include <utility>
#include <vector>

using lanyard::cli::admin_refusal;
using lanyard::trust::trust_errc;

TEST_CASE("cli: each refusal token of an administration request has its code", "[cli]") {
  const std::vector<std::pair<std::string, std::error_code>> rows = {
      {"not_admin", trust_errc::not_admin},
      {"not_paired", trust_errc::not_paired},
      {"last_admin", trust_errc::last_admin},
      {"bad_field", lanyard::core::app_message_errc::bad_value},
      {"storage", trust_errc::store_io},
      {"not_supported", trust_errc::request_not_supported},
      {"unknown_verb", trust_errc::request_not_supported},
      {"quota_exceeded", trust_errc::request_refused},
  };
  for (const auto& [token, code] : rows) {
    INFO(token);
    const auto e = admin_refusal(token);
    CHECK(e.code == code);
    CHECK(e.text("reason") == token);
    CHECK(e.detail.find("(" + token + ")") != std::string::npos);
  }
}

TEST_CASE("cli: a refusal token is escaped in the sentence, kept as sent in the field", "[cli]") {
  const std::string hostile = "x\x1b[2Jy";
  const auto e = admin_refusal(hostile);
  CHECK(e.code == trust_errc::request_refused);
  CHECK(e.detail.find('\x1b') == std::string::npos);
  CHECK(e.text("reason") == hostile);
}
