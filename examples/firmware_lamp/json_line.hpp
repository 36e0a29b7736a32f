/// @file
/// One JSON object on one line, built in fixed storage and written with a single write: how
/// the firmware example reports events to a test or a person without allocating.
///
/// Strings are escaped for JSON and for a terminal: '"' and '\' as \" and \\, control bytes
/// and DEL as \u00XX, valid UTF-8 passes except C1 controls, bidirectional controls and
/// invisible separators (the characters core::display_text escapes), which become \uXXXX, and
/// every byte of invalid UTF-8 becomes \ufffd. Whatever a name holds, the line is valid JSON
/// and cannot move the cursor or reorder what a person reads.
///
/// A line that would not fit is cut to {"event":...,"truncated":true}, never to broken JSON.
/// Thread-safety: distinct objects safe, shared objects unsafe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace lamp {

class json_line {
public:
  /// Starts {"event":"<event>".
  explicit json_line(std::string_view event) noexcept;

  json_line& text(std::string_view key, std::string_view value) noexcept;
  json_line& number(std::string_view key, std::uint64_t value) noexcept;
  json_line& boolean(std::string_view key, bool value) noexcept;
  /// "key":"lanyard.channel.peer_dead": an error's stable code (core::code_string()), composed
  /// in place where its sentence would be allocated.
  json_line& code(std::string_view key, const std::error_code& value) noexcept;
  /// "key":[ ... ]: array_text() adds the elements, end_array() closes it.
  json_line& begin_array(std::string_view key) noexcept;
  json_line& array_text(std::string_view value) noexcept;
  json_line& end_array() noexcept;

  /// Closes the object and writes it, with a newline, to `descriptor` (stdout: 1).
  void write(int descriptor) noexcept;

private:
  void key(std::string_view key) noexcept;
  void raw(std::string_view bytes) noexcept;
  void escaped(std::string_view untrusted) noexcept;
  void escape_code_point(std::uint32_t code_point) noexcept;

  std::array<char, 2048> buffer_{};
  std::size_t size_ = 0;
  std::size_t event_end_ = 0; // where a truncated line is cut back to
  bool first_in_array_ = false;
  bool overflow_ = false;
};

} // namespace lamp
