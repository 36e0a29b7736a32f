#include <lanyard/firmware/controller_table.hpp>

#include <lanyard/core/crc32c.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/firmware/error.hpp>

#include <algorithm>
#include <cstring>
#include <new>

namespace lanyard::firmware {
namespace {

constexpr std::array<std::uint8_t, 4> magic{'L', 'Y', 'C', 'T'};
constexpr std::uint8_t version = 1;

using sys = std::chrono::system_clock;

std::int64_t to_seconds(sys::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
constexpr std::int64_t max_seconds = 9'000'000'000; // year 2255; fits nanoseconds in 64 bits
bool representable(std::int64_t s) noexcept {
  return s >= -max_seconds && s <= max_seconds;
}
sys::time_point from_seconds(std::int64_t s) noexcept {
  return sys::time_point(std::chrono::duration_cast<sys::duration>(std::chrono::seconds(s)));
}

// Little-endian writer over a span the caller sized (serialize checks the room first).
struct writer {
  std::span<std::byte> out;
  std::size_t at = 0;
  void u8(std::uint8_t v) noexcept { out[at++] = std::byte{v}; }
  void u32(std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i)
      u8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void i64(std::int64_t v) noexcept {
    const auto u = static_cast<std::uint64_t>(v);
    for (int i = 0; i < 8; ++i)
      u8(static_cast<std::uint8_t>(u >> (8 * i)));
  }
  void bytes(const void* p, std::size_t n) noexcept {
    std::memcpy(out.data() + at, p, n);
    at += n;
  }
};

// Bounds-checked little-endian reader: every read says whether it fit.
struct reader {
  std::span<const std::byte> in;
  std::size_t at = 0;
  bool ok = true;
  std::uint8_t u8() noexcept {
    if (at + 1 > in.size()) {
      ok = false;
      return 0;
    }
    return std::to_integer<std::uint8_t>(in[at++]);
  }
  std::uint32_t u32() noexcept {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= std::uint32_t{u8()} << (8 * i);
    return v;
  }
  std::int64_t i64() noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= std::uint64_t{u8()} << (8 * i);
    return static_cast<std::int64_t>(v);
  }
  bool bytes(void* p, std::size_t n) noexcept {
    if (at + n > in.size()) return ok = false;
    std::memcpy(p, in.data() + at, n);
    at += n;
    return true;
  }
};

std::uint32_t checksum(std::span<const std::byte> b) noexcept {
  return core::crc32c(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
}

} // namespace

controller_table::controller_table(std::size_t capacity) noexcept
    : entries_(new (std::nothrow) controller_entry[std::clamp<std::size_t>(capacity, 1, 255)]) {
  if (entries_) capacity_ = std::clamp<std::size_t>(capacity, 1, 255);
}

const controller_entry* controller_table::find(const core::fingerprint& key) const noexcept {
  for (const auto& e : list())
    if (e.key == key) return &e;
  return nullptr;
}

std::error_code controller_table::add(const core::fingerprint& key, std::string_view name,
                                      core::paired_role& role) {
  name = name.substr(0, controller_entry::max_name);
  controller_entry* it = nullptr;
  for (std::size_t i = 0; i < size_ && it == nullptr; ++i)
    if (entries_[i].key == key) it = &entries_[i];
  if (it == nullptr) {
    if (size_ >= capacity_) return core::pairing_errc::controllers_full;
    it = &entries_[size_];
    *it = controller_entry{};
    it->key = key;
    // The first controller is admin: an accessory is never left without one.
    it->role = size_ == 0 ? core::paired_role::admin : core::paired_role::user;
    ++size_; // within the reserved room: no allocation
  }
  it->name_length = static_cast<std::uint8_t>(name.size());
  std::memcpy(it->name_bytes.data(), name.data(), name.size());
  role = it->role;
  return {};
}

bool controller_table::remove(const core::fingerprint& key) noexcept {
  const controller_entry* it = find(key);
  if (it == nullptr) return false;
  const auto at = static_cast<std::size_t>(it - entries_.get());
  std::copy(entries_.get() + at + 1, entries_.get() + size_, entries_.get() + at);
  --size_;
  return true;
}

bool controller_table::restore(const controller_entry& e) noexcept {
  if (!entries_ || find(e.key) || size_ >= capacity_) return false;
  entries_[size_++] = e; // within the reserved room: no allocation
  return true;
}

bool controller_table::set_role(const core::fingerprint& key, core::paired_role role) noexcept {
  for (std::size_t i = 0; i < size_; ++i)
    if (entries_[i].key == key) {
      entries_[i].role = role;
      return true;
    }
  return false;
}

bool controller_table::last_admin(const core::fingerprint& key) const noexcept {
  const controller_entry* me = find(key);
  if (!me || me->role != core::paired_role::admin || size_ < 2) return false;
  for (const controller_entry& e : list())
    if (!(e.key == key) && e.role == core::paired_role::admin) return false;
  return true;
}

std::size_t controller_table::serialize(std::span<std::byte> out) const noexcept {
  if (out.size() < blob_size(capacity_)) return 0;
  writer w{out};
  w.bytes(magic.data(), magic.size());
  w.u8(version);
  const core::pairing_window_state& s = window_.state();
  w.u8(s.open ? 1 : 0);
  w.u8(static_cast<std::uint8_t>(s.close_reason));
  w.u32(s.failed_attempts);
  w.i64(to_seconds(s.opened_at));
  w.i64(to_seconds(s.deadline));
  w.u8(static_cast<std::uint8_t>(size_));
  for (const auto& e : list()) {
    w.bytes(e.key.bytes.data(), e.key.bytes.size());
    w.u8(static_cast<std::uint8_t>(e.role));
    w.u8(e.name_length);
    w.bytes(e.name_bytes.data(), e.name_length);
  }
  w.u32(checksum(out.first(w.at)));
  return w.at;
}

std::error_code controller_table::parse(std::span<const std::byte> blob) {
  if (blob.size() < header_size + 1 + 4) return firmware_errc::storage_corrupt;
  const std::size_t body = blob.size() - 4;
  reader crc{blob.subspan(body)};
  if (crc.u32() != checksum(blob.first(body))) return firmware_errc::storage_corrupt;
  reader r{blob.first(body)};
  std::array<std::uint8_t, 4> m{};
  r.bytes(m.data(), m.size());
  if (m != magic || r.u8() != version) return firmware_errc::storage_corrupt;
  core::pairing_window_state s;
  const std::uint8_t open = r.u8();
  const std::uint8_t reason = r.u8();
  s.failed_attempts = r.u32();
  const std::int64_t opened_s = r.i64();
  const std::int64_t deadline_s = r.i64();
  if (open > 1 || reason > static_cast<std::uint8_t>(core::window_close_reason::closed))
    return firmware_errc::storage_corrupt;
  // Times the clock cannot hold (system_clock counts nanoseconds in 64 bits: about ±292 years)
  // were not written by this code; converting them would overflow.
  if (!representable(opened_s) || !representable(deadline_s)) return firmware_errc::storage_corrupt;
  s.opened_at = from_seconds(opened_s);
  s.deadline = from_seconds(deadline_s);
  s.open = open == 1;
  s.close_reason = static_cast<core::window_close_reason>(reason);
  const std::size_t count = r.u8();
  if (!r.ok) return firmware_errc::storage_corrupt;
  if (count > capacity_) return firmware_errc::storage_over_capacity;
  // Two passes: the first checks every entry (lengths, roles, no key twice), so a damaged blob
  // leaves the table as it was; the second takes them.
  std::array<std::size_t, 255> key_at{};
  const std::size_t entries_at = r.at;
  for (int pass = 0; pass < 2; ++pass) {
    r.at = entries_at;
    if (pass == 1) size_ = 0;
    for (std::size_t i = 0; i < count; ++i) {
      controller_entry e;
      key_at[i] = r.at;
      r.bytes(e.key.bytes.data(), e.key.bytes.size());
      const std::uint8_t role = r.u8();
      e.name_length = r.u8();
      if (!r.ok || role > 1 || e.name_length > controller_entry::max_name)
        return firmware_errc::storage_corrupt;
      if (!r.bytes(e.name_bytes.data(), e.name_length)) return firmware_errc::storage_corrupt;
      e.role = static_cast<core::paired_role>(role);
      if (pass == 1) {
        entries_[size_++] = e; // count <= capacity: within the reserved room
        continue;
      }
      for (std::size_t j = 0; j < i; ++j) // a key twice: not a blob this code wrote
        if (std::memcmp(blob.data() + key_at[j], e.key.bytes.data(), e.key.bytes.size()) == 0)
          return firmware_errc::storage_corrupt;
    }
    if (r.at != body) return firmware_errc::storage_corrupt;
  }
  window_ = core::pairing_window(s);
  return {};
}

} // namespace lanyard::firmware
