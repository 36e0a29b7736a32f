/// @file
/// A DNS message reader on views (RFC 1035 section 4, as Multicast DNS uses it: RFC 6762
/// section 18): header, questions, resource records and their typed data, without allocating
/// and without copying. The parser of the embedded mDNS responder, and fuzzed on its own
/// (tests/fuzz/mdns_message_fuzz.cpp).
///
/// Every name is checked when the question or record holding it is read: labels of at most 63
/// bytes, at most 255 bytes once decompressed, every compression pointer inside the message and
/// pointing strictly backwards (before the labels that led to it), so no input can make the
/// reader loop, read out of bounds or recurse. A dns_name handed out is therefore always valid,
/// and walking or comparing it cannot fail. So is the data of the types the responder reads (A,
/// AAAA, PTR, SRV, NSEC): a record whose data does not have its type's shape is an error
/// (mdns_errc::bad_rdata), not something every user must check again.
///
/// mDNS specifics: the top bit of a question's class is the unicast-response ("QU") bit (RFC
/// 6762 section 5.4), the top bit of a record's class the cache-flush bit (section 10.2); both
/// are split off into their own fields.
///
/// Errors: std::error_code of mdns_category() (mdns_error.hpp), each naming what is wrong.
/// Thread-safety: distinct objects safe, shared objects unsafe. Every view (dns_name,
/// dns_record::rdata, ...) points into the message bytes, which must outlive it.
#pragma once

#include <lanyard/core/mdns_error.hpp>
#include <lanyard/core/mdns_name.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::core {

/// The UDP port of Multicast DNS (RFC 6762 section 3). A query from another source port is a
/// legacy unicast query (section 6.7).
inline constexpr std::uint16_t mdns_port = 5353;

/// The resource record types the responder knows (RFC 1035, 2782, 3596, 4034).
namespace dns_type {
inline constexpr std::uint16_t a = 1;
inline constexpr std::uint16_t ptr = 12;
inline constexpr std::uint16_t txt = 16;
inline constexpr std::uint16_t aaaa = 28;
inline constexpr std::uint16_t srv = 33;
inline constexpr std::uint16_t nsec = 47;
/// Only in questions: every type (probes ask it, RFC 6762 section 8.1).
inline constexpr std::uint16_t any = 255;
} // namespace dns_type

/// The Internet class; mDNS uses no other.
inline constexpr std::uint16_t dns_class_in = 1;
/// Only in questions: every class.
inline constexpr std::uint16_t dns_class_any = 255;

/// Bits of the header's flags word (RFC 1035 section 4.1.1).
namespace dns_flag {
/// QR: the message is a response.
inline constexpr std::uint16_t response = 0x8000;
/// AA: authoritative answer; every mDNS response sets it (RFC 6762 section 18.4).
inline constexpr std::uint16_t authoritative = 0x0400;
/// TC: in a query, more known answers follow in later packets (RFC 6762 section 7.2); in a
/// legacy unicast response, answers were left out.
inline constexpr std::uint16_t truncated = 0x0200;
} // namespace dns_flag

/// The fixed 12-byte header.
struct dns_header {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t question_count = 0;
  std::uint16_t answer_count = 0;
  std::uint16_t authority_count = 0;
  std::uint16_t additional_count = 0;

  bool is_response() const noexcept { return (flags & dns_flag::response) != 0; }
  bool is_truncated() const noexcept { return (flags & dns_flag::truncated) != 0; }
  /// OPCODE: 0 is a standard query; mDNS ignores messages with any other (RFC 6762 section
  /// 18.3).
  std::uint8_t opcode() const noexcept { return static_cast<std::uint8_t>((flags >> 11) & 0xF); }
  /// RCODE: mDNS ignores messages with a non-zero one (RFC 6762 section 18.11).
  std::uint8_t rcode() const noexcept { return static_cast<std::uint8_t>(flags & 0xF); }
};

/// A name inside a message, already checked by the reader (see the file comment): walking,
/// comparing and copying it cannot fail. A default-constructed dns_name is the root name.
///
/// Thread-safety: a plain view; valid while the message bytes live.
class dns_name {
public:
  dns_name() = default;

