// libFuzzer target for Lanyard's state-file parsers (trust store and controller store share
// their container format): any text in, never a crash, and whatever parses serialises to text
// that parses to the same records.
#include <lanyard/trust/controller_store.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace lanyard::trust;

#define STORE_FUZZ_CHECK(cond)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  std::vector<device_record> devices;
  store_status s = trust_store::parse(text, "fuzz", devices);
  if (s.failed()) {
    // Damage is an error with a location, never an empty store.
    STORE_FUZZ_CHECK(s.detail.rfind("fuzz:", 0) == 0);
  } else {
    const std::string out = trust_store::serialize(devices);
    std::vector<device_record> again;
    STORE_FUZZ_CHECK(trust_store::parse(out, "again", again).ok());
    STORE_FUZZ_CHECK(again.size() == devices.size());
    STORE_FUZZ_CHECK(trust_store::serialize(again) == out);
  }

  lanyard::core::pairing_window_state window;
  std::vector<controller_record> controllers;
  s = controller_store::parse(text, "fuzz", window, controllers);
  if (s.failed()) {
    STORE_FUZZ_CHECK(s.detail.rfind("fuzz:", 0) == 0);
  } else {
    const std::string out = controller_store::serialize(window, controllers);
    lanyard::core::pairing_window_state window2;
    std::vector<controller_record> again;
    STORE_FUZZ_CHECK(controller_store::parse(out, "again", window2, again).ok());
    STORE_FUZZ_CHECK(window2 == window);
    STORE_FUZZ_CHECK(again.size() == controllers.size());
    STORE_FUZZ_CHECK(controller_store::serialize(window2, again) == out);
  }
  return 0;
}
