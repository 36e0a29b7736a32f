/// @file
/// Lanyard's version, for logs and bug reports.
#pragma once

#include <string_view>

#define LANYARD_VERSION_STRING "0.1.0"

namespace lanyard {

/// The library's version as "major.minor.patch". Thread-safe.
std::string_view version() noexcept;

} // namespace lanyard