  /// Input iterator over the labels (each a view into the message; never the root).
  class iterator {
  public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    std::string_view operator*() const noexcept { return label_; }
    iterator& operator++() noexcept;
    void operator++(int) noexcept { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.done_;
    }

  private:
    friend class dns_name;
    iterator(std::span<const std::byte> message, std::size_t offset) noexcept;
    void load() noexcept;

    std::span<const std::byte> message_;
    std::size_t offset_ = 0;
    std::size_t hops_ = 0;
    std::string_view label_;
    bool done_ = true;
  };

  iterator begin() const noexcept { return iterator(message_, offset_); }
  std::default_sentinel_t end() const noexcept { return {}; }

  /// The size of the uncompressed wire form, terminating zero included (1 for the root).
  std::size_t wire_size() const noexcept;

  /// Writes the uncompressed wire form into `out`.
  ///
  /// @returns the number of bytes written, or 0 if `out` is smaller than wire_size().
  std::size_t copy_to(std::span<std::uint8_t> out) const noexcept;

  /// Copies the name into a dns_wire_name (always fits: both hold at most 255 bytes).
  dns_wire_name to_wire_name() const noexcept;

  /// True if both are the same name ignoring ASCII case (RFC 6762 section 16).
  bool equals(const dns_name& other) const noexcept;
  /// True if this is the name `wire` (uncompressed wire form) ignoring ASCII case.
  bool equals(std::span<const std::uint8_t> wire) const noexcept;
  bool equals(const dns_wire_name& wire) const noexcept { return equals(wire.wire()); }

  /// The dotted form for logs and tests: "Lamp (2)._lanyard._tcp.local.". As in RFC 1035 master
  /// files, a dot or backslash inside a label gets a backslash before it and bytes outside
  /// 0x20-0x7E are written as a backslash and three decimal digits; spaces stay (DNS-SD instance
  /// names have them). Allocates.
  std::string to_string() const;

  /// Where the name starts in the message.
  std::size_t offset() const noexcept { return offset_; }

private:
  friend class dns_reader;
  friend struct dns_record;
  dns_name(std::span<const std::byte> message, std::size_t offset) noexcept
      : message_(message), offset_(offset) {}

  std::span<const std::byte> message_;
  std::size_t offset_ = 0;
};

/// One question (RFC 1035 section 4.1.2).
struct dns_question {
  dns_name name;
  std::uint16_t type = 0;
  /// The class without the unicast-response bit (normally dns_class_in).
  std::uint16_t qclass = 0;
  /// The top bit of the class: the querier asks for a unicast response ("QU", RFC 6762
  /// section 5.4).
  bool unicast_response = false;
};

/// Which section a record came from.
enum class dns_section : std::uint8_t { answer, authority, additional };

/// SRV data (RFC 2782).
struct dns_srv {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  dns_name target;
};

/// NSEC data as mDNS uses it (RFC 6762 section 6.1, RFC 4034 section 4.1): the next name (in
/// mDNS, the record's own name) and the type bitmap.
struct dns_nsec {
  dns_name next;
  /// The type bitmap windows as on the wire (checked: window blocks of 1-32 bytes).
  std::span<const std::byte> bitmap;

  /// True if the bitmap lists `type`.
  bool has_type(std::uint16_t type) const noexcept;
};

/// One resource record (RFC 1035 section 4.1.3).
struct dns_record {
  dns_name name;
  std::uint16_t type = 0;
  /// The class without the cache-flush bit (normally dns_class_in).
  std::uint16_t rclass = 0;
  /// The top bit of the class: the record is unique and replaces what caches hold for its
  /// name, type and class (RFC 6762 section 10.2).
  bool cache_flush = false;
  /// Seconds; 0 is a goodbye (RFC 6762 section 10.1).
  std::uint32_t ttl = 0;
  dns_section section = dns_section::answer;
  /// The record's data as on the wire (names in it may be compressed: use the accessors).
  std::span<const std::byte> rdata;

