// libFuzzer target for the CLI's HOST:PORT parser (split_host_port in src/cli/
// controller_setup.cpp, used by `lanyard pair --tofu/--address` and `lanyard connect
// --address`). Any text in, never a crash, and:
//  - a failure has a reason, quoting the input;
//  - a success has a port from 1 to 65535 and re-spells to the input: HOST:PORT, or
//    [HOST]:PORT when the brackets were stripped.
#include "cli/args.hpp"
#include "cli/controller_setup.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#define ENDPOINT_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string host, port, error;
  if (!lanyard::cli::split_host_port(text, host, port, error)) {
    ENDPOINT_FUZZ_CHECK(!error.empty() && error.front() == '\'');
    return 0;
  }
  std::string why;
  const auto n = lanyard::cli::parse_integer(port, 1, 65535, "port", why);
  ENDPOINT_FUZZ_CHECK(n.has_value());
  ENDPOINT_FUZZ_CHECK(text == host + ":" + port || text == "[" + host + "]:" + port);
  return 0;
}
