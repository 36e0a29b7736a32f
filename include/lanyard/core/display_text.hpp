/// @file
/// Escaping what a peer sent before it reaches a terminal or a log: certificate names, TXT
/// values, controller names, message text. A peer that can put an ESC (0x1b) or a C1 control in
/// a name can rewrite the user's terminal, and a right-to-left override can make a log line say
/// something else than it does; neither survives display_text().
///
/// Rules: printable ASCII passes, except '\' which doubles; other ASCII bytes become \xNN; valid
/// UTF-8 passes (names in other scripts stay readable) except C1 controls (U+0080-U+009F),
/// bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and other
/// invisible format characters (U+2028, U+2029, U+FEFF), which become \u{XXXX}; every byte of
/// invalid UTF-8 becomes \xNN. Output stops once it reaches `max_bytes` (the last character or
/// escape may go up to 7 bytes past it), then "...".
///
/// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lanyard::core {

/// See the file comment.
std::string display_text(std::string_view untrusted, std::size_t max_bytes = 256);

} // namespace lanyard::core
