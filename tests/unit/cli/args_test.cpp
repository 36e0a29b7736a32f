#include "cli/args.hpp"

#include <catch2/catch.hpp>

using lanyard::cli::arg_spec;
using lanyard::cli::parse_args;
using lanyard::cli::parse_integer;
using lanyard::cli::parsed_args;

namespace {

const arg_spec browse_spec{{{"json"}, {"timeout", true}, {"interface", true}}, 1, 1};

bool parse(const arg_spec& spec, std::vector<std::string> argv, parsed_args& out,
           std::string& error) {
  return parse_args(spec, argv, out, error);
}

} // namespace

TEST_CASE("options with values, flags and positionals", "[cli]") {
  parsed_args out;
  std::string error;
  REQUIRE(parse(browse_spec, {"_lanyard._tcp", "--json", "--timeout", "5", "--interface=wlan0"},
                out, error));
  CHECK(out.positional == std::vector<std::string>{"_lanyard._tcp"});
  CHECK(out.has("json"));
  CHECK(out.value("timeout") == "5");
  CHECK(out.value("interface") == "wlan0");
  CHECK_FALSE(out.value("missing").has_value());
}

TEST_CASE("double dash ends options", "[cli]") {
  parsed_args out;
  std::string error;
  arg_spec any{{{"json"}}, 0, SIZE_MAX};
  REQUIRE(parse(any, {"--", "--json"}, out, error));
  CHECK_FALSE(out.has("json"));
  CHECK(out.positional == std::vector<std::string>{"--json"});
}

// Usage errors are for people only (the CLI exits 2 with lanyard.cli.bad_argument; no program
// reads the sentence), so each kind keeps its one golden sentence (error-model §4.C).
TEST_CASE("errors name the argument", "[cli]") {
  parsed_args out;
  std::string error;
  CHECK_FALSE(parse(browse_spec, {"_x._tcp", "--bogus"}, out, error));
  CHECK(error == "unknown option --bogus (see --help)");
  CHECK_FALSE(parse(browse_spec, {"_x._tcp", "--timeout"}, out, error));
  CHECK(error == "option --timeout needs a value");
  CHECK_FALSE(parse(browse_spec, {"_x._tcp", "--json=yes"}, out, error));
  CHECK(error == "option --json takes no value");
  CHECK_FALSE(parse(browse_spec, {"_x._tcp", "--json", "--json"}, out, error));
  CHECK(error == "option --json given twice");
  CHECK_FALSE(parse(browse_spec, {}, out, error));
  CHECK(error == "missing argument(s): expected at least 1, got 0 (see --help)");
  CHECK_FALSE(parse(browse_spec, {"a", "b"}, out, error));
  CHECK(error == "unexpected argument 'b' (see --help)");
}

TEST_CASE("repeatable options keep every value", "[cli]") {
  arg_spec spec{{{"prefer", true, true}}, 0, 0};
  parsed_args out;
  std::string error;
  REQUIRE(parse(spec, {"--prefer", "wifi", "--prefer=p2p"}, out, error));
  CHECK(out.values("prefer") == std::vector<std::string>{"wifi", "p2p"});
  CHECK(out.value("prefer") == "p2p");
}

TEST_CASE("integers are checked for form and range", "[cli]") {
  std::string error;
  CHECK(parse_integer("42", 1, 100, "--timeout", error) == 42);
  CHECK_FALSE(parse_integer("4x", 1, 100, "--timeout", error));
  CHECK(error == "--timeout: '4x' is not a whole number");
  CHECK_FALSE(parse_integer("0", 1, 100, "--timeout", error));
  CHECK(error == "--timeout: 0 is outside 1..100");
  CHECK_FALSE(parse_integer("", 1, 100, "--timeout", error));
}
