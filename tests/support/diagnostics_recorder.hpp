// Keeps every diagnostic an adapter emits, so a test asserts on ids, codes and fields instead
// of grepping log lines (docs/design/error-model.md §4). Single-threaded: install it in the
// options of an object that runs on the test's io_context (handler() is what goes into
// client_options::diagnostics, server_options::diagnostics or tls::context_options).
#pragma once

#include <lanyard/core/diagnostic.hpp>

#include <cstddef>
#include <functional>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::test {

struct diagnostics_recorder {
  std::vector<core::diagnostic_record> seen;

  core::diagnostics_handler handler() {
    return [this](const core::diagnostic& d) { seen.push_back(core::diagnostic_record::from(d)); };
  }

  /// The first diagnostic with this id (and, if given, this code), or nullptr.
  const core::diagnostic_record* find(std::string_view id, std::error_code code = {}) const {
    for (const auto& r : seen)
      if (r.id == id && (!code || r.code == code)) return &r;
    return nullptr;
  }
  bool has(std::string_view id, std::error_code code = {}) const {
    return find(id, code) != nullptr;
  }
  std::size_t count(std::string_view id) const {
    std::size_t n = 0;
    for (const auto& r : seen)
      if (r.id == id) ++n;
    return n;
  }
  /// The first diagnostic with this id that also satisfies `match`, or nullptr.
  const core::diagnostic_record*
  find_if(std::string_view id,
          const std::function<bool(const core::diagnostic_record&)>& match) const {
    for (const auto& r : seen)
      if (r.id == id && match(r)) return &r;
    return nullptr;
  }
};

} // namespace lanyard::test
