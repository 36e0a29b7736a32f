#include "lanyard/core/mdns_message.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace lanyard::core {
namespace {

constexpr std::size_t header_size = 12;
// Type, class, TTL and data length after a record's name.
constexpr std::size_t record_fixed_size = 10;
// A checked name has at most 127 labels and each pointer moves strictly backwards, so a walk
// never needs more hops than this; the bound only guards against a name that was not checked.
constexpr std::size_t max_hops = 256;

std::uint8_t u8(std::span<const std::byte> m, std::size_t i) noexcept {
  return std::to_integer<std::uint8_t>(m[i]);
}
std::uint16_t u16(std::span<const std::byte> m, std::size_t i) noexcept {
  return static_cast<std::uint16_t>((u8(m, i) << 8) | u8(m, i + 1));
}
std::uint32_t u32(std::span<const std::byte> m, std::size_t i) noexcept {
  return (std::uint32_t{u16(m, i)} << 16) | u16(m, i + 2);
}

bool is_pointer(std::uint8_t b) noexcept {
  return (b & 0xC0) == 0xC0;
}
std::size_t pointer_target(std::span<const std::byte> m, std::size_t i) noexcept {
  return (std::size_t{u8(m, i) & 0x3Fu} << 8) | u8(m, i + 1);
}

// Yields the data of a record in canonical form (RFC 6762 section 8.2: names uncompressed),
// one byte at a time, without copying: up to three segments, raw bytes, a name, raw bytes.
class canonical_cursor {
public:
  canonical_cursor(std::span<const std::byte> message, std::uint16_t type, std::size_t begin,
                   std::size_t end) noexcept
      : message_(message) {
    std::size_t name_end = end;
    switch (type) {
    case dns_type::ptr:
      name_ = begin;
      has_name_ = true;
      raw2_ = {end, end};
      break;
    case dns_type::srv:
      raw1_ = {begin, begin + 6};
      name_ = begin + 6;
      has_name_ = true;
      raw2_ = {end, end};
      break;
    case dns_type::nsec:
      name_ = begin;
      has_name_ = true;
      (void)check_dns_name(message, begin, name_end);
      raw2_ = {name_end, end};
      break;
    default:
      raw1_ = {begin, end};
      raw2_ = {end, end};
      break;
    }
  }

  // The next byte, or -1 at the end.
  int next() noexcept {
    if (raw1_.first < raw1_.second) return u8(message_, raw1_.first++);
    if (has_name_) {
      const int b = next_name_byte();
      if (b >= 0) return b;
      has_name_ = false;
    }
    if (raw2_.first < raw2_.second) return u8(message_, raw2_.first++);
    return -1;
  }

private:
  int next_name_byte() noexcept {
    if (name_done_) return -1;
    if (label_left_ > 0) {
      --label_left_;
      return u8(message_, name_++);
    }
    for (std::size_t hops = 0; hops < max_hops && name_ < message_.size(); ++hops) {
      const std::uint8_t b = u8(message_, name_);
      if (is_pointer(b)) {
        if (name_ + 1 >= message_.size()) break;
        name_ = pointer_target(message_, name_);
        continue;
      }
      ++name_;
      if (b == 0) {
        name_done_ = true;
      } else {
        label_left_ = b;
      }
      return b;
    }
    name_done_ = true;
    return 0;
  }

  std::span<const std::byte> message_;
  std::pair<std::size_t, std::size_t> raw1_{0, 0};
  std::pair<std::size_t, std::size_t> raw2_{0, 0};
  std::size_t name_ = 0;
  std::size_t label_left_ = 0;
  bool has_name_ = false;
  bool name_done_ = false;
};

void append_escaped(std::string& out, std::string_view label) {
  for (const char c : label) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '.' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b >= 0x20 && b <= 0x7E) {
      out += c;
    } else {
      out += '\\';
      out += static_cast<char>('0' + b / 100);
      out += static_cast<char>('0' + b / 10 % 10);
      out += static_cast<char>('0' + b % 10);
    }
  }
}

} // namespace

