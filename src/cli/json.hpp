// A minimal JSON writer for the CLI's and lanyard-bench's machine-readable output: one object
// per line, strings escaped per RFC 8259, bytes that are not valid UTF-8 never emitted raw.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace lanyard::cli {

/// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF).
bool is_utf8(std::string_view s);

/// `s` as a JSON string literal with quotes; `s` must be valid UTF-8 (check with is_utf8).
std::string json_quote(std::string_view s);

/// Standard base64 (RFC 4648 §4) with padding.
std::string base64(std::span<const std::uint8_t> bytes);

/// Builds one JSON object or array incrementally: `json_writer w; w.begin_object();
/// w.key("a"); w.value(1); w.end_object(); w.str()`. Commas are inserted automatically.
class json_writer {
public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& value(std::string_view s); // must be UTF-8
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(bool b);
  json_writer& value(std::int64_t n);
  json_writer& value(std::uint64_t n);
  json_writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  json_writer& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
  json_writer& value(double d); // non-finite numbers become null
  json_writer& null();
  /// Splices already-serialised JSON in as one value.
  json_writer& raw(std::string_view json);

  const std::string& str() const { return out_; }

private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

/// Writes the key "time_ms" with the wall-clock time in Unix milliseconds: every JSON event of
/// the CLI carries it, so scripts measure gaps and correlate events with what they did (a link
/// cut) without timestamping lines themselves.
json_writer& write_time_ms(json_writer& w);

} // namespace lanyard::cli
