// The CLI's own failures that no library area reports: a bad argument or an unreadable input
// file. A Lanyard category like the others, so `--json` error objects name them the same way
// ("lanyard.cli.bad_argument") and `ec == condition::permanent` holds.
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::cli {

enum class cli_errc {
  /// An option or argument is missing, malformed or out of range (exit status 2).
  bad_argument = 1,
  /// A file named on the command line cannot be read (exit status 2).
  unreadable_input = 2,
};

const std::error_category& cli_category() noexcept;

inline std::error_code make_error_code(cli_errc e) noexcept {
  return {static_cast<int>(e), cli_category()};
}

} // namespace lanyard::cli

template <>
struct std::is_error_code_enum<lanyard::cli::cli_errc> : std::true_type {};
