/// @file
/// A DNS message writer into a caller-provided buffer, with name compression (RFC 1035
/// section 4.1.4), for the embedded mDNS responder. No allocation.
///
/// Every add either writes the whole question or record and updates the header's counts, or
/// returns an error and leaves the message exactly as it was: mdns_errc::no_space when it does
/// not fit. That is what lets a responder fill a packet until it is full and then send it (and
/// the rest in the next one), or set TC on a legacy unicast reply, instead of overflowing.
///
/// Names are given in uncompressed wire form (dns_wire_name::wire()); the writer compresses
/// them against every name written before, including PTR targets and NSEC next names. SRV
/// targets are written uncompressed (RFC 2782 forbids compressing them, and a legacy unicast
/// resolver may follow that rule), but later names may point into them. Compression compares
/// bytes exactly, so every name keeps its spelling.
///
/// Errors: std::error_code of mdns_category(): no_space, invalid_name, section_order.
/// Thread-safety: distinct objects safe, shared objects unsafe. The buffer must outlive the
/// writer.
#pragma once

#include <lanyard/core/mdns_message.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

namespace lanyard::core {

/// Owner, section, TTL and cache-flush bit of a record to write (the class is always IN).
struct dns_record_spec {
  dns_section section = dns_section::answer;
  /// Uncompressed wire form.
  std::span<const std::uint8_t> name;
  std::uint32_t ttl = 0;
  /// RFC 6762 section 10.2: set on unique records in multicast responses, never in legacy
  /// unicast replies (section 6.7).
  bool cache_flush = false;
};

/// See the file comment.
class dns_writer {
public:
  /// How many name positions the writer remembers for compression. Names written after the
  /// table is full are still written, just not offered as compression targets.
  static constexpr std::size_t compression_slots = 64;

  /// Writes a header with `id` and `flags` and no questions or records. If the buffer is
  /// smaller than 12 bytes, nothing is written, size() is 0 and every add fails with no_space.
  explicit dns_writer(std::span<std::byte> buffer, std::uint16_t id = 0,
                      std::uint16_t flags = 0) noexcept;

  /// Adds a question. Errors: section_order after any record, invalid_name, no_space.
  std::error_code add_question(std::span<const std::uint8_t> name, std::uint16_t type,
                               bool unicast_response = false,
                               std::uint16_t qclass = dns_class_in) noexcept;

  /// Adds a record whose data is written as given: A, AAAA, TXT, or any type without names in
  /// its data. Errors: section_order (a section before the last one written), invalid_name,
  /// no_space.
  std::error_code add_raw(const dns_record_spec& spec, std::uint16_t type,
                          std::span<const std::uint8_t> data) noexcept;

  /// Adds a PTR record pointing at `target` (compressed). Errors as for add_raw().
  std::error_code add_ptr(const dns_record_spec& spec,
                          std::span<const std::uint8_t> target) noexcept;

  /// Adds an SRV record (target uncompressed, see the file comment). Errors as for add_raw().
  std::error_code add_srv(const dns_record_spec& spec, std::uint16_t priority, std::uint16_t weight,
                          std::uint16_t port, std::span<const std::uint8_t> target) noexcept;

  /// Adds an mDNS negative answer (RFC 6762 section 6.1): an NSEC record whose next name is its
  /// own name and whose bitmap lists `types`. mDNS uses window block 0 only, so types above
  /// 255 are left out. Errors as for add_raw().
  std::error_code add_nsec(const dns_record_spec& spec,
                           std::span<const std::uint16_t> types) noexcept;

  /// Replaces the header's flags (QR, AA, TC, ...).
  void set_flags(std::uint16_t flags) noexcept;
  std::uint16_t flags() const noexcept { return flags_; }

  /// Counts written so far.
  std::uint16_t question_count() const noexcept { return counts_[0]; }
  std::uint16_t answer_count() const noexcept { return counts_[1]; }
  std::uint16_t authority_count() const noexcept { return counts_[2]; }
  std::uint16_t additional_count() const noexcept { return counts_[3]; }
  /// Records of every section.
  std::size_t record_count() const noexcept {
    return std::size_t{counts_[1]} + counts_[2] + counts_[3];
  }

  /// Bytes written (12 for a message with only its header; 0 if the buffer was too small).
  std::size_t size() const noexcept { return size_; }
  /// The message so far.
  std::span<const std::byte> bytes() const noexcept { return buffer_.first(size_); }
  /// Bytes left in the buffer.
  std::size_t remaining() const noexcept { return buffer_.size() - size_; }

private:
  struct mark {
    std::size_t size;
    std::size_t slots;
  };
  mark save() const noexcept { return {size_, slots_used_}; }
  void restore(mark m) noexcept {
    size_ = m.size;
    slots_used_ = m.slots;
  }
  bool put_u8(std::uint8_t v) noexcept;
  bool put_u16(std::uint16_t v) noexcept;
  bool put_u32(std::uint32_t v) noexcept;
  bool put_bytes(std::span<const std::uint8_t> bytes) noexcept;
  bool put_name(std::span<const std::uint8_t> name, bool compress) noexcept;
  // Does the (possibly compressed) name at `offset` in what was written equal `suffix`?
  bool written_name_equals(std::size_t offset, std::span<const std::uint8_t> suffix) const noexcept;
  std::error_code begin_record(const dns_record_spec& spec, std::uint16_t type, mark& m,
                               std::size_t& length_at) noexcept;
  std::error_code end_record(const dns_record_spec& spec, mark m, std::size_t length_at) noexcept;
  void put_count(std::size_t index) noexcept;

  std::span<std::byte> buffer_;
  std::size_t size_ = 0;
  std::uint16_t flags_ = 0;
  std::array<std::uint16_t, 4> counts_{};
  // 0 questions, 1 answers, 2 authority, 3 additional: the last section written.
  std::size_t section_ = 0;
  std::array<std::uint16_t, compression_slots> slots_{};
  std::size_t slots_used_ = 0;
};

} // namespace lanyard::core
