#include "cli/json.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using namespace lanyard::cli;

TEST_CASE("utf8 validation", "[cli][json]") {
  CHECK(is_utf8("plain ascii"));
  CHECK(is_utf8("Lampe \xC3\xA9t\xC3\xA9")); // é
  CHECK(is_utf8("\xF0\x9F\x92\xA1"));        // U+1F4A1
  CHECK_FALSE(is_utf8("\xC3"));              // truncated
  CHECK_FALSE(is_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(is_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_utf8(std::string("\xFF\x00", 2)));
}

TEST_CASE("json strings are escaped", "[cli][json]") {
  CHECK(json_quote("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
  // Bytes that are not UTF-8 (a peer's name, say) never make the output invalid JSON.
  CHECK(json_quote("ok\xff\xc3") == "\"ok\xEF\xBF\xBD\xEF\xBF\xBD\"");
  CHECK(json_quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
}

TEST_CASE("base64 matches RFC 4648 test vectors", "[cli][json]") {
  auto b64 = [](std::string_view s) {
    return base64({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  };
  CHECK(b64("") == "");
  CHECK(b64("f") == "Zg==");
  CHECK(b64("fo") == "Zm8=");
  CHECK(b64("foo") == "Zm9v");
  CHECK(b64("foob") == "Zm9vYg==");
  CHECK(b64("fooba") == "Zm9vYmE=");
  CHECK(b64("foobar") == "Zm9vYmFy");
}

TEST_CASE("writer produces nested objects with commas in the right places", "[cli][json]") {
  json_writer w;
  w.begin_object()
      .key("event")
      .value("added")
      .key("port")
      .value(8443)
      .key("addresses")
      .begin_array()
      .value("198.18.1.3")
      .value("fe80::1%2")
      .end_array()
      .key("txt")
      .begin_object()
      .key("flag")
      .value(true)
      .key("e")
      .value("")
      .end_object()
      .key("ratio")
      .value(0.5)
      .key("nan")
      .value(std::nan(""))
      .end_object();
  CHECK(w.str() == R"({"event":"added","port":8443,"addresses":["198.18.1.3","fe80::1%2"],)"
                   R"("txt":{"flag":true,"e":""},"ratio":0.5,"nan":null})");
}
