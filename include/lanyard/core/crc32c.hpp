/// @file
/// CRC-32C (Castagnoli), the checksum that guards setup payloads and Lanyard's state files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace lanyard::core {

/// CRC-32C (polynomial 0x1EDC6F41, reflected, initial value and final XOR 0xFFFFFFFF), as used
/// by iSCSI, SCTP and ext4. crc32c("123456789") == 0xE3069283.
///
/// Why CRC-32C and not a truncated hash: it detects every single-character typo and every
/// burst shorter than 32 bits in a payload, needs no crypto code in the core, and is the
/// variant with the best error-detection properties at these lengths. It is not a MAC:
/// integrity against an attacker comes from the fingerprint pin, not from this checksum.
///
/// `seed` continues a running checksum: crc32c(b, crc32c(a)) == crc32c(a + b).
/// Thread-safety: pure function, safe from any thread.
std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t seed = 0) noexcept;

/// Convenience overload for text.
std::uint32_t crc32c(std::string_view data, std::uint32_t seed = 0) noexcept;

} // namespace lanyard::core
