// libFuzzer target for the CLI's argument parser (src/cli/args.cpp): parse_args() against the
// specs of the real commands, and parse_integer() on every value it yields (ports, timeouts,
// milliseconds). Any argv in, never a crash, and:
//  - a success only holds options the spec knows, non-repeatable ones at most once, flags
//    without values, and a positional count within the spec's bounds;
//  - a failure has a reason;
//  - re-spelling a parsed result canonically ("--name=value"... "--" positionals...) parses to
//    the same result (no value or positional is lost, split or reinterpreted);
//  - a number parse_integer() accepts lies within its bounds and re-parses from its decimal
//    spelling.
//
// Input: the first byte picks the spec and the integer bounds; the rest is argv, NUL-separated.
#include "cli/args.hpp"

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace lanyard::cli;

#define ARGS_FUZZ_CHECK(cond)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

// The commands' specs (src/cli/cmd_*.cpp), plus one with a repeatable valued option and any
// number of positionals.
const arg_spec specs[] = {
    // advertise NAME TYPE PORT [TXT...]
    {{{"interface", true, false},
      {"subtype", true, true},
      {"txt-from-stdin", false, false},
      {"wait", false, false}},
     3,
     SIZE_MAX},
    // browse TYPE
    {{{"interface", true, false},
      {"timeout", true, false},
      {"json", false, false},
      {"directory", false, false},
      {"wait", false, false}},
     1,
     1},
    // monitor
    {{{"json", false, false},
      {"grace-ms", true, false},
      {"hold-down-ms", true, false},
      {"timeout", true, false}},
     0,
     0},
    // pair [PAYLOAD]
    {{{"tofu", true, false},
      {"address", true, false},
      {"trust-store", true, false},
      {"identity-dir", true, false},
      {"timeout", true, false},
      {"json", false, false}},
     0,
     1},
    // trust ACTION [ARG]
    {{{"trust-store", true, false}, {"json", false, false}}, 1, 2},
    {{{"x", true, true}, {"y", false, true}}, 0, SIZE_MAX},
};

struct bounds {
  long long min, max;
};
const bounds integer_bounds[] = {
    {1, 65535}, {0, 65535}, {1, 3600}, {0, 3'600'000}, {1, 86'400LL * 365}, {LLONG_MIN, LLONG_MAX},
};

const option_spec* find(const arg_spec& spec, std::string_view name) {
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  return nullptr;
}

void check_integer(std::string_view text, const bounds& b) {
  std::string error;
  const std::optional<long long> v = parse_integer(text, b.min, b.max, "fuzz", error);
  if (!v) {
    ARGS_FUZZ_CHECK(error.rfind("fuzz", 0) == 0);
    return;
  }
  ARGS_FUZZ_CHECK(*v >= b.min && *v <= b.max);
  std::string again_error;
  ARGS_FUZZ_CHECK(parse_integer(std::to_string(*v), b.min, b.max, "again", again_error) == v);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const arg_spec& spec = specs[data[0] % std::size(specs)];
  const bounds& ib = integer_bounds[(data[0] / std::size(specs)) % std::size(integer_bounds)];

  std::vector<std::string> argv;
  if (size > 1) {
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::size_t at = 0;
    while (true) {
      const std::size_t nul = rest.find('\0', at);
      argv.emplace_back(rest.substr(at, nul == std::string_view::npos ? rest.npos : nul - at));
      if (nul == std::string_view::npos) break;
      at = nul + 1;
    }
  }

  parsed_args out;
  std::string error;
  if (!parse_args(spec, argv, out, error)) {
    ARGS_FUZZ_CHECK(!error.empty());
    return 0;
  }
  ARGS_FUZZ_CHECK(out.positional.size() >= spec.min_positional);
  ARGS_FUZZ_CHECK(spec.max_positional == SIZE_MAX || out.positional.size() <= spec.max_positional);
  std::vector<std::string> canonical;
  for (const auto& [name, value] : out.options) {
    const option_spec* o = find(spec, name);
    ARGS_FUZZ_CHECK(o != nullptr);
    if (!o->takes_value) ARGS_FUZZ_CHECK(value.empty());
    if (!o->repeatable) ARGS_FUZZ_CHECK(out.values(name).size() == 1);
    ARGS_FUZZ_CHECK(out.has(name));
    ARGS_FUZZ_CHECK(out.value(name) == out.values(name).back());
    canonical.push_back("--" + name + (o->takes_value ? "=" + value : std::string()));
    check_integer(value, ib);
  }
  canonical.emplace_back("--");
  for (const auto& p : out.positional) {
    canonical.push_back(p);
    check_integer(p, ib);
  }

  parsed_args again;
  std::string again_error;
  ARGS_FUZZ_CHECK(parse_args(spec, canonical, again, again_error));
  ARGS_FUZZ_CHECK(again.options == out.options);
  ARGS_FUZZ_CHECK(again.positional == out.positional);
  return 0;
}
