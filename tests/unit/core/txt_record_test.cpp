#include <lanyard/core/txt_record.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

using namespace lanyard::core;
using namespace std::string_view_literals;

// Failed checks then show "TXT key is missing: ..." instead of "{?}".
template <>
struct Catch::StringMaker<std::error_code> {
  static std::string convert(const std::error_code& ec) {
    return ec ? std::string(ec.category().name()) + ": " + ec.message() : "no error";
  }
};

namespace {

using bytes = std::vector<std::uint8_t>;

// The wire form of a list of strings: each prefixed with its length byte. Strings may hold any
// bytes (use "..."sv for embedded NULs); none may exceed 255 bytes.
bytes wire(std::initializer_list<std::string_view> strings) {
  bytes out;
  for (const std::string_view s : strings) {
    REQUIRE(s.size() <= 255);
    out.push_back(static_cast<std::uint8_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

txt_decoded strict(const bytes& b) {
  return txt_record::decode(b, txt_decode_mode::strict);
}
txt_decoded lenient(const bytes& b) {
  return txt_record::decode(b, txt_decode_mode::lenient);
}

// A record built through the public API; fails the test if any set() fails.
txt_record make_record(std::initializer_list<std::pair<std::string_view, const char*>> entries) {
  txt_record r;
  for (const auto& [key, value] : entries) {
    const std::error_code ec = value ? r.set(key, value) : r.set_flag(key);
    REQUIRE_FALSE(ec);
  }
  return r;
}

std::vector<std::string> keys_of(const txt_record& r) {
  std::vector<std::string> keys;
  for (const txt_entry& e : r) {
    keys.push_back(e.key);
  }
  return keys;
}

} // namespace

// --- error category -----------------------------------------------------------------------------

TEST_CASE("txt_errc is an error_code enum of category lanyard.txt", "[txt][error]") {
  const std::error_code ec = txt_errc::truncated; // implicit: is_error_code_enum
  CHECK(ec.value() == 1);
  CHECK(ec.category() == txt_category());
  CHECK(std::string_view(txt_category().name()) == "lanyard.txt");
  CHECK(ec == txt_errc::truncated);
  CHECK(ec != txt_errc::empty_key);
  CHECK(make_error_code(txt_errc::record_too_long) == txt_errc::record_too_long);
}

TEST_CASE("every txt_errc has its own message", "[txt][error]") {
  const txt_errc all[] = {txt_errc::truncated,       txt_errc::empty_string,
                          txt_errc::empty_key,       txt_errc::bad_key_byte,
                          txt_errc::string_too_long, txt_errc::record_too_long};
  std::vector<std::string> messages;
  for (const txt_errc e : all) {
    const std::string m = make_error_code(e).message();
    CAPTURE(m);
    CHECK(m.rfind("TXT ", 0) == 0);
    CHECK(m.find("unknown") == std::string::npos);
    messages.push_back(m);
  }
  std::sort(messages.begin(), messages.end());
  CHECK(std::adjacent_find(messages.begin(), messages.end()) == messages.end());
  CHECK(std::error_code(99, txt_category()).message() == "unknown TXT record error 99");
}

// --- keys ---------------------------------------------------------------------------------------

TEST_CASE("check_txt_key accepts printable US-ASCII except '='", "[txt][key]") {
  CHECK_FALSE(check_txt_key("id"));
  CHECK_FALSE(check_txt_key("c#"));
  CHECK_FALSE(check_txt_key(" "));      // 0x20, the lowest allowed byte
  CHECK_FALSE(check_txt_key("~"));      // 0x7E, the highest
  CHECK_FALSE(check_txt_key("a key!")); // spaces and punctuation are printable US-ASCII
  CHECK(check_txt_key("") == txt_errc::empty_key);
  CHECK(check_txt_key("a=b") == txt_errc::bad_key_byte);
  CHECK(check_txt_key("=") == txt_errc::bad_key_byte);
  CHECK(check_txt_key("\x1F") == txt_errc::bad_key_byte);
  CHECK(check_txt_key("\x7F") == txt_errc::bad_key_byte);
  CHECK(check_txt_key("\x80") == txt_errc::bad_key_byte);
  CHECK(check_txt_key("\xFF") == txt_errc::bad_key_byte);
  CHECK(check_txt_key("a\0b"sv) == txt_errc::bad_key_byte);
  CHECK(check_txt_key("caf\xC3\xA9") == txt_errc::bad_key_byte); // UTF-8 is not US-ASCII
}

TEST_CASE("txt_key_equal ignores ASCII case only", "[txt][key]") {
  CHECK(txt_key_equal("id", "ID"));
  CHECK(txt_key_equal("Md", "mD"));
  CHECK(txt_key_equal("c#", "C#"));
  CHECK(txt_key_equal("", ""));
  CHECK_FALSE(txt_key_equal("id", "idx"));
  CHECK_FALSE(txt_key_equal("id", "i"));
  CHECK_FALSE(txt_key_equal("@", "`")); // 0x40 vs 0x60: not letters, not folded
  CHECK_FALSE(txt_key_equal("[", "{"));
  CHECK_FALSE(txt_key_equal("\xC9", "\xE9")); // Latin-1 É/é: not ASCII, not folded
}

// --- building a record --------------------------------------------------------------------------

TEST_CASE("set appends in order and find ignores case", "[txt][set]") {
  txt_record r;
  CHECK(r.empty());
  CHECK_FALSE(r.set("id", "lamp-1"));
  CHECK_FALSE(r.set("pv", "1"));
  CHECK_FALSE(r.set_flag("sf"));
  CHECK(r.size() == 3);
  CHECK_FALSE(r.empty());
  CHECK(keys_of(r) == std::vector<std::string>{"id", "pv", "sf"});

  const txt_entry* id = r.find("ID");
  REQUIRE(id != nullptr);
  CHECK(id->key == "id");
  CHECK(id->value == "lamp-1");
  CHECK(r.contains("Pv"));
  CHECK(r.contains("SF"));
  CHECK_FALSE(r.contains("md"));
  CHECK(r.find("md") == nullptr);
  CHECK(r.find("") == nullptr);
}

TEST_CASE("set replaces an existing key in place, taking the new spelling", "[txt][set]") {
  txt_record r = make_record({{"id", "a"}, {"pv", "1"}, {"md", "x"}});
  CHECK_FALSE(r.set("PV", "2"));
  CHECK(r.size() == 3);
  CHECK(keys_of(r) == std::vector<std::string>{"id", "PV", "md"});
  CHECK(r.find("pv")->value == "2");

  CHECK_FALSE(r.set_flag("id")); // a value becomes a boolean attribute
  CHECK(r.find("id")->value == std::nullopt);
  CHECK_FALSE(r.set("ID", "")); // and back to an empty value
  CHECK(r.find("id")->value == "");
  CHECK(keys_of(r) == std::vector<std::string>{"ID", "PV", "md"});
}

TEST_CASE("a boolean attribute and an empty value are different", "[txt][set]") {
  txt_record flag;
  REQUIRE_FALSE(flag.set_flag("sf"));
  txt_record empty_value;
  REQUIRE_FALSE(empty_value.set("sf", ""));
  CHECK(flag.encode() == wire({"sf"}));
  CHECK(empty_value.encode() == wire({"sf="}));
  CHECK_FALSE(flag == empty_value);
  CHECK(flag.find("sf")->value == std::nullopt);
  CHECK(empty_value.find("sf")->value == std::string());
}

TEST_CASE("set validates the key and leaves the record unchanged on error", "[txt][set]") {
  txt_record r = make_record({{"id", "a"}});
  const txt_record before = r;
  CHECK(r.set("", "v") == txt_errc::empty_key);
  CHECK(r.set_flag("") == txt_errc::empty_key);
  CHECK(r.set("a=b", "v") == txt_errc::bad_key_byte);
  CHECK(r.set_flag("=") == txt_errc::bad_key_byte);
  CHECK(r.set("tab\t", "v") == txt_errc::bad_key_byte);
  CHECK(r.set("\x7F", "v") == txt_errc::bad_key_byte);
  CHECK(r.set("k\xFF", "v") == txt_errc::bad_key_byte);
  CHECK(r.set("k\0"sv, "v") == txt_errc::bad_key_byte);
  CHECK(r == before);
}

TEST_CASE("a string of 255 bytes is accepted, 256 is string_too_long", "[txt][set][limits]") {
  txt_record r;
  // "k" + "=" + 253 bytes = 255.
  CHECK_FALSE(r.set("k", std::string(253, 'v')));
  CHECK(r.encoded_size() == 256);
  CHECK(r.set("k", std::string(254, 'v')) == txt_errc::string_too_long);
  CHECK(r.find("k")->value->size() == 253); // unchanged after the failed replace
  CHECK(r.set("other", std::string(250, 'v')) == txt_errc::string_too_long);
  CHECK(r.size() == 1);

  CHECK_FALSE(r.set_flag(std::string(255, 'f')));
  CHECK(r.set_flag(std::string(256, 'g')) == txt_errc::string_too_long);
  // A key that is too long and invalid reports the invalid byte: fix that first.
  CHECK(r.set_flag(std::string(256, '=')) == txt_errc::bad_key_byte);

  const txt_decoded d = strict(r.encode());
  REQUIRE(d);
  CHECK(d.record == r);
}

TEST_CASE("a record of 65535 bytes is accepted, one byte more is record_too_long",
          "[txt][set][limits]") {
  txt_record r;
  // 255 strings of 255 bytes take 255 * 256 = 65280 bytes on the wire...
  for (int i = 0; i < 255; ++i) {
    std::string key = "k" + std::to_string(1000 + i); // 5 bytes, unique
    REQUIRE_FALSE(r.set(key, std::string(249, 'v')));
  }
  CHECK(r.encoded_size() == 65280);
  // ...and one string of 254 bytes fills the remaining 255 exactly.
  CHECK_FALSE(r.set("last", std::string(249, 'v')));
  CHECK(r.encoded_size() == txt_max_record_size);

  const txt_record full = r;
  CHECK(r.set_flag("z") == txt_errc::record_too_long);
  CHECK(r.set("last", std::string(250, 'v')) == txt_errc::record_too_long); // growing in place
  CHECK(r == full);
  CHECK_FALSE(r.set("last", std::string(248, 'v')));   // shrinking in place is fine...
  CHECK(r.set_flag("z") == txt_errc::record_too_long); // ...but 1 free byte can't hold "z"
  CHECK_FALSE(r.set("last", std::string(247, 'v')));
  CHECK_FALSE(r.set_flag("z")); // 2 free bytes hold it exactly
  CHECK(r.encoded_size() == txt_max_record_size);

  const bytes encoded = full.encode();
  CHECK(encoded.size() == txt_max_record_size);
  const txt_decoded d = strict(encoded);
  REQUIRE(d);
  CHECK(d.record == full);
}

TEST_CASE("set takes binary values", "[txt][set]") {
  const std::uint8_t fingerprint[] = {0x00, 0xFF, '=', 0x00, 0x80, 0x0A};
  txt_record r;
  CHECK_FALSE(r.set("fp", std::span<const std::uint8_t>(fingerprint)));
  CHECK(r.find("fp")->value == std::string("\x00\xFF=\x00\x80\x0A"sv));
  CHECK(r.encode() == wire({"fp=\x00\xFF=\x00\x80\x0A"sv}));
  CHECK_FALSE(r.set("nul", "\0\0"sv));
  CHECK(r.find("nul")->value->size() == 2);
}

TEST_CASE("erase removes a key ignoring case and keeps the order of the rest", "[txt][erase]") {
  txt_record r = make_record({{"a", "1"}, {"b", nullptr}, {"c", "3"}});
  CHECK(r.erase("B"));
  CHECK_FALSE(r.erase("b"));
  CHECK_FALSE(r.erase("zz"));
  CHECK(keys_of(r) == std::vector<std::string>{"a", "c"});
  r.clear();
  CHECK(r.empty());
  CHECK(r.encode() == bytes{0});
}

TEST_CASE("operator== compares entries, order and key spelling", "[txt]") {
  const txt_record ab = make_record({{"a", "1"}, {"b", "2"}});
  CHECK(ab == make_record({{"a", "1"}, {"b", "2"}}));
  CHECK_FALSE(ab == make_record({{"b", "2"}, {"a", "1"}}));
  CHECK_FALSE(ab == make_record({{"A", "1"}, {"b", "2"}}));
  CHECK_FALSE(ab == make_record({{"a", "1"}, {"b", "3"}}));
  CHECK_FALSE(ab == make_record({{"a", "1"}}));
  CHECK(txt_record() == txt_record());
}

// --- encoding -----------------------------------------------------------------------------------

TEST_CASE("the empty record encodes as a single zero byte", "[txt][encode]") {
  const txt_record r;
  CHECK(r.encode() == bytes{0});
  CHECK(r.encoded_size() == 1);
}

TEST_CASE("encode writes length-prefixed strings in order", "[txt][encode]") {
  const txt_record r =
      make_record({{"id", "lamp-1"}, {"pv", "1"}, {"sf", nullptr}, {"md", ""}, {"c#", "7"}});
  const bytes expected = wire({"id=lamp-1", "pv=1", "sf", "md=", "c#=7"});
  CHECK(r.encode() == expected);
  CHECK(r.encoded_size() == expected.size());
}

TEST_CASE("encode_to appends to what the buffer holds", "[txt][encode]") {
  const txt_record r = make_record({{"a", "1"}});
  bytes out{0xAA, 0xBB};
  r.encode_to(out);
  CHECK(out == bytes{0xAA, 0xBB, 3, 'a', '=', '1'});
  txt_record().encode_to(out);
  CHECK(out.back() == 0);
  CHECK(out.size() == 7);
}

// --- decoding -----------------------------------------------------------------------------------

TEST_CASE("an empty input and a single zero byte both decode to the empty record",
          "[txt][decode]") {
  for (const txt_decode_mode mode : {txt_decode_mode::strict, txt_decode_mode::lenient}) {
    const txt_decoded from_nothing = txt_record::decode({}, mode);
    REQUIRE(from_nothing);
    CHECK(from_nothing.record.empty());
    const txt_decoded from_zero = txt_record::decode(bytes{0}, mode);
    REQUIRE(from_zero);
    CHECK(from_zero.record.empty());
    CHECK(from_zero.skipped == 0);
  }
}

TEST_CASE("decode splits key and value at the first '='", "[txt][decode]") {
  const txt_decoded ok = strict(wire({"a=b=c", "flag", "empty=", "k==v"}));
  REQUIRE(ok);
  REQUIRE(ok.record.size() == 4);
  CHECK(ok.record.find("a")->value == "b=c");
  CHECK(ok.record.find("flag")->value == std::nullopt);
  CHECK(ok.record.find("empty")->value == "");
  CHECK(ok.record.find("k")->value == "=v");
}

TEST_CASE("decode round-trips boolean, empty, binary and maximal values in order",
          "[txt][decode][roundtrip]") {
  txt_record r;
  REQUIRE_FALSE(r.set("zz", "last-key-first"));
  REQUIRE_FALSE(r.set_flag("bool"));
  REQUIRE_FALSE(r.set("empty", ""));
  REQUIRE_FALSE(r.set("bin", "\x00\xFF\x00=\r\n\x80"sv));
  REQUIRE_FALSE(r.set("max", std::string(251, '\xFF'))); // "max=" + 251 = 255 bytes
  REQUIRE_FALSE(r.set("Mixed Case Key", "v"));
  REQUIRE_FALSE(r.set_flag(" ~")); // the extreme printable bytes

  const bytes encoded = r.encode();
  for (const txt_decode_mode mode : {txt_decode_mode::strict, txt_decode_mode::lenient}) {
    const txt_decoded d = txt_record::decode(encoded, mode);
    REQUIRE(d);
    CHECK(d.skipped == 0);
    CHECK(d.duplicates == 0);
    CHECK(d.record == r);
    CHECK(keys_of(d.record) ==
          std::vector<std::string>{"zz", "bool", "empty", "bin", "max", "Mixed Case Key", " ~"});
    CHECK(d.record.encode() == encoded);
  }
}

TEST_CASE("decode keeps the first occurrence of a key in both modes", "[txt][decode]") {
  const bytes in = wire({"id=first", "pv=1", "ID=second", "Id", "pv=2", "md=m"});
  for (const txt_decode_mode mode : {txt_decode_mode::strict, txt_decode_mode::lenient}) {
    const txt_decoded d = txt_record::decode(in, mode);
    REQUIRE(d);
    CHECK(d.duplicates == 3);
    CHECK(keys_of(d.record) == std::vector<std::string>{"id", "pv", "md"});
    CHECK(d.record.find("ID")->value == "first");
    CHECK(d.record.find("pv")->value == "1");
  }
  // A boolean first occurrence wins over a later value, too.
  const txt_decoded d = strict(wire({"sf", "sf=1"}));
  REQUIRE(d);
  CHECK(d.record.find("sf")->value == std::nullopt);
  CHECK(d.record.encode() == wire({"sf"}));
}

TEST_CASE("first occurrence wins across many interleaved keys", "[txt][decode]") {
  // Enough strings to exercise the sort-based de-duplication beyond trivial sizes.
  std::vector<std::string> strings;
  for (int round = 0; round < 5; ++round) {
    for (int k = 0; k < 200; ++k) {
      std::string key = "k" + std::to_string(k);
      if (round % 2 == 1) {
        key[0] = 'K';
      }
      strings.push_back(key + "=" + std::to_string(round));
    }
  }
  bytes in;
  for (const std::string& s : strings) {
    in.push_back(static_cast<std::uint8_t>(s.size()));
    in.insert(in.end(), s.begin(), s.end());
  }
  const txt_decoded d = strict(in);
  REQUIRE(d);
  CHECK(d.record.size() == 200);
  CHECK(d.duplicates == 800);
  std::size_t k = 0;
  for (const txt_entry& e : d.record) {
    CHECK(e.key == "k" + std::to_string(k++));
    CHECK(e.value == "0");
  }
}

TEST_CASE("strict decode: truncated", "[txt][decode][strict]") {
  // Second string at byte 5 claims 40 bytes; 4 are left.
  const bytes in = {4, 'i', 'd', '=', '1', 40, 'a', 'b', 'c', 'd'};
  for (const txt_decode_mode mode : {txt_decode_mode::strict, txt_decode_mode::lenient}) {
    const txt_decoded d = txt_record::decode(in, mode);
    REQUIRE_FALSE(d);
    CHECK(d.error.code == txt_errc::truncated);
    CHECK(d.error.string_index == 1);
    CHECK(d.error.offset == 5);
    CHECK(d.error.length == 40);
    CHECK(d.error.record_size == 10);
    CHECK(d.record.empty());
    CHECK(d.error.describe() ==
          "TXT string 2 at byte 5: length 40 runs past the end of the record (4 bytes left)");
  }
  // A length byte with nothing after it.
  const txt_decoded last = strict(bytes{1});
  CHECK(last.error.code == txt_errc::truncated);
  CHECK(last.error.describe() ==
        "TXT string 1 at byte 0: length 1 runs past the end of the record (0 bytes left)");
}

TEST_CASE("strict decode: empty_string", "[txt][decode][strict]") {
  const txt_decoded d = strict(wire({"a=1", "", "b=2"}));
  REQUIRE_FALSE(d);
  CHECK(d.error.code == txt_errc::empty_string);
  CHECK(d.error.string_index == 1);
  CHECK(d.error.offset == 4);
  CHECK(d.error.describe() == "TXT string 2 at byte 4 is empty: only the empty record (a single "
                              "zero byte) may hold an empty string");
  CHECK(strict(bytes{0, 0}).error.code == txt_errc::empty_string);
  CHECK(strict(wire({"a", ""})).error.code == txt_errc::empty_string);
}

TEST_CASE("strict decode: empty_key", "[txt][decode][strict]") {
  for (const std::string_view bad : {"=value"sv, "="sv, "=="sv}) {
    const txt_decoded d = strict(wire({"ok", bad}));
    REQUIRE_FALSE(d);
    CHECK(d.error.code == txt_errc::empty_key);
    CHECK(d.error.string_index == 1);
    CHECK(d.error.offset == 3);
    CHECK(d.error.length == bad.size());
  }
  CHECK(strict(wire({"=x"})).error.describe() ==
        "TXT string 1 at byte 0 has no key (it starts with '='); RFC 6763 section 6.4 says to "
        "ignore such strings, which lenient decoding does");
}

TEST_CASE("strict decode: bad_key_byte", "[txt][decode][strict]") {
  const txt_decoded d = strict(wire({"id=1", "ca\x80l=x"}));
  REQUIRE_FALSE(d);
  CHECK(d.error.code == txt_errc::bad_key_byte);
  CHECK(d.error.string_index == 1);
  CHECK(d.error.offset == 5);
  CHECK(d.error.bad_offset == 8);
  CHECK(d.error.bad_byte == 0x80);
  CHECK(d.error.describe() ==
        "TXT string 2 at byte 5: key byte 0x80 at byte 8 is not printable US-ASCII (0x20-0x7E)");

  for (const std::string_view key : {"\x1F"sv, "\x7F"sv, "\xFF"sv, "a\0"sv, "\t"sv}) {
    CAPTURE(key);
    CHECK(strict(wire({key})).error.code == txt_errc::bad_key_byte);
    // The same byte in a value is fine: values are binary.
    CHECK(strict(wire({std::string("k=") + std::string(key)})));
  }
}

TEST_CASE("decode: record_too_long", "[txt][decode]") {
  bytes in;
  while (in.size() < txt_max_record_size + 1) {
    in.push_back(1);
    in.push_back('a');
  }
  in.resize(txt_max_record_size + 1);
  for (const txt_decode_mode mode : {txt_decode_mode::strict, txt_decode_mode::lenient}) {
    const txt_decoded d = txt_record::decode(in, mode);
    REQUIRE_FALSE(d);
    CHECK(d.error.code == txt_errc::record_too_long);
    CHECK(d.error.record_size == 65536);
    CHECK(d.error.describe() == "TXT record of 65536 bytes exceeds the DNS limit of 65535 bytes");
  }
}

TEST_CASE("lenient decode skips strings without a usable key and counts them",
          "[txt][decode][lenient]") {
  const bytes in = wire({"=orphan", "id=1", "", "caf\xC3\xA9=x", "=", "pv=2", "\x01=y"});
  const txt_decoded d = lenient(in);
  REQUIRE(d);
  CHECK(d.skipped == 5);
  CHECK(d.duplicates == 0);
  CHECK(keys_of(d.record) == std::vector<std::string>{"id", "pv"});
  CHECK_FALSE(strict(in));

  const txt_decoded all_skipped = lenient(bytes{0, 0, 0});
  REQUIRE(all_skipped);
  CHECK(all_skipped.skipped == 3);
  CHECK(all_skipped.record.empty());
}

TEST_CASE("every prefix of a valid record decodes to a prefix or reports truncation",
          "[txt][decode][truncation]") {
  const txt_record r = make_record(
      {{"id", "lamp-1"}, {"sf", nullptr}, {"md", ""}, {"fp", "\x01\x02"}, {"c#", "12"}});
  const bytes full = r.encode();
  // Offsets where each string starts, and the record holding the first n entries.
  std::vector<std::size_t> starts;
  for (std::size_t at = 0; at < full.size(); at += 1 + full[at]) {
    starts.push_back(at);
  }
  REQUIRE(starts.size() == r.size());

  for (std::size_t cut = 0; cut <= full.size(); ++cut) {
    CAPTURE(cut);
    // An exactly sized heap copy, so a sanitizer build catches any read past the end.
    const bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    for (const txt_decode_mode mode : {txt_decode_mode::strict, txt_decode_mode::lenient}) {
      const txt_decoded d = txt_record::decode(prefix, mode);
      const auto boundary = std::find(starts.begin(), starts.end(), cut);
      if (cut == full.size() || boundary != starts.end()) {
        REQUIRE(d);
        const std::size_t n =
            cut == full.size() ? r.size() : static_cast<std::size_t>(boundary - starts.begin());
        REQUIRE(d.record.size() == n);
        CHECK(std::equal(d.record.begin(), d.record.end(), r.begin()));
      } else {
        REQUIRE_FALSE(d);
        CHECK(d.error.code == txt_errc::truncated);
        // The cut string is the last one that starts before the cut.
        const auto cut_string = std::upper_bound(starts.begin(), starts.end(), cut) - 1;
        CHECK(d.error.offset == *cut_string);
        CHECK(d.error.string_index == static_cast<std::size_t>(cut_string - starts.begin()));
        CHECK(d.error.record_size == cut);
      }
    }
  }
}

TEST_CASE("describe covers success and foreign categories", "[txt][error]") {
  txt_error_detail detail;
  CHECK_FALSE(detail);
  CHECK(detail.describe() == "no error");
  detail.code = std::make_error_code(std::errc::invalid_argument);
  CHECK(detail);
  CHECK(detail.describe() == detail.code.message());
  detail = {};
  detail.code = txt_errc::string_too_long;
  detail.string_index = 2;
  detail.offset = 9;
  CHECK(detail.describe() == "TXT string 3 at byte 9 is longer than 255 bytes");
}

// --- txt_reader ---------------------------------------------------------------------------------

static_assert(std::input_iterator<txt_reader::iterator>);
static_assert(std::sentinel_for<std::default_sentinel_t, txt_reader::iterator>);

TEST_CASE("txt_reader yields every string in wire order with its position", "[txt][reader]") {
  const bytes in = wire({"id=1", "sf", "ID=2", "md="});
  txt_reader reader(in);
  std::vector<txt_string_view> seen;
  for (const txt_string_view& s : reader) {
    seen.push_back(s);
  }
  CHECK_FALSE(reader.error());
  REQUIRE(seen.size() == 4); // the reader does not drop duplicates
  CHECK(seen[0].key == "id");
  CHECK(seen[0].value == "1"sv);
  CHECK(seen[0].index == 0);
  CHECK(seen[0].offset == 0);
  CHECK(seen[1].key == "sf");
  CHECK_FALSE(seen[1].value.has_value());
  CHECK(seen[1].offset == 5);
  CHECK(seen[2].key == "ID");
  CHECK(seen[2].index == 2);
  CHECK(seen[3].value == ""sv);
  // Views point into the input: nothing was copied.
  CHECK(seen[0].key.data() == reinterpret_cast<const char*>(in.data() + 1));
}

TEST_CASE("txt_reader::next stops on an error and stays stopped", "[txt][reader]") {
  const bytes in = {2, 'o', 'k', 9, 'x'};
  txt_reader reader(in);
  txt_string_view s;
  REQUIRE(reader.next(s));
  CHECK(s.key == "ok");
  CHECK_FALSE(reader.next(s));
  CHECK(reader.error().code == txt_errc::truncated);
  CHECK(reader.error().string_index == 1);
  CHECK(reader.error().offset == 3);
  CHECK_FALSE(reader.next(s));
  CHECK(reader.error().code == txt_errc::truncated);
}

TEST_CASE("txt_reader in lenient mode skips and counts", "[txt][reader]") {
  const bytes in = wire({"=x", "a", "", "\x7F", "b=2"});
  txt_reader reader(in, txt_decode_mode::lenient);
  std::vector<std::size_t> indices;
  for (const txt_string_view& s : reader) {
    indices.push_back(s.index);
  }
  CHECK_FALSE(reader.error());
  CHECK(reader.skipped() == 3);
  CHECK(indices == std::vector<std::size_t>{1, 4});

  txt_reader strict_reader(in);
  CHECK(strict_reader.begin() == strict_reader.end());
  CHECK(strict_reader.error().code == txt_errc::empty_key);
  CHECK(strict_reader.skipped() == 0);
}

TEST_CASE("txt_reader on the empty record and on no bytes yields nothing", "[txt][reader]") {
  const bytes zero{0};
  txt_reader a(zero);
  CHECK(a.begin() == a.end());
  CHECK_FALSE(a.error());
  txt_reader b(std::span<const std::uint8_t>{});
  CHECK(b.begin() == b.end());
  CHECK_FALSE(b.error());
}

TEST_CASE("a first-match lookup with txt_reader agrees with decode", "[txt][reader]") {
  const bytes in = wire({"pv=1", "ID=abc", "id=def"});
  std::optional<std::string_view> id;
  txt_reader reader(in);
  for (const txt_string_view& s : reader) {
    if (txt_key_equal(s.key, "id")) {
      id = s.value;
      break;
    }
  }
  REQUIRE(id);
  CHECK(*id == "abc");
  CHECK(strict(in).record.find("id")->value == std::string(*id));
}

TEST_CASE("a decoded record can be modified and re-encoded", "[txt][decode][set]") {
  txt_decoded d = strict(wire({"id=1", "ID=2", "pv=1"}));
  REQUIRE(d);
  CHECK_FALSE(d.record.set("Id", "3")); // replaces the surviving first occurrence
  CHECK(d.record.encode() == wire({"Id=3", "pv=1"}));
}
