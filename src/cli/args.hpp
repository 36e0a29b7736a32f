// A small, strict argument parser for the CLI: unknown options, missing values and stray
// arguments are errors that name the argument, never silently ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::cli {

struct option_spec {
  std::string_view name; // without the leading "--"
  bool takes_value = false;
  bool repeatable = false;
};

struct arg_spec {
  std::vector<option_spec> options;
  std::size_t min_positional = 0;
  std::size_t max_positional = 0; // SIZE_MAX: any number
};

struct parsed_args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options; // name → value ("" for flags)

  bool has(std::string_view name) const;
  /// The last value given for `name`, if any.
  std::optional<std::string> value(std::string_view name) const;
  std::vector<std::string> values(std::string_view name) const;
};

/// Parses `argv` (without the program and command names) against `spec`. "--name=value" and
/// "--name value" are both accepted; "--" ends options. On error returns false and sets
/// `error` to a one-line reason.
bool parse_args(const arg_spec& spec, const std::vector<std::string>& argv, parsed_args& out,
                std::string& error);

/// Parses a number in [min, max] for option `what`; on error sets a one-line reason.
std::optional<long long> parse_integer(std::string_view text, long long min, long long max,
                                       std::string_view what, std::string& error);

} // namespace lanyard::cli
