/// @file
/// Counts the lamp's C++ allocations once its loop runs, so that "stopped" can say how many
/// there were: the lab tests require none, which is what "fixed memory" means for firmware
/// that has no heap to spare. Every operator new of the program goes through here
/// (allocation_count.cpp replaces them all, so it is linked into the lamp only); mbedTLS's
/// own allocations (C's malloc) are not C++ allocations and are not counted. To find one:
/// FIRMWARE_LAMP_TRACE_ALLOCATIONS=FILE appends each counted allocation's call stack to FILE.
///
/// Thread-safety: the lamp has one thread.
#pragma once

#include <cstddef>

namespace lamp::allocation_count {

/// From now on, count (the end of start-up).
void start() noexcept;

/// The C++ allocations since start().
std::size_t since_start() noexcept;

} // namespace lamp::allocation_count