std::error_code check_dns_name(std::span<const std::byte> m, std::size_t offset,
                               std::size_t& end) noexcept {
  std::size_t pos = offset;
  // Every pointer must point before the start of the run of labels that led to it: the runs
  // then start at ever smaller offsets, so the walk ends (RFC 1035 allows forward pointers in
  // theory; no encoder writes them, and they are how loops are built).
  std::size_t barrier = offset;
  std::size_t total = 0;
  bool jumped = false;
  for (;;) {
    if (pos >= m.size()) return mdns_errc::name_truncated;
    const std::uint8_t b = u8(m, pos);
    if (is_pointer(b)) {
      if (pos + 1 >= m.size()) return mdns_errc::name_truncated;
      const std::size_t target = pointer_target(m, pos);
      if (!jumped) end = pos + 2;
      jumped = true;
      if (target >= m.size()) return mdns_errc::pointer_out_of_range;
      if (target >= barrier) return mdns_errc::compression_loop;
      barrier = target;
      pos = target;
      continue;
    }
    if ((b & 0xC0) != 0) return mdns_errc::label_too_long;
    if (b == 0) {
      if (!jumped) end = pos + 1;
      return {};
    }
    if (pos + 1 + b > m.size()) return mdns_errc::name_truncated;
    total += 1 + std::size_t{b};
    // Plus the terminating zero byte.
    if (total + 1 > dns_max_name_size) return mdns_errc::name_too_long;
    pos += 1 + b;
  }
}

// --- dns_name ---------------------------------------------------------------------------------

dns_name::iterator::iterator(std::span<const std::byte> message, std::size_t offset) noexcept
    : message_(message), offset_(offset), done_(false) {
  load();
}

void dns_name::iterator::load() noexcept {
  while (hops_ < max_hops && offset_ < message_.size()) {
    const std::uint8_t b = u8(message_, offset_);
    if (is_pointer(b)) {
      if (offset_ + 1 >= message_.size()) break;
      offset_ = pointer_target(message_, offset_);
      ++hops_;
      continue;
    }
    if (b == 0 || offset_ + 1 + b > message_.size()) break;
    label_ = {reinterpret_cast<const char*>(message_.data() + offset_ + 1), b};
    return;
  }
  done_ = true;
  label_ = {};
}

dns_name::iterator& dns_name::iterator::operator++() noexcept {
  offset_ += 1 + label_.size();
  ++hops_; // every label counts too: bounds a walk over a name nobody checked
  load();
  return *this;
}

std::size_t dns_name::wire_size() const noexcept {
  std::size_t size = 1;
  for (const std::string_view label : *this)
    size += 1 + label.size();
  return size;
}

std::size_t dns_name::copy_to(std::span<std::uint8_t> out) const noexcept {
  const std::size_t size = wire_size();
  if (out.size() < size) return 0;
  std::size_t i = 0;
  for (const std::string_view label : *this) {
    out[i++] = static_cast<std::uint8_t>(label.size());
    std::copy(label.begin(), label.end(), reinterpret_cast<char*>(out.data() + i));
    i += label.size();
  }
  out[i++] = 0;
  return i;
}

dns_wire_name dns_name::to_wire_name() const noexcept {
  dns_wire_name out;
  for (const std::string_view label : *this) {
    if (!out.push_label(label)) break; // cannot happen for a checked name
  }
  return out;
}

bool dns_name::equals(const dns_name& other) const noexcept {
  iterator a = begin();
  iterator b = other.begin();
  for (; a != end() && b != other.end(); ++a, ++b) {
    if (!dns_label_equal(*a, *b)) return false;
  }
  return a == end() && b == other.end();
}

bool dns_name::equals(std::span<const std::uint8_t> wire) const noexcept {
  std::size_t i = 0;
  for (const std::string_view label : *this) {
    if (i >= wire.size() || wire[i] != label.size() || i + 1 + label.size() > wire.size())
      return false;
    const std::string_view theirs(reinterpret_cast<const char*>(wire.data() + i + 1), label.size());
    if (!dns_label_equal(label, theirs)) return false;
    i += 1 + label.size();
  }
  return i < wire.size() && wire[i] == 0;
}

std::string dns_name::to_string() const {
  std::string out;
  for (const std::string_view label : *this) {
    append_escaped(out, label);
    out += '.';
  }
  return out.empty() ? "." : out;
}

// --- records ----------------------------------------------------------------------------------

