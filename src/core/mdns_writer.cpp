#include "lanyard/core/mdns_writer.hpp"

#include <algorithm>
#include <cstring>

namespace lanyard::core {
namespace {

constexpr std::size_t header_size = 12;
// Compression pointers hold 14 bits of offset.
constexpr std::size_t max_pointer_target = 0x3FFF;

std::size_t section_index(dns_section s) noexcept {
  switch (s) {
  case dns_section::answer:
    return 1;
  case dns_section::authority:
    return 2;
  case dns_section::additional:
    return 3;
  }
  return 3;
}

} // namespace

dns_writer::dns_writer(std::span<std::byte> buffer, std::uint16_t id, std::uint16_t flags) noexcept
    : buffer_(buffer), flags_(flags) {
  if (buffer.size() < header_size) {
    buffer_ = {};
    return;
  }
  put_u16(id);
  put_u16(flags);
  for (int i = 0; i < 4; ++i)
    put_u16(0);
}

void dns_writer::set_flags(std::uint16_t flags) noexcept {
  flags_ = flags;
  if (size_ >= header_size) {
    buffer_[2] = std::byte(flags >> 8);
    buffer_[3] = std::byte(flags & 0xFF);
  }
}

void dns_writer::put_count(std::size_t index) noexcept {
  const std::size_t at = 4 + 2 * index;
  buffer_[at] = std::byte(counts_[index] >> 8);
  buffer_[at + 1] = std::byte(counts_[index] & 0xFF);
}

bool dns_writer::put_u8(std::uint8_t v) noexcept {
  if (remaining() < 1) return false;
  buffer_[size_++] = std::byte{v};
  return true;
}

bool dns_writer::put_u16(std::uint16_t v) noexcept {
  if (remaining() < 2) return false;
  buffer_[size_++] = std::byte(v >> 8);
  buffer_[size_++] = std::byte(v & 0xFF);
  return true;
}

bool dns_writer::put_u32(std::uint32_t v) noexcept {
  return put_u16(static_cast<std::uint16_t>(v >> 16)) &&
         put_u16(static_cast<std::uint16_t>(v & 0xFFFF));
}

bool dns_writer::put_bytes(std::span<const std::uint8_t> bytes) noexcept {
  if (remaining() < bytes.size()) return false;
  if (!bytes.empty()) std::memcpy(buffer_.data() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
  return true;
}

bool dns_writer::written_name_equals(std::size_t offset,
                                     std::span<const std::uint8_t> suffix) const noexcept {
  std::size_t i = 0;
  // What was written is well-formed and every pointer in it points backwards, so this walk
  // ends; the hop bound is a second guard.
  for (std::size_t hops = 0; hops < 256 && offset < size_; ++hops) {
    const auto b = std::to_integer<std::uint8_t>(buffer_[offset]);
    if ((b & 0xC0) == 0xC0) {
      if (offset + 1 >= size_) return false;
      offset = (std::size_t{b & 0x3Fu} << 8) | std::to_integer<std::size_t>(buffer_[offset + 1]);
      continue;
    }
    if (i >= suffix.size() || suffix[i] != b) return false;
    if (b == 0) return true;
    if (offset + 1 + b > size_ || i + 1 + b > suffix.size()) return false;
    if (std::memcmp(buffer_.data() + offset + 1, suffix.data() + i + 1, b) != 0) return false;
    offset += 1 + b;
    i += 1 + b;
  }
  return false;
}

bool dns_writer::put_name(std::span<const std::uint8_t> name, bool compress) noexcept {
  std::size_t i = 0;
  while (name[i] != 0) {
    const std::span<const std::uint8_t> suffix = name.subspan(i);
    if (compress) {
      for (std::size_t s = 0; s < slots_used_; ++s) {
        if (written_name_equals(slots_[s], suffix))
          return put_u16(static_cast<std::uint16_t>(0xC000 | slots_[s]));
      }
    }
    if (size_ <= max_pointer_target && slots_used_ < slots_.size())
      slots_[slots_used_++] = static_cast<std::uint16_t>(size_);
    const std::size_t length = name[i];
    if (!put_bytes(name.subspan(i, 1 + length))) return false;
    i += 1 + length;
  }
  return put_u8(0);
}

std::error_code dns_writer::add_question(std::span<const std::uint8_t> name, std::uint16_t type,
                                         bool unicast_response, std::uint16_t qclass) noexcept {
  if (section_ > 0) return mdns_errc::section_order;
  if (!is_valid_wire_name(name)) return mdns_errc::invalid_name;
  if (size_ == 0 || counts_[0] == 0xFFFF) return mdns_errc::no_space;
  const mark m = save();
  const auto cls = static_cast<std::uint16_t>((qclass & 0x7FFF) | (unicast_response ? 0x8000 : 0));
  if (!put_name(name, true) || !put_u16(type) || !put_u16(cls)) {
    restore(m);
    return mdns_errc::no_space;
  }
  ++counts_[0];
  put_count(0);
  return {};
}

std::error_code dns_writer::begin_record(const dns_record_spec& spec, std::uint16_t type, mark& m,
                                         std::size_t& length_at) noexcept {
  const std::size_t index = section_index(spec.section);
  if (index < section_) return mdns_errc::section_order;
  if (!is_valid_wire_name(spec.name)) return mdns_errc::invalid_name;
  if (size_ == 0 || counts_[index] == 0xFFFF) return mdns_errc::no_space;
  m = save();
  const auto cls = static_cast<std::uint16_t>(dns_class_in | (spec.cache_flush ? 0x8000 : 0));
  if (!put_name(spec.name, true) || !put_u16(type) || !put_u16(cls) || !put_u32(spec.ttl) ||
      !put_u16(0)) {
    restore(m);
    return mdns_errc::no_space;
  }
  length_at = size_ - 2;
  return {};
}

std::error_code dns_writer::end_record(const dns_record_spec& spec, mark m,
                                       std::size_t length_at) noexcept {
  const std::size_t length = size_ - length_at - 2;
  if (length > 0xFFFF) {
    restore(m);
    return mdns_errc::no_space;
  }
  buffer_[length_at] = std::byte(length >> 8);
  buffer_[length_at + 1] = std::byte(length & 0xFF);
  const std::size_t index = section_index(spec.section);
  section_ = index;
  ++counts_[index];
  put_count(index);
  return {};
}

std::error_code dns_writer::add_raw(const dns_record_spec& spec, std::uint16_t type,
                                    std::span<const std::uint8_t> data) noexcept {
  mark m{};
  std::size_t length_at = 0;
  if (const std::error_code ec = begin_record(spec, type, m, length_at)) return ec;
  if (!put_bytes(data)) {
    restore(m);
    return mdns_errc::no_space;
  }
  return end_record(spec, m, length_at);
}

std::error_code dns_writer::add_ptr(const dns_record_spec& spec,
                                    std::span<const std::uint8_t> target) noexcept {
  if (!is_valid_wire_name(target)) return mdns_errc::invalid_name;
  mark m{};
  std::size_t length_at = 0;
  if (const std::error_code ec = begin_record(spec, dns_type::ptr, m, length_at)) return ec;
  if (!put_name(target, true)) {
    restore(m);
    return mdns_errc::no_space;
  }
  return end_record(spec, m, length_at);
}

std::error_code dns_writer::add_srv(const dns_record_spec& spec, std::uint16_t priority,
                                    std::uint16_t weight, std::uint16_t port,
                                    std::span<const std::uint8_t> target) noexcept {
  if (!is_valid_wire_name(target)) return mdns_errc::invalid_name;
  mark m{};
  std::size_t length_at = 0;
  if (const std::error_code ec = begin_record(spec, dns_type::srv, m, length_at)) return ec;
  if (!put_u16(priority) || !put_u16(weight) || !put_u16(port) || !put_name(target, false)) {
    restore(m);
    return mdns_errc::no_space;
  }
  return end_record(spec, m, length_at);
}

std::error_code dns_writer::add_nsec(const dns_record_spec& spec,
                                     std::span<const std::uint16_t> types) noexcept {
  std::array<std::uint8_t, 32> bits{};
  std::size_t length = 0;
  for (const std::uint16_t t : types) {
    if (t > 255) continue;
    bits[t / 8] |= static_cast<std::uint8_t>(0x80u >> (t % 8));
    length = std::max<std::size_t>(length, t / 8 + 1);
  }
  mark m{};
  std::size_t length_at = 0;
  if (const std::error_code ec = begin_record(spec, dns_type::nsec, m, length_at)) return ec;
  bool ok = put_name(spec.name, true);
  // A bitmap with no types is no window at all.
  if (ok && length > 0) {
    ok = put_u8(0) && put_u8(static_cast<std::uint8_t>(length)) &&
         put_bytes(std::span<const std::uint8_t>(bits.data(), length));
  }
  if (!ok) {
    restore(m);
    return mdns_errc::no_space;
  }
  return end_record(spec, m, length_at);
}

} // namespace lanyard::core
