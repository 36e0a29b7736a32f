// Checks a category's classification (lanyard_category::conditions) against the design's table
// (docs/design/error-model.md §2.3), written out row by row in the tests, and that the category
// defines no value the table lacks: an enumerator added without a row fails the test. Standard
// library and Catch only: the core's tests build this with -fno-exceptions -fno-rtti.
#pragma once

#include <lanyard/core/error_condition.hpp>

#include <catch2/catch.hpp>

#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::test {

/// One enumerator and the conditions the design gives it.
struct expected_code {
  int value;
  std::string_view name;
  core::condition_set conditions;
};

/// True if `value` is one of the category's enumerators: its message is not the category's
/// fallback for unknown values ("unknown lanyard.tls error 9999", "unknown trust error").
inline bool is_defined(const std::error_category& cat, int value) {
  std::string fallback = cat.message(9999);
  if (auto at = fallback.find("9999"); at != std::string::npos)
    fallback.replace(at, 4, std::to_string(value));
  return cat.message(value) != fallback;
}

/// "{refused_by_peer, permanent}", for failure messages.
inline std::string describe(core::condition_set s) {
  std::string out = "{";
  for (int i = static_cast<int>(core::first_condition); i <= static_cast<int>(core::last_condition);
       ++i) {
    if (!s.contains(i)) continue;
    if (out.size() > 1) out += ", ";
    out += core::to_string(static_cast<core::condition>(i));
  }
  return out + "}";
}

/// The two codes that are neither transient nor permanent (error_condition.hpp says why).
inline bool neither_transient_nor_permanent(const std::error_category& cat, int value) {
  const std::string_view name = cat.name();
  return (name == "lanyard.channel" && value == 29) ||   // connection_replaced
         (name == "lanyard.provisioning" && value == 1); // not_provisioning
}

/// Every row against `cat` (through `ec == condition`), then every value 0..1023 the category
/// defines against the rows.
inline void check_conditions(const std::error_category& cat, std::span<const expected_code> rows) {
  for (const expected_code& row : rows) {
    INFO(cat.name() << " " << row.name << " (" << row.value << ")");
    CHECK(is_defined(cat, row.value));
    const std::error_code ec(row.value, cat);
    CHECK(describe(core::conditions_of(ec)) == describe(row.conditions));
    // The stable name scripts match on is the enumerator's (the row's name is the design's).
    CHECK(core::is_lanyard_code(ec));
    CHECK(core::code_string(ec) == std::string(cat.name()) + "." + std::string(row.name));
    const bool transient = ec == core::condition::transient;
    const bool permanent = ec == core::condition::permanent;
    if (neither_transient_nor_permanent(cat, row.value))
      CHECK((!transient && !permanent));
    else
      CHECK(transient != permanent);
  }
  for (int value = 0; value < 1024; ++value) {
    if (!is_defined(cat, value)) continue;
    bool listed = false;
    for (const expected_code& row : rows)
      listed = listed || row.value == value;
    INFO(cat.name() << " defines " << value << " (\"" << cat.message(value)
                    << "\"), which the table does not classify");
    CHECK(listed);
  }
}

} // namespace lanyard::test