  /// A record's address. @returns empty, or mdns_errc::wrong_type.
  std::error_code as_a(std::array<std::uint8_t, 4>& out) const noexcept;
  /// AAAA record's address. @returns empty, or mdns_errc::wrong_type.
  std::error_code as_aaaa(std::array<std::uint8_t, 16>& out) const noexcept;
  /// PTR record's target. @returns empty, or mdns_errc::wrong_type.
  std::error_code as_ptr(dns_name& out) const noexcept;
  /// SRV record's fields. @returns empty, or mdns_errc::wrong_type.
  std::error_code as_srv(dns_srv& out) const noexcept;
  /// NSEC record's fields. @returns empty, or mdns_errc::wrong_type.
  std::error_code as_nsec(dns_nsec& out) const noexcept;
  /// TXT record's data, for txt_reader. @returns empty, or mdns_errc::wrong_type.
  std::error_code as_txt(std::span<const std::uint8_t>& out) const noexcept;

  /// Compares the data of two records the way RFC 6762 section 8.2 orders them: as unsigned
  /// bytes with every name uncompressed (PTR, SRV and NSEC; other types as they are). <0, 0
  /// or >0.
  friend int compare_rdata(const dns_record& a, const dns_record& b) noexcept;
  /// The same against data in canonical form (names uncompressed), e.g. a record of our own.
  friend int compare_rdata(const dns_record& a, std::span<const std::uint8_t> canonical) noexcept;

private:
  friend class dns_reader;
  std::span<const std::byte> message_;
  std::size_t rdata_offset_ = 0;
};

/// Reads a message in order: header, then questions (next(dns_question&)), then records of
/// every section (next(dns_record&), which skips any questions not read yet). To read a
/// message twice, make a second reader (it costs the 12-byte header).
///
/// Errors: the constructor reads the header (error() is header_truncated if there is none);
/// after next() returns false, error() tells the end of the section(s) from a malformed
/// message. Once an error is reported the reader yields nothing more. A count in the header
/// larger than what follows is an error (record_truncated or name_truncated); bytes after the
/// last record are ignored (RFC 6762 allows no trailing data, but they harm nothing).
///
/// @code
///   dns_reader reader(packet);
///   dns_question q;
///   while (reader.next(q)) { ... }
///   dns_record r;
///   while (reader.next(r)) { ... }
///   if (reader.error()) return; // drop the whole packet
/// @endcode
class dns_reader {
public:
  explicit dns_reader(std::span<const std::byte> message) noexcept;

  const dns_header& header() const noexcept { return header_; }

  /// Reads the next question. @returns false after the last one, or on an error.
  bool next(dns_question& out) noexcept;

  /// Reads the next record (answers, then authority, then additional). @returns false after
  /// the last one, or on an error.
  bool next(dns_record& out) noexcept;

  /// The first error met; empty while the message is fine.
  std::error_code error() const noexcept { return error_; }

  /// Where the error was found (byte offset into the message), or where reading stands.
  std::size_t offset() const noexcept { return offset_; }

  /// The message.
  std::span<const std::byte> message() const noexcept { return message_; }

private:
  bool fail(mdns_errc code) noexcept;
  // Checks the name at offset_ and moves past it.
  bool read_name(dns_name& out) noexcept;
  bool check_rdata(const dns_record& r) noexcept;

  std::span<const std::byte> message_;
  dns_header header_;
  std::size_t offset_ = 0;
  std::size_t questions_left_ = 0;
  std::size_t answers_left_ = 0;
  std::size_t authority_left_ = 0;
  std::size_t additional_left_ = 0;
  std::error_code error_;
};

/// Reads the whole message once.
///
/// @returns empty if every question and record reads without error, else the first error.
/// Thread-safety: pure function.
std::error_code validate_dns_message(std::span<const std::byte> message) noexcept;

/// Checks the name starting at `offset` in `message` as the reader does.
///
/// @returns empty and sets `end` to the offset just past the name (past its first compression
/// pointer, if any), or the error.
/// Thread-safety: pure function.
std::error_code check_dns_name(std::span<const std::byte> message, std::size_t offset,
                               std::size_t& end) noexcept;

} // namespace lanyard::core
