/// @file
/// A DNS name in uncompressed wire form, owned in a fixed 255-byte array: how the mDNS
/// responder keeps its names (host, service type, instance) and hands them to the writer, and
/// how tests spell names. No allocation, ever.
///
/// Wire form (RFC 1035 section 3.1): each label as a length byte (1-63) and that many bytes,
/// then a zero byte (the root). At most 255 bytes in all. Labels may hold any bytes, dots and
/// spaces included ("Lamp (2)" and "Living.Room" are single labels of a DNS-SD instance name,
/// RFC 6763 section 4.3), so building from labels is exact while push_dotted() is a shorthand
/// for names whose labels hold no dots.
///
/// Thread-safety: a plain value; distinct objects safe, shared objects unsafe to modify.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace lanyard::core {

/// The most bytes a DNS name takes in wire form, its terminating zero byte included.
inline constexpr std::size_t dns_max_name_size = 255;
/// The most bytes one DNS label holds.
inline constexpr std::size_t dns_max_label_size = 63;

/// See the file comment. Starts as the root name (a single zero byte).
class dns_wire_name {
public:
  dns_wire_name() noexcept { bytes_[0] = 0; }

  /// Appends one label (1-63 bytes, any bytes).
  ///
  /// @returns false (and leaves the name as it was) for an empty or over-long label, or when the
  /// name would exceed 255 bytes.
  bool push_label(std::string_view label) noexcept;

  /// Appends the labels of a dotted name ("_lanyard._tcp.local"; a trailing dot is ignored).
  /// No escapes: a label that holds a dot must go through push_label().
  ///
  /// @returns false (and leaves the name as it was) if any label is empty or too long, or the
  /// name would exceed 255 bytes.
  bool push_dotted(std::string_view dotted) noexcept;

  /// Appends every label of another name.
  bool push_name(const dns_wire_name& other) noexcept;

  /// Makes this the root name again.
  void clear() noexcept {
    size_ = 1;
    bytes_[0] = 0;
  }

  /// The wire form, terminating zero byte included (1 byte for the root name).
  std::span<const std::uint8_t> wire() const noexcept { return {bytes_.data(), size_}; }

  /// The number of labels.
  std::size_t label_count() const noexcept;

  /// The first label ("" for the root name).
  std::string_view first_label() const noexcept;

  /// True if both names are the same ignoring ASCII case (RFC 1035 section 2.3.3; RFC 6762
  /// section 16: other bytes compare exactly).
  bool equals(const dns_wire_name& other) const noexcept;

  /// Exactly the same bytes (case included).
  friend bool operator==(const dns_wire_name& a, const dns_wire_name& b) noexcept {
    return a.wire().size() == b.wire().size() &&
           std::equal(a.wire().begin(), a.wire().end(), b.wire().begin());
  }

private:
  std::array<std::uint8_t, dns_max_name_size> bytes_{};
  std::size_t size_ = 1;
};

/// Checks that `wire` is exactly one uncompressed name in wire form: labels of 1-63 bytes (no
/// compression pointers), a terminating zero byte at the very end, at most 255 bytes.
///
/// Thread-safety: pure function.
bool is_valid_wire_name(std::span<const std::uint8_t> wire) noexcept;

/// ASCII case-insensitive equality of two byte strings (DNS labels).
///
/// Thread-safety: pure function.
bool dns_label_equal(std::string_view a, std::string_view b) noexcept;

} // namespace lanyard::core
