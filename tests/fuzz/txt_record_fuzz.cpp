// libFuzzer target for the TXT record codec: any bytes in, never a crash, and the properties
// below hold (a violated property aborts, which libFuzzer reports as a crash).
#include <lanyard/core/txt_record.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

using namespace lanyard::core;

#define TXT_FUZZ_CHECK(cond)                                                                       \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

// Walks the input with txt_reader and checks it agrees with decode(): same outcome, same error,
// and the strings it yields minus later duplicates are the decoded entries.
void check_reader(std::span<const std::uint8_t> data, txt_decode_mode mode,
                  const txt_decoded& decoded) {
  txt_reader reader(data, mode);
  std::size_t yielded = 0;
  std::size_t previous_index = 0;
  for (const txt_string_view& s : reader) {
    TXT_FUZZ_CHECK(!check_txt_key(s.key));
    TXT_FUZZ_CHECK(yielded == 0 || s.index > previous_index);
    TXT_FUZZ_CHECK(s.offset < data.size());
    // Views must lie inside the input.
    const auto* begin = reinterpret_cast<const char*>(data.data());
    TXT_FUZZ_CHECK(s.key.data() > begin && s.key.data() + s.key.size() <= begin + data.size());
    if (decoded) {
      const txt_entry* e = decoded.record.find(s.key);
      TXT_FUZZ_CHECK(e != nullptr);
    }
    previous_index = s.index;
    ++yielded;
  }
  TXT_FUZZ_CHECK(reader.error().code == decoded.error.code);
  TXT_FUZZ_CHECK(reader.error().offset == decoded.error.offset);
  if (decoded) {
    TXT_FUZZ_CHECK(reader.skipped() == decoded.skipped);
    TXT_FUZZ_CHECK(yielded == decoded.record.size() + decoded.duplicates);
  }
}

// decode(encode(r)) == r, and encoding is canonical: re-encoding gives the same bytes.
void check_round_trip(const txt_record& record, std::size_t input_size) {
  const std::vector<std::uint8_t> encoded = record.encode();
  TXT_FUZZ_CHECK(encoded.size() == record.encoded_size());
  TXT_FUZZ_CHECK(encoded.size() <= std::max<std::size_t>(input_size, 1));
  const txt_decoded again = txt_record::decode(encoded, txt_decode_mode::strict);
  TXT_FUZZ_CHECK(again);
  TXT_FUZZ_CHECK(again.skipped == 0 && again.duplicates == 0);
  TXT_FUZZ_CHECK(again.record == record);
  TXT_FUZZ_CHECK(again.record.encode() == encoded);

  // Rebuilding the record through set()/set_flag() must be accepted and give the same record:
  // whatever decode() yields obeys the rules the setters enforce.
  txt_record rebuilt;
  for (const txt_entry& e : record) {
    TXT_FUZZ_CHECK(record.find(e.key) == &e);
    const std::error_code ec = e.value ? rebuilt.set(e.key, *e.value) : rebuilt.set_flag(e.key);
    TXT_FUZZ_CHECK(!ec);
  }
  TXT_FUZZ_CHECK(rebuilt == record);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);

  const txt_decoded strict = txt_record::decode(input, txt_decode_mode::strict);
  const txt_decoded lenient = txt_record::decode(input, txt_decode_mode::lenient);
  check_reader(input, txt_decode_mode::strict, strict);
  check_reader(input, txt_decode_mode::lenient, lenient);

  for (const txt_decoded* d : {&strict, &lenient}) {
    TXT_FUZZ_CHECK(!d->error.describe().empty());
    if (*d) {
      check_round_trip(d->record, size);
    } else {
      TXT_FUZZ_CHECK(d->record.empty());
      TXT_FUZZ_CHECK(d->error.code.category() == txt_category());
    }
  }

  // Lenient accepts everything strict accepts, identically; it only fails where nothing can be
  // recovered.
  if (strict) {
    TXT_FUZZ_CHECK(lenient && lenient.record == strict.record && lenient.skipped == 0);
  }
  if (!lenient) {
    TXT_FUZZ_CHECK(lenient.error.code == txt_errc::truncated ||
                   lenient.error.code == txt_errc::record_too_long);
    TXT_FUZZ_CHECK(!strict);
  }
  return 0;
}
