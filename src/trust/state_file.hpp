// The line-oriented text container shared by Lanyard's state files:
//
//     MAGIC 1                       version line
//     KIND field field ...          one record per line, fields separated by one space
//     end COUNT CRC                 COUNT record lines; CRC-32C (8 hex digits) of every byte
//                                   before this line
//
// Every line ends in '\n' and holds printable ASCII only. The "end" line makes truncation at
// any byte detectable (a cut file has no valid end line) and the CRC catches damage that still
// looks well-formed (a flipped hex digit in a fingerprint).
#pragma once

#include "lanyard/trust/error.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lanyard::trust::detail {

/// "FILE:LINE: what" as a store_corrupt status, with the fields file, line and problem (a
/// stable snake_case name of what is wrong, e.g. "checksum_mismatch"; docs/diagnostics.md).
store_status corrupt(std::string_view file, std::size_t line, std::string_view problem,
                     std::string_view what);

/// Splits `text` into its record lines and checks the version line and the end line.
/// `on_record(line_number, fields)` is called for each record line in order and may fail; the
/// count and checksum are checked after all records parsed, so a line that is visibly broken is
/// named rather than the checksum.
store_status parse_state_file(
    std::string_view text, std::string_view file, std::string_view magic,
    const std::function<store_status(std::size_t, const std::vector<std::string_view>&)>&
        on_record);

/// Appends the end line to `text` (the version line and record lines, each ending in '\n').
void finish_state_file(std::string& text, std::size_t record_count);

/// RFC 3339 UTC with seconds: "2026-11-24T04:53:49Z". Sub-second parts are dropped; times
/// outside 1970-2200 are clamped to it (system_clock's nanoseconds end in 2262).
std::string format_time(std::chrono::system_clock::time_point t);
/// `t` moved into the range format_time() writes exactly (1970 to the end of 2200).
std::chrono::system_clock::time_point clamp_time(std::chrono::system_clock::time_point t);
/// Parses exactly the format_time() form (years 1970-2200).
bool parse_time(std::string_view text, std::chrono::system_clock::time_point& out);

/// A free-text field (a name): "-" when empty, else percent-encoding of '%', '-' at the start
/// and every byte outside 0x21-0x7E, so the field has no spaces and survives any bytes.
std::string encode_text(std::string_view text);
bool decode_text(std::string_view field, std::string& out);

/// Quotes a piece of a damaged line for an error message (printable, at most 40 characters).
std::string excerpt(std::string_view text);

} // namespace lanyard::trust::detail
