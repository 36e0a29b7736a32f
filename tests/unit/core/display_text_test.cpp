// core::display_text: what a peer sent, made safe for a terminal or a log line. Control bytes
// and invalid UTF-8 become \xNN, C1/bidi/invisible code points \u{XXXX}, readable text in any
// script stays as it is, and the output is cut at max_bytes with "...".
#include "lanyard/core/display_text.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>

using lanyard::core::display_text;

namespace {

std::string hex2(unsigned v) {
  constexpr char digits[] = "0123456789abcdef";
  return std::string{'\\', 'x', digits[(v >> 4) & 0xf], digits[v & 0xf]};
}

} // namespace

TEST_CASE("printable ASCII passes, backslash doubles", "[core][display_text]") {
  CHECK(display_text("") == "");
  CHECK(display_text("Anna's phone (2) ~!@#$%^&*") == "Anna's phone (2) ~!@#$%^&*");
  std::string printable;
  for (int c = 0x20; c < 0x7f; ++c)
    if (c != '\\') printable.push_back(static_cast<char>(c));
  CHECK(display_text(printable) == printable);
  CHECK(display_text("\\") == "\\\\");
  CHECK(display_text("a\\x1b") == "a\\\\x1b"); // a literal "\x1b" cannot pass for an escape
  CHECK(display_text("\\\\") == "\\\\\\\\");
}

TEST_CASE("ESC, other C0 controls and DEL become \\xNN", "[core][display_text]") {
  CHECK(display_text("\x1b[2J\x1b]0;owned\x07") == "\\x1b[2J\\x1b]0;owned\\x07");
  CHECK(display_text("line\nbreak\r\ttab") == "line\\x0abreak\\x0d\\x09tab");
  CHECK(display_text(std::string_view("a\0b", 3)) == "a\\x00b");
  CHECK(display_text("\x7f") == "\\x7f");
  for (unsigned c = 0; c < 0x20; ++c) {
    const char ch = static_cast<char>(c);
    CHECK(display_text(std::string_view(&ch, 1)) == hex2(c));
  }
}

TEST_CASE("C1 controls become \\u{0080}..\\u{009f}", "[core][display_text]") {
  CHECK(display_text("\xc2\x80") == "\\u{0080}");
  CHECK(display_text("\xc2\x9b"
                     "31m") == "\\u{009b}31m"); // CSI: the one-code-point ESC [
  CHECK(display_text("\xc2\x9f") == "\\u{009f}");
  for (unsigned c = 0x80; c <= 0x9f; ++c) {
    const char s[] = {static_cast<char>(0xc2), static_cast<char>(c), 0};
    CHECK(display_text(s) == "\\u{00" + hex2(c).substr(2) + "}");
  }
  // U+00A0 (NO-BREAK SPACE) and beyond are text.
  CHECK(display_text("\xc2\xa0") == "\xc2\xa0");
  CHECK(display_text("\xc2\xa9 2024") == "\xc2\xa9 2024");
}

TEST_CASE("bidirectional and invisible format characters become \\u{XXXX}",
          "[core][display_text]") {
  // "evil" + RLO + "txt.exe" would show as "evilexe.txt".
  CHECK(display_text("evil\xe2\x80\xae"
                     "txt.exe") == "evil\\u{202e}txt.exe");
  CHECK(display_text("\xd8\x9c") == "\\u{061c}");                          // ARABIC LETTER MARK
  CHECK(display_text("\xe2\x80\x8e\xe2\x80\x8f") == "\\u{200e}\\u{200f}"); // LRM, RLM
  CHECK(display_text("\xe2\x80\xaa") == "\\u{202a}");                      // LRE
  CHECK(display_text("\xe2\x81\xa6\xe2\x81\xa9") == "\\u{2066}\\u{2069}"); // LRI, PDI
  CHECK(display_text("\xe2\x80\xa8\xe2\x80\xa9") == "\\u{2028}\\u{2029}"); // LS, PS
  CHECK(display_text("\xef\xbb\xbf"
                     "name") == "\\u{feff}name"); // BOM / ZWNBSP
  // Their neighbours are ordinary text.
  CHECK(display_text("\xe2\x80\xa9\xe2\x80\xaf") == "\\u{2029}\xe2\x80\xaf");
  CHECK(display_text("\xe2\x81\xa5") == "\xe2\x81\xa5");
}

