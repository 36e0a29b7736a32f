// libFuzzer target for the setup payload parser: any text in, never a crash, and a payload that
// parses re-encodes (in its own version) to text that parses to the same payload. A version-2
// payload always has a setup secret and is pairable; a version-1 payload never is.
#include <lanyard/core/setup_payload.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace lanyard::core;

#define PAYLOAD_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const payload_parse_result r = parse_setup_payload(text);
  const std::string message = r.describe();
  PAYLOAD_FUZZ_CHECK(!message.empty());
  if (!r) {
    PAYLOAD_FUZZ_CHECK(r.code.category() == payload_category());
    return 0;
  }
  const bool v2 = r.payload.version == 2;
  PAYLOAD_FUZZ_CHECK(v2 || r.payload.version == 1);
  PAYLOAD_FUZZ_CHECK(r.payload.setup_secret.has_value() == v2);
  PAYLOAD_FUZZ_CHECK(!check_pairable(r.payload) == v2);
  for (auto layout : {payload_layout::compact, payload_layout::grouped}) {
    std::string encoded;
    PAYLOAD_FUZZ_CHECK(!encode_setup_payload(r.payload, encoded, layout));
    const payload_parse_result again = parse_setup_payload(encoded);
    PAYLOAD_FUZZ_CHECK(again);
    PAYLOAD_FUZZ_CHECK(again.payload == r.payload);
  }
  return 0;
}
