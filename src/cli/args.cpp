#include "args.hpp"

#include <charconv>
#include <cstdint>

namespace lanyard::cli {

bool parsed_args::has(std::string_view name) const {
  for (const auto& [n, v] : options)
    if (n == name) return true;
  return false;
}

std::optional<std::string> parsed_args::value(std::string_view name) const {
  std::optional<std::string> found;
  for (const auto& [n, v] : options)
    if (n == name) found = v;
  return found;
}

std::vector<std::string> parsed_args::values(std::string_view name) const {
  std::vector<std::string> found;
  for (const auto& [n, v] : options)
    if (n == name) found.push_back(v);
  return found;
}

namespace {

const option_spec* find_option(const arg_spec& spec, std::string_view name) {
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

} // namespace

bool parse_args(const arg_spec& spec, const std::vector<std::string>& argv, parsed_args& out,
                std::string& error) {
  out = {};
  bool options_done = false;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_done || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      out.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::string_view body = std::string_view(arg).substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = body.find('='); eq != std::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const option_spec* o = find_option(spec, body);
    if (o == nullptr) {
      error = "unknown option --" + std::string(body) + " (see --help)";
      return false;
    }
    if (!o->repeatable && out.has(o->name)) {
      error = "option --" + std::string(body) + " given twice";
      return false;
    }
    if (!o->takes_value) {
      if (inline_value) {
        error = "option --" + std::string(body) + " takes no value";
        return false;
      }
      out.options.emplace_back(std::string(body), std::string());
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) {
        error = "option --" + std::string(body) + " needs a value";
        return false;
      }
      inline_value = argv[++i];
    }
    out.options.emplace_back(std::string(body), std::move(*inline_value));
  }
  if (out.positional.size() < spec.min_positional) {
    error = "missing argument(s): expected at least " + std::to_string(spec.min_positional) +
            ", got " + std::to_string(out.positional.size()) + " (see --help)";
    return false;
  }
  if (spec.max_positional != SIZE_MAX && out.positional.size() > spec.max_positional) {
    error = "unexpected argument '" + out.positional[spec.max_positional] + "' (see --help)";
    return false;
  }
  return true;
}

std::optional<long long> parse_integer(std::string_view text, long long min, long long max,
                                       std::string_view what, std::string& error) {
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    error = std::string(what) + ": '" + std::string(text) + "' is not a whole number";
    return std::nullopt;
  }
  if (v < min || v > max) {
    error = std::string(what) + ": " + std::string(text) + " is outside " + std::to_string(min) +
            ".." + std::to_string(max);
    return std::nullopt;
  }
  return v;
}

} // namespace lanyard::cli
