// libFuzzer target for the manual setup code: any text in, never a crash; a code that parses is
// 8 digits with a valid Verhoeff check digit, not trivial, and formats to text that parses to
// the same code. The same bytes, taken as randomness, make a code with the same properties or
// run out (never anything else).
#include <lanyard/core/setup_code.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

using namespace lanyard::core;

#define CODE_FUZZ_CHECK(cond)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

void check_code(const setup_code& c) {
  for (char d : c.digits)
    CODE_FUZZ_CHECK(d >= '0' && d <= '9');
  CODE_FUZZ_CHECK(verhoeff_is_valid(c.view()));
  CODE_FUZZ_CHECK(!is_trivial_setup_code(c));
  const std::string text = to_string(c);
  CODE_FUZZ_CHECK(text.size() == 9 && text[4] == '-');
  const setup_code_parse_result again = parse_setup_code(text);
  CODE_FUZZ_CHECK(again);
  CODE_FUZZ_CHECK(again.value == c);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const setup_code_parse_result r = parse_setup_code(text);
  CODE_FUZZ_CHECK(!r.describe().empty());
  if (r) {
    check_code(r.value);
  } else {
    CODE_FUZZ_CHECK(r.code.category() == setup_code_category());
    if (r.code == setup_code_errc::bad_character) {
      CODE_FUZZ_CHECK(r.position < size);
      CODE_FUZZ_CHECK(text[r.position] == r.character);
    }
  }

  setup_code made;
  const std::error_code ec = make_setup_code(std::span<const std::uint8_t>(data, size), made);
  if (ec) {
    CODE_FUZZ_CHECK(ec == setup_code_errc::not_enough_random_bytes);
  } else {
    CODE_FUZZ_CHECK(size >= setup_code_bytes_per_attempt);
    check_code(made);
  }
  return 0;
}