bool dns_nsec::has_type(std::uint16_t type) const noexcept {
  const std::size_t window = type >> 8;
  const std::size_t bit = type & 0xFF;
  std::size_t i = 0;
  while (i + 2 <= bitmap.size()) {
    const std::size_t w = std::to_integer<std::size_t>(bitmap[i]);
    const std::size_t length = std::to_integer<std::size_t>(bitmap[i + 1]);
    if (i + 2 + length > bitmap.size()) return false;
    if (w == window) {
      if (bit / 8 >= length) return false;
      return (std::to_integer<unsigned>(bitmap[i + 2 + bit / 8]) & (0x80u >> (bit % 8))) != 0;
    }
    i += 2 + length;
  }
  return false;
}

std::error_code dns_record::as_a(std::array<std::uint8_t, 4>& out) const noexcept {
  if (type != dns_type::a || rdata.size() != out.size()) return mdns_errc::wrong_type;
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = std::to_integer<std::uint8_t>(rdata[i]);
  return {};
}

std::error_code dns_record::as_aaaa(std::array<std::uint8_t, 16>& out) const noexcept {
  if (type != dns_type::aaaa || rdata.size() != out.size()) return mdns_errc::wrong_type;
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = std::to_integer<std::uint8_t>(rdata[i]);
  return {};
}

std::error_code dns_record::as_ptr(dns_name& out) const noexcept {
  if (type != dns_type::ptr || message_.empty()) return mdns_errc::wrong_type;
  out = dns_name(message_, rdata_offset_);
  return {};
}

std::error_code dns_record::as_srv(dns_srv& out) const noexcept {
  if (type != dns_type::srv || rdata.size() < 7 || message_.empty()) return mdns_errc::wrong_type;
  out.priority = u16(rdata, 0);
  out.weight = u16(rdata, 2);
  out.port = u16(rdata, 4);
  out.target = dns_name(message_, rdata_offset_ + 6);
  return {};
}

std::error_code dns_record::as_nsec(dns_nsec& out) const noexcept {
  if (type != dns_type::nsec || message_.empty()) return mdns_errc::wrong_type;
  std::size_t end = 0;
  if (check_dns_name(message_, rdata_offset_, end)) return mdns_errc::wrong_type;
  out.next = dns_name(message_, rdata_offset_);
  out.bitmap = rdata.subspan(end - rdata_offset_);
  return {};
}

std::error_code dns_record::as_txt(std::span<const std::uint8_t>& out) const noexcept {
  if (type != dns_type::txt) return mdns_errc::wrong_type;
  out = {reinterpret_cast<const std::uint8_t*>(rdata.data()), rdata.size()};
  return {};
}

int compare_rdata(const dns_record& a, const dns_record& b) noexcept {
  canonical_cursor ca(a.message_, a.type, a.rdata_offset_, a.rdata_offset_ + a.rdata.size());
  canonical_cursor cb(b.message_, b.type, b.rdata_offset_, b.rdata_offset_ + b.rdata.size());
  for (;;) {
    const int x = ca.next();
    const int y = cb.next();
    if (x != y) return x < y ? -1 : 1;
    if (x < 0) return 0;
  }
}

int compare_rdata(const dns_record& a, std::span<const std::uint8_t> canonical) noexcept {
  canonical_cursor ca(a.message_, a.type, a.rdata_offset_, a.rdata_offset_ + a.rdata.size());
  for (std::size_t i = 0;; ++i) {
    const int x = ca.next();
    const int y = i < canonical.size() ? canonical[i] : -1;
    if (x != y) return x < y ? -1 : 1;
    if (x < 0) return 0;
  }
}

// --- dns_reader -------------------------------------------------------------------------------

dns_reader::dns_reader(std::span<const std::byte> message) noexcept : message_(message) {
  if (message.size() < header_size) {
    fail(mdns_errc::header_truncated);
    offset_ = 0;
    return;
  }
  header_.id = u16(message, 0);
  header_.flags = u16(message, 2);
  header_.question_count = u16(message, 4);
  header_.answer_count = u16(message, 6);
  header_.authority_count = u16(message, 8);
  header_.additional_count = u16(message, 10);
  questions_left_ = header_.question_count;
  answers_left_ = header_.answer_count;
  authority_left_ = header_.authority_count;
  additional_left_ = header_.additional_count;
  offset_ = header_size;
}

bool dns_reader::fail(mdns_errc code) noexcept {
  error_ = code;
  questions_left_ = answers_left_ = authority_left_ = additional_left_ = 0;
  return false;
}

