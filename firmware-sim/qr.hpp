// Draws a setup payload as a QR code in the terminal with qrencode(1).
#pragma once

#include <string>

namespace lanyard::sim {

/// Runs `qrencode -t ANSIUTF8 TEXT` and prints its output (print_block). If qrencode is not
/// installed, prints a one-line note saying so (and how to install it) and returns false; the
/// accessory carries on.
bool show_qr(const std::string& text);

} // namespace lanyard::sim