TEST_CASE("valid UTF-8 in any script passes unchanged", "[core][display_text]") {
  CHECK(display_text("K\xc3\xbc"
                     "che") == "K\xc3\xbc"
                               "che");                                           // Küche
  CHECK(display_text("\xe5\x8f\xb0\xe6\x89\x80") == "\xe5\x8f\xb0\xe6\x89\x80"); // 台所
  CHECK(display_text("\xd0\x9a\xd1\x83\xd1\x85\xd0\xbd\xd1\x8f") ==
        "\xd0\x9a\xd1\x83\xd1\x85\xd0\xbd\xd1\x8f");                       // Кухня
  CHECK(display_text("\xf0\x9f\x92\xa1 lamp") == "\xf0\x9f\x92\xa1 lamp"); // U+1F4A1
  CHECK(display_text("\xf4\x8f\xbf\xbf") == "\xf4\x8f\xbf\xbf");           // U+10FFFF
  CHECK(display_text("\xed\x9f\xbf") == "\xed\x9f\xbf");                   // U+D7FF
  CHECK(display_text("\xee\x80\x80") == "\xee\x80\x80");                   // U+E000
}

TEST_CASE("invalid UTF-8 becomes \\xNN, byte by byte", "[core][display_text]") {
  SECTION("a lone continuation byte") {
    CHECK(display_text("a\x80z") == "a\\x80z");
    CHECK(display_text("\xbf") == "\\xbf");
  }
  SECTION("overlong encodings") {
    CHECK(display_text("\xc0\xaf") == "\\xc0\\xaf"); // '/' in two bytes
    CHECK(display_text("\xc1\xbf") == "\\xc1\\xbf");
    CHECK(display_text("\xe0\x80\xaf") == "\\xe0\\x80\\xaf"); // '/' in three bytes
    CHECK(display_text("\xf0\x80\x80\xaf") == "\\xf0\\x80\\x80\\xaf");
    CHECK(display_text("\xe0\x81\x9b") == "\\xe0\\x81\\x9b"); // ESC [ hidden in 3 bytes
  }
  SECTION("surrogates") {
    CHECK(display_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");
    CHECK(display_text("\xed\xbf\xbf") == "\\xed\\xbf\\xbf");
  }
  SECTION("beyond U+10FFFF, and bytes that never occur") {
    CHECK(display_text("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");
    CHECK(display_text("\xf5\x80\x80\x80") == "\\xf5\\x80\\x80\\x80");
    CHECK(display_text("\xfe\xff") == "\\xfe\\xff");
  }
  SECTION("a sequence cut short, at the end or by another byte") {
    CHECK(display_text("ab\xe5\x8f") == "ab\\xe5\\x8f");
    CHECK(display_text("\xc3") == "\\xc3");
    CHECK(display_text("\xf0\x9f\x92") == "\\xf0\\x9f\\x92");
    CHECK(display_text("\xe5\x8f"
                       "x") == "\\xe5\\x8fx");
    // The byte that broke a sequence starts the next one.
    CHECK(display_text("\xe5\xe5\x8f\xb0") == "\\xe5\xe5\x8f\xb0");
    CHECK(display_text("\xc3\x1b") == "\\xc3\\x1b");
  }
  SECTION("escaped bytes are never valid UTF-8 on their own") {
    for (unsigned c = 0x80; c <= 0xff; ++c) {
      const char ch = static_cast<char>(c);
      CHECK(display_text(std::string_view(&ch, 1)) == hex2(c));
    }
  }
}

TEST_CASE("output stops at max_bytes, with \"...\"", "[core][display_text]") {
  CHECK(display_text(std::string(300, 'a')) == std::string(256, 'a') + "...");
  CHECK(display_text(std::string(256, 'a')) == std::string(256, 'a'));
  CHECK(display_text("abcdef", 3) == "abc...");
  CHECK(display_text("abc", 3) == "abc");
  CHECK(display_text("abcd", 0) == "...");
  CHECK(display_text("", 0) == "");
  // Escapes and code points are never cut in the middle: what comes before "..." is whole
  // units, at least one.
  const std::string e = display_text("\x1b\x1b\x1b\x1b", 6);
  REQUIRE(e.size() > 3);
  CHECK(e.substr(e.size() - 3) == "...");
  const std::string e_units = e.substr(0, e.size() - 3);
  CHECK((e_units == "\\x1b" || e_units == "\\x1b\\x1b"));
  const std::string k = display_text("\xe5\x8f\xb0\xe5\x8f\xb0\xe5\x8f\xb0", 4);
  REQUIRE(k.size() > 3);
  CHECK(k.substr(k.size() - 3) == "...");
  const std::string k_units = k.substr(0, k.size() - 3);
  CHECK((k_units == "\xe5\x8f\xb0" || k_units == "\xe5\x8f\xb0\xe5\x8f\xb0"));
  // Whatever the input, a bounded amount: max_bytes, less than one escape (8 bytes) more, and
  // "...".
  std::string hostile;
  for (int i = 0; i < 100; ++i)
    hostile += "\xe2\x80\xae\x1b\xc2\x9b";
  for (std::size_t max : {0u, 1u, 7u, 8u, 9u, 64u}) {
    const std::string out = display_text(hostile, max);
    CHECK(out.size() <= max + 7 + 3);
    CHECK(out.substr(out.size() - 3) == "...");
  }
}