bool dns_reader::read_name(dns_name& out) noexcept {
  std::size_t end = 0;
  if (const std::error_code ec = check_dns_name(message_, offset_, end)) {
    error_ = ec;
    questions_left_ = answers_left_ = authority_left_ = additional_left_ = 0;
    return false;
  }
  out = dns_name(message_, offset_);
  offset_ = end;
  return true;
}

bool dns_reader::next(dns_question& out) noexcept {
  if (questions_left_ == 0) return false;
  if (!read_name(out.name)) return false;
  if (offset_ + 4 > message_.size()) return fail(mdns_errc::record_truncated);
  out.type = u16(message_, offset_);
  const std::uint16_t qclass = u16(message_, offset_ + 2);
  out.qclass = qclass & 0x7FFF;
  out.unicast_response = (qclass & 0x8000) != 0;
  offset_ += 4;
  --questions_left_;
  return true;
}

bool dns_reader::check_rdata(const dns_record& r) noexcept {
  const std::size_t begin = r.rdata_offset_;
  const std::size_t end = begin + r.rdata.size();
  std::size_t name_end = 0;
  switch (r.type) {
  case dns_type::a:
    return r.rdata.size() == 4 || fail(mdns_errc::bad_rdata);
  case dns_type::aaaa:
    return r.rdata.size() == 16 || fail(mdns_errc::bad_rdata);
  case dns_type::ptr:
  case dns_type::srv: {
    const std::size_t at = r.type == dns_type::srv ? begin + 6 : begin;
    if (at >= end) return fail(mdns_errc::bad_rdata);
    if (const std::error_code ec = check_dns_name(message_, at, name_end))
      return fail(static_cast<mdns_errc>(ec.value()));
    return name_end == end || fail(mdns_errc::bad_rdata);
  }
  case dns_type::nsec: {
    if (begin >= end) return fail(mdns_errc::bad_rdata);
    if (const std::error_code ec = check_dns_name(message_, begin, name_end))
      return fail(static_cast<mdns_errc>(ec.value()));
    if (name_end > end) return fail(mdns_errc::bad_rdata);
    // Type bitmap: windows of (number, length 1-32, bits), exactly filling the data.
    std::size_t i = name_end;
    while (i < end) {
      if (i + 2 > end) return fail(mdns_errc::bad_rdata);
      const std::size_t length = u8(message_, i + 1);
      if (length == 0 || length > 32 || i + 2 + length > end) return fail(mdns_errc::bad_rdata);
      i += 2 + length;
    }
    return true;
  }
  default:
    return true;
  }
}

bool dns_reader::next(dns_record& out) noexcept {
  // Questions nobody read are skipped (and checked on the way).
  dns_question skipped;
  while (questions_left_ > 0) {
    if (!next(skipped)) return false;
  }
  if (answers_left_ > 0) {
    out.section = dns_section::answer;
  } else if (authority_left_ > 0) {
    out.section = dns_section::authority;
  } else if (additional_left_ > 0) {
    out.section = dns_section::additional;
  } else {
    return false;
  }
  if (!read_name(out.name)) return false;
  if (offset_ + record_fixed_size > message_.size()) return fail(mdns_errc::record_truncated);
  out.type = u16(message_, offset_);
  const std::uint16_t rclass = u16(message_, offset_ + 2);
  out.rclass = rclass & 0x7FFF;
  out.cache_flush = (rclass & 0x8000) != 0;
  out.ttl = u32(message_, offset_ + 4);
  const std::size_t length = u16(message_, offset_ + 8);
  offset_ += record_fixed_size;
  if (offset_ + length > message_.size()) return fail(mdns_errc::record_truncated);
  out.rdata = message_.subspan(offset_, length);
  out.message_ = message_;
  out.rdata_offset_ = offset_;
  if (!check_rdata(out)) return false;
  offset_ += length;
  switch (out.section) {
  case dns_section::answer:
    --answers_left_;
    break;
  case dns_section::authority:
    --authority_left_;
    break;
  case dns_section::additional:
    --additional_left_;
    break;
  }
  return true;
}

std::error_code validate_dns_message(std::span<const std::byte> message) noexcept {
  dns_reader reader(message);
  dns_record record;
  while (reader.next(record)) {
  }
  return reader.error();
}

} // namespace lanyard::core
