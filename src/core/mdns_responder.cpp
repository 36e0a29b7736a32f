#include "lanyard/core/mdns_responder.hpp"

#include <lanyard/core/txt_record.hpp>

#include <algorithm>
#include <cstring>

namespace lanyard::core {
namespace {

using namespace std::chrono_literals;
using time_point = mdns_responder::time_point;

// "Never multicast": last_multicast entries start here, and every comparison checks for it
// before doing arithmetic (time_point::min() plus or minus anything overflows).
constexpr time_point never = time_point::min();

constexpr auto probe_interval = 250ms;
constexpr auto announce_interval = 1s;
constexpr std::uint8_t probe_count = 3;
constexpr std::uint8_t announce_count = 2;
// Section 6: at most one multicast of a record per second per interface; 250 ms for probe
// defence.
constexpr auto multicast_interval = 1s;
constexpr auto probe_defence_interval = 250ms;
// Section 6.7: legacy unicast replies carry TTLs of at most 10 s.
constexpr std::uint32_t legacy_max_ttl = 10;
// Section 8.1: 15 conflicts within 10 s make every later probe sequence wait 5 s.
constexpr auto conflict_window = 10s;
constexpr auto conflict_hold = 5s;

constexpr std::uint32_t bit(std::size_t i) noexcept {
  return std::uint32_t{1} << i;
}

bool recently(time_point last, time_point now, std::chrono::nanoseconds interval) noexcept {
  return last != never && now < last + interval;
}

// Digits of n (n >= 2) after `prefix`, for "Lamp (2)" and "lamp-2".
std::size_t format_suffix(char* out, std::string_view prefix, std::uint32_t n,
                          std::string_view closing) noexcept {
  char digits[10];
  std::size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0 && count < sizeof digits);
  std::size_t i = 0;
  for (char c : prefix)
    out[i++] = c;
  while (count > 0)
    out[i++] = digits[--count];
  for (char c : closing)
    out[i++] = c;
  return i;
}

// How many bytes of `base` fit before a suffix of `suffix_size`, without cutting a UTF-8
// sequence in two (a continuation byte is 10xxxxxx).
std::size_t fit_base(std::string_view base, std::size_t suffix_size) noexcept {
  std::size_t size = std::min(base.size(), dns_max_label_size - suffix_size);
  while (size > 0 && size < base.size() && (static_cast<unsigned char>(base[size]) & 0xC0) == 0x80)
    --size;
  return size;
}

// `base` + `prefix` + `n` + `closing` ("Lamp (2)", "lamp-2") into `label`, the base cut short
// (at a UTF-8 boundary) so that the whole fits one label. Returns its size.
std::size_t suffixed_label(std::string_view base, std::string_view prefix, std::uint32_t n,
                           std::string_view closing,
                           std::array<char, dns_max_label_size>& label) noexcept {
  char suffix[16];
  const std::size_t suffix_size = format_suffix(suffix, prefix, n, closing);
  const std::size_t kept = fit_base(base, suffix_size);
  std::memcpy(label.data(), base.data(), kept);
  std::memcpy(label.data() + kept, suffix, suffix_size);
  return kept + suffix_size;
}

// Splits "Lamp (7)" into "Lamp" and 7, "lamp-7" into "lamp" and 7; names without such a
// suffix (or with a suffix below 2) keep it as part of the base.
std::uint32_t split_suffix(std::string_view name, std::string_view opening,
                           std::string_view closing, std::size_t& base_size) noexcept {
  base_size = name.size();
  if (name.size() <= closing.size() || name.substr(name.size() - closing.size()) != closing)
    return 1;
  const std::string_view head = name.substr(0, name.size() - closing.size());
  std::size_t digits = 0;
  while (digits < head.size() && digits < 9 && head[head.size() - 1 - digits] >= '0' &&
         head[head.size() - 1 - digits] <= '9')
    ++digits;
  if (digits == 0 || head[head.size() - digits] == '0') return 1;
  const std::string_view rest = head.substr(0, head.size() - digits);
  if (rest.size() <= opening.size() || rest.substr(rest.size() - opening.size()) != opening)
    return 1;
  std::uint32_t n = 0;
  for (char c : head.substr(head.size() - digits))
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  if (n < 2) return 1;
  base_size = rest.size() - opening.size();
  return n;
}

bool valid_service_type(std::string_view type) noexcept {
  const std::size_t dot = type.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view name = type.substr(0, dot);
  const std::string_view proto = type.substr(dot + 1);
  if (name.size() < 2 || name.size() > 16 || name[0] != '_') return false;
  for (char c : name.substr(1)) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return dns_label_equal(proto, "_tcp") || dns_label_equal(proto, "_udp");
}

std::error_code check_txt(std::span<const std::uint8_t> txt) noexcept {
  if (txt.size() > mdns_limits::max_txt_size) return mdns_errc::txt_too_large;
  txt_reader reader(txt, txt_decode_mode::lenient);
  txt_string_view s;
  while (reader.next(s)) {
  }
  return reader.error() ? std::error_code(mdns_errc::invalid_txt) : std::error_code();
}

// The NSEC type bitmap (window 0) for `types`, into `out`; returns its size (0: no window).
std::size_t nsec_bitmap(std::initializer_list<std::uint16_t> types, std::uint8_t* out) noexcept {
  std::array<std::uint8_t, 32> bits{};
  std::size_t length = 0;
  for (const std::uint16_t t : types) {
    if (t == 0 || t > 255) continue;
    bits[t / 8] |= static_cast<std::uint8_t>(0x80u >> (t % 8));
    length = std::max<std::size_t>(length, t / 8 + 1);
  }
  if (length == 0) return 0;
  out[0] = 0;
  out[1] = static_cast<std::uint8_t>(length);
  std::memcpy(out + 2, bits.data(), length);
  return 2 + length;
}

// A handful of elements: insertion sort (std::sort on an 8-element array trips GCC 12's
// -Warray-bounds inside its own 16-element insertion threshold).
template <class T, class Less>
void small_sort(T* first, std::size_t count, Less less) noexcept {
  for (std::size_t i = 1; i < count; ++i) {
    for (std::size_t j = i; j > 0 && less(first[j], first[j - 1]); --j)
      std::swap(first[j], first[j - 1]);
  }
}

} // namespace

// --- configuration ------------------------------------------------------------------------------

std::error_code mdns_responder::configure(const mdns_responder_config& config) noexcept {
  if (stopped_) return mdns_errc::stopped;
  if (config.host_name.empty() || config.host_name.size() > dns_max_label_size ||
      config.host_name.find('.') != std::string_view::npos)
    return mdns_errc::invalid_host_name;
  if (config.instance_name.empty() || config.instance_name.size() > dns_max_label_size)
    return mdns_errc::invalid_instance_name;
  if (!valid_service_type(config.service_type)) return mdns_errc::invalid_service_type;
  if (const std::error_code ec = check_txt(config.txt)) return ec;

  dns_wire_name service;
  dns_wire_name host;
  dns_wire_name instance;
  if (!service.push_dotted(config.service_type) || !service.push_label("local") ||
      !host.push_label(config.host_name) || !host.push_label("local") ||
      !instance.push_label(config.instance_name) || !instance.push_name(service))
    return mdns_errc::invalid_service_type; // cannot happen after the checks above
  service_ = service;
  host_ = host;
  instance_ = instance;
  enumeration_.clear();
  enumeration_.push_dotted("_services._dns-sd._udp.local");

  host_suffix_ = split_suffix(config.host_name, "-", "", host_base_size_);
  std::memcpy(host_base_.data(), config.host_name.data(), host_base_size_);
  instance_suffix_ = split_suffix(config.instance_name, " (", ")", instance_base_size_);
  std::memcpy(instance_base_.data(), config.instance_name.data(), instance_base_size_);

  port_ = config.port;
  if (config.txt.empty()) {
    txt_[0] = 0;
    txt_size_ = 1;
  } else {
    std::memcpy(txt_.data(), config.txt.data(), config.txt.size());
    txt_size_ = config.txt.size();
  }
  auto clamp_ttl = [](std::chrono::seconds s) {
    return static_cast<std::uint32_t>(std::clamp<std::int64_t>(s.count(), 1, 0x7FFFFFFF));
  };
  host_ttl_ = clamp_ttl(config.host_ttl);
  service_ttl_ = clamp_ttl(config.service_ttl);
  random_state_ = config.random_seed;
  probe_hold_until_ = never;
  configured_ = true;
  return {};
}

// --- small helpers ------------------------------------------------------------------------------

std::chrono::milliseconds mdns_responder::random_ms(int low, int high) noexcept {
  // splitmix64: small, fast and good enough to spread delays; the seed is the entropy.
  random_state_ += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = random_state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const auto span = static_cast<std::uint64_t>(high - low + 1);
  return std::chrono::milliseconds(low + static_cast<int>(z % span));
}

mdns_responder::interface_slot* mdns_responder::find(std::uint32_t interface) noexcept {
  for (interface_slot& s : interfaces_) {
    if (s.used && s.index == interface) return &s;
  }
  return nullptr;
}

const mdns_responder::interface_slot* mdns_responder::find(std::uint32_t interface) const noexcept {
  for (const interface_slot& s : interfaces_) {
    if (s.used && s.index == interface) return &s;
  }
  return nullptr;
}

void mdns_responder::push_event(mdns_event_kind kind, std::uint32_t interface) noexcept {
  if (event_count_ == events_.size()) { // drop the oldest
    event_first_ = (event_first_ + 1) % events_.size();
    --event_count_;
  }
  events_[(event_first_ + event_count_) % events_.size()] = {kind, interface};
  ++event_count_;
}

std::optional<mdns_event> mdns_responder::next_event() noexcept {
  if (event_count_ == 0) return std::nullopt;
  const mdns_event e = events_[event_first_];
  event_first_ = (event_first_ + 1) % events_.size();
  --event_count_;
  return e;
}

mdns_state mdns_responder::state() const noexcept {
  if (stopped_) return mdns_state::stopped;
  bool any = false;
  bool announcing = false;
  for (const interface_slot& s : interfaces_) {
    if (!s.used) continue;
    any = true;
    if (s.state == phase::probing) return mdns_state::probing;
    if (s.state == phase::announcing) announcing = true;
  }
  if (!configured_ || !any) return mdns_state::idle;
  return announcing ? mdns_state::announcing : mdns_state::announced;
}

bool mdns_responder::announced_on(std::uint32_t interface) const noexcept {
  const interface_slot* s = find(interface);
  return s && s->state == phase::announced;
}

std::uint32_t mdns_responder::valid_mask(const interface_slot& slot) const noexcept {
  std::uint32_t mask = bit(rec_ptr) | bit(rec_enum) | bit(rec_srv) | bit(rec_txt) |
                       bit(rec_nsec_instance) | bit(rec_nsec_host);
  for (std::size_t i = 0; i < slot.address_count; ++i)
    mask |= bit(rec_address + i);
  return mask;
}

std::uint32_t mdns_responder::ttl_of(std::size_t rec) const noexcept {
  switch (rec) {
  case rec_ptr:
  case rec_enum:
  case rec_txt:
    return service_ttl_;
  default:
    return host_ttl_;
  }
}

std::span<const std::uint8_t> mdns_responder::name_of(std::size_t rec) const noexcept {
  switch (rec) {
  case rec_ptr:
    return service_.wire();
  case rec_enum:
    return enumeration_.wire();
  case rec_srv:
  case rec_txt:
  case rec_nsec_instance:
    return instance_.wire();
  default:
    return host_.wire();
  }
}

std::uint16_t mdns_responder::type_of(const interface_slot& slot, std::size_t rec) const noexcept {
  switch (rec) {
  case rec_ptr:
  case rec_enum:
    return dns_type::ptr;
  case rec_srv:
    return dns_type::srv;
  case rec_txt:
    return dns_type::txt;
  case rec_nsec_instance:
  case rec_nsec_host:
    return dns_type::nsec;
  default:
    return slot.addresses[rec - rec_address].v6 ? dns_type::aaaa : dns_type::a;
  }
}

std::span<const std::uint8_t>
mdns_responder::rdata_of(const interface_slot& slot, std::size_t rec,
                         std::span<std::uint8_t> scratch) const noexcept {
  auto copy_name = [&](const dns_wire_name& n, std::size_t at) {
    std::memcpy(scratch.data() + at, n.wire().data(), n.wire().size());
    return at + n.wire().size();
  };
  switch (rec) {
  case rec_ptr:
    return instance_.wire();
  case rec_enum:
    return service_.wire();
  case rec_srv: {
    scratch[0] = scratch[1] = scratch[2] = scratch[3] = 0; // priority, weight
    scratch[4] = static_cast<std::uint8_t>(port_ >> 8);
    scratch[5] = static_cast<std::uint8_t>(port_ & 0xFF);
    return scratch.first(copy_name(host_, 6));
  }
  case rec_txt:
    return {txt_.data(), txt_size_};
  case rec_nsec_instance: {
    const std::size_t at = copy_name(instance_, 0);
    return scratch.first(at + nsec_bitmap({dns_type::txt, dns_type::srv}, scratch.data() + at));
  }
  case rec_nsec_host: {
    bool v4 = false;
    bool v6 = false;
    for (std::size_t i = 0; i < slot.address_count; ++i)
      (slot.addresses[i].v6 ? v6 : v4) = true;
    const std::size_t at = copy_name(host_, 0);
    return scratch.first(at + nsec_bitmap({v4 ? dns_type::a : std::uint16_t{0},
                                           v6 ? dns_type::aaaa : std::uint16_t{0}},
                                          scratch.data() + at));
  }
  default:
    return slot.addresses[rec - rec_address].data();
  }
}

std::error_code mdns_responder::write_record(dns_writer& w, const interface_slot& slot,
                                             std::size_t rec, dns_section section,
                                             std::uint32_t ttl, bool cache_flush) const noexcept {
  const dns_record_spec spec{section, name_of(rec), ttl, cache_flush};
  switch (rec) {
  case rec_ptr:
    return w.add_ptr(spec, instance_.wire());
  case rec_enum:
    return w.add_ptr(spec, service_.wire());
  case rec_srv:
    return w.add_srv(spec, 0, 0, port_, host_.wire());
  case rec_txt:
    return w.add_raw(spec, dns_type::txt, {txt_.data(), txt_size_});
  case rec_nsec_instance: {
    const std::uint16_t types[] = {dns_type::txt, dns_type::srv};
    return w.add_nsec(spec, types);
  }
  case rec_nsec_host: {
    std::array<std::uint16_t, 2> types{};
    std::size_t n = 0;
    bool v4 = false;
    bool v6 = false;
    for (std::size_t i = 0; i < slot.address_count; ++i)
      (slot.addresses[i].v6 ? v6 : v4) = true;
    if (v4) types[n++] = dns_type::a;
    if (v6) types[n++] = dns_type::aaaa;
    return w.add_nsec(spec, std::span<const std::uint16_t>(types.data(), n));
  }
  default: {
    const mdns_address& a = slot.addresses[rec - rec_address];
    return w.add_raw(spec, a.v6 ? dns_type::aaaa : dns_type::a, a.data());
  }
  }
}

int mdns_responder::match_record(const interface_slot& slot, const dns_record& r) const noexcept {
  if (r.rclass != dns_class_in) return -1;
  std::array<std::uint8_t, dns_max_name_size + 40> scratch{};
  auto same = [&](std::size_t rec) {
    return r.type == type_of(slot, rec) && compare_rdata(r, rdata_of(slot, rec, scratch)) == 0;
  };
  if (r.name.equals(service_)) return same(rec_ptr) ? static_cast<int>(rec_ptr) : -1;
  if (r.name.equals(enumeration_)) return same(rec_enum) ? static_cast<int>(rec_enum) : -1;
  if (r.name.equals(instance_)) {
    for (std::size_t rec : {rec_srv, rec_txt, rec_nsec_instance}) {
      if (same(rec)) return static_cast<int>(rec);
    }
    return -1;
  }
  if (r.name.equals(host_)) {
    if (same(rec_nsec_host)) return static_cast<int>(rec_nsec_host);
    for (std::size_t i = 0; i < slot.address_count; ++i) {
      if (same(rec_address + i)) return static_cast<int>(rec_address + i);
    }
  }
  return -1;
}

bool mdns_responder::is_ours_anywhere(const dns_record& r) const noexcept {
  for (const interface_slot& s : interfaces_) {
    if (s.used && match_record(s, r) >= 0) return true;
  }
  return false;
}

// --- interfaces, TXT, stop ----------------------------------------------------------------------

void mdns_responder::start_probing(interface_slot& slot, time_point now) noexcept {
  slot.state = phase::probing;
  slot.probes_sent = 0;
  slot.announcements_left = 0;
  slot.announce_mask = 0;
  slot.announce_unsent = 0;
  slot.multicast_answers = slot.multicast_additional = slot.tc_mask = 0;
  slot.multicast_due = time_point::max();
  slot.last_multicast.fill(never);
  slot.next_step = now + random_ms(0, 250);
  if (probe_hold_until_ != never && slot.next_step < probe_hold_until_)
    slot.next_step = probe_hold_until_;
  for (unicast_reply& u : unicast_) {
    if (u.used && u.interface == slot.index) u.used = false;
  }
}

void mdns_responder::restart_all_probing(time_point now) noexcept {
  for (interface_slot& s : interfaces_) {
    if (s.used) start_probing(s, now);
  }
}

std::error_code mdns_responder::interface_up(time_point now, std::uint32_t interface,
                                             std::span<const mdns_address> addresses) noexcept {
  if (stopped_) return mdns_errc::stopped;
  if (!configured_) return mdns_errc::not_configured;
  if (addresses.size() > mdns_limits::max_addresses_per_interface)
    return mdns_errc::too_many_addresses;
  if (find(interface)) return set_addresses(now, interface, addresses);
  interface_slot* free = nullptr;
  for (interface_slot& s : interfaces_) {
    if (!s.used) {
      free = &s;
      break;
    }
  }
  if (!free) return mdns_errc::too_many_interfaces;
  *free = interface_slot{};
  free->used = true;
  free->index = interface;
  std::copy(addresses.begin(), addresses.end(), free->addresses.begin());
  free->address_count = addresses.size();
  start_probing(*free, now);
  return {};
}

void mdns_responder::interface_down(time_point, std::uint32_t interface) noexcept {
  interface_slot* slot = find(interface);
  if (!slot) return;
  for (unicast_reply& u : unicast_) {
    if (u.used && u.interface == interface) u.used = false;
  }
  *slot = interface_slot{};
}

std::error_code mdns_responder::set_addresses(time_point now, std::uint32_t interface,
                                              std::span<const mdns_address> addresses) noexcept {
  if (stopped_) return mdns_errc::stopped;
  if (addresses.size() > mdns_limits::max_addresses_per_interface)
    return mdns_errc::too_many_addresses;
  interface_slot* slot = find(interface);
  if (!slot) return interface_up(now, interface, addresses);
  auto contains = [](std::span<const mdns_address> set, const mdns_address& a) {
    return std::find(set.begin(), set.end(), a) != set.end();
  };
  const std::span<const mdns_address> old(slot->addresses.data(), slot->address_count);
  bool added = false;
  for (const mdns_address& a : addresses)
    added = added || !contains(old, a);
  for (const mdns_address& a : old) {
    // A removed address that was announced is owed a goodbye (section 10.1).
    if (!contains(addresses, a) && slot->ever_announced &&
        slot->retired_count < slot->retired.size())
      slot->retired[slot->retired_count++] = a;
  }
  std::copy(addresses.begin(), addresses.end(), slot->addresses.begin());
  std::fill(slot->addresses.begin() + static_cast<std::ptrdiff_t>(addresses.size()),
            slot->addresses.end(), mdns_address{});
  slot->address_count = addresses.size();
  // Address bits now name other addresses: forget what was pending or sent for them.
  std::uint32_t address_bits = 0;
  for (std::size_t i = 0; i < mdns_limits::max_addresses_per_interface; ++i) {
    address_bits |= bit(rec_address + i);
    slot->last_multicast[rec_address + i] = never;
  }
  slot->multicast_answers &= ~address_bits;
  slot->multicast_additional &= ~address_bits;
  slot->tc_mask &= ~address_bits;
  slot->announce_unsent &= ~address_bits;
  for (unicast_reply& u : unicast_) {
    if (u.used && u.interface == interface) {
      u.answers &= ~address_bits;
      u.additional &= ~address_bits;
    }
  }
  if (added && slot->state != phase::probing) {
    // New address records for a name that is already ours: announce them (section 8.4).
    std::uint32_t new_bits = 0;
    for (std::size_t i = 0; i < slot->address_count; ++i)
      new_bits |= bit(rec_address + i);
    slot->announce_mask = (slot->state == phase::announcing ? slot->announce_mask : 0) | new_bits;
    if (slot->state == phase::announced) slot->next_step = now;
    slot->state = phase::announcing;
    slot->announcements_left = announce_count;
  }
  return {};
}

std::error_code mdns_responder::set_txt(time_point now,
                                        std::span<const std::uint8_t> txt) noexcept {
  if (stopped_) return mdns_errc::stopped;
  if (!configured_) return mdns_errc::not_configured;
  if (const std::error_code ec = check_txt(txt)) return ec;
  if (txt.empty()) {
    txt_[0] = 0;
    txt_size_ = 1;
  } else {
    std::memcpy(txt_.data(), txt.data(), txt.size());
    txt_size_ = txt.size();
  }
  for (interface_slot& s : interfaces_) {
    if (!s.used) continue;
    // A changed record is a new record: the once-a-second limit does not hold it back.
    s.last_multicast[rec_txt] = never;
    if (s.state == phase::probing) continue; // the probes already carry the new TXT
    s.announce_mask = (s.state == phase::announcing ? s.announce_mask : 0) | bit(rec_txt);
    if (s.state == phase::announced) s.next_step = now;
    s.state = phase::announcing;
    s.announcements_left = announce_count;
  }
  return {};
}

void mdns_responder::stop(time_point) noexcept {
  if (stopped_) return;
  stopped_ = true;
  for (interface_slot& s : interfaces_) {
    if (!s.used) continue;
    s.goodbye_pending = s.ever_announced;
    s.multicast_answers = s.multicast_additional = s.tc_mask = 0;
    s.multicast_due = time_point::max();
    s.announcements_left = 0;
    s.announce_unsent = 0;
  }
  for (unicast_reply& u : unicast_)
    u.used = false;
}

// --- conflicts and renaming ---------------------------------------------------------------------

void mdns_responder::note_conflict(time_point now) noexcept {
  conflicts_[conflict_next_] = now;
  conflict_next_ = (conflict_next_ + 1) % conflicts_.size();
  conflict_count_ = std::min(conflict_count_ + 1, conflicts_.size());
  // With the ring full, conflict_next_ is the oldest of the last 15.
  if (conflict_count_ == conflicts_.size() && conflicts_[conflict_next_] + conflict_window > now) {
    probe_hold_until_ = now + conflict_hold;
    push_event(mdns_event_kind::rate_limited, 0);
  }
}

void mdns_responder::rename(bool host, time_point) noexcept {
  std::uint32_t& suffix = host ? host_suffix_ : instance_suffix_;
  suffix = suffix >= 999999 ? 2 : suffix + 1;
  std::array<char, dns_max_label_size> label{};
  const std::size_t size =
      host ? suffixed_label({host_base_.data(), host_base_size_}, "-", suffix, "", label)
           : suffixed_label({instance_base_.data(), instance_base_size_}, " (", suffix, ")", label);
  dns_wire_name name;
  const bool labelled = name.push_label({label.data(), size});
  if (host) {
    if (labelled && name.push_label("local")) host_ = name;
    push_event(mdns_event_kind::host_renamed, 0);
  } else {
    if (labelled && name.push_name(service_)) instance_ = name;
    push_event(mdns_event_kind::instance_renamed, 0);
  }
}

// --- incoming packets ---------------------------------------------------------------------------

void mdns_responder::on_packet(time_point now, const mdns_source& from,
                               std::span<const std::byte> packet) noexcept {
  if (stopped_ || !configured_) return;
  interface_slot* slot = find(from.interface);
  if (!slot) return;
  // A malformed packet is dropped whole (section 18); after this every read succeeds.
  if (validate_dns_message(packet)) return;
  const dns_reader reader(packet);
  if (reader.header().opcode() != 0 || reader.header().rcode() != 0) return;
  on_timer(now);
  if (reader.header().is_response()) {
    if (from.port != mdns_port) return; // section 11
    handle_response(now, *slot, packet);
  } else {
    handle_query(now, *slot, from, packet);
  }
}

void mdns_responder::handle_response(time_point now, interface_slot& slot,
                                     std::span<const std::byte> packet) noexcept {
  bool host_conflict = false;
  bool instance_conflict = false;
  bool announced_conflict = false;
  dns_reader reader(packet);
  dns_record r;
  while (reader.next(r)) {
    const int mine = match_record(slot, r);
    if (mine >= 0) {
      // Section 7.4: someone else multicast our record with at least our TTL: ours is sent.
      const auto rec = static_cast<std::size_t>(mine);
      if (r.ttl >= ttl_of(rec) && (slot.multicast_answers & bit(rec))) {
        slot.multicast_answers &= ~bit(rec);
        slot.tc_mask &= ~bit(rec);
        slot.last_multicast[rec] = now;
      }
      continue;
    }
    const bool host = r.name.equals(host_);
    const bool instance = r.name.equals(instance_);
    if (!host && !instance) continue;
    if (r.ttl == 0 || is_ours_anywhere(r)) continue; // a goodbye, or ours from another link
    if (slot.state == phase::probing) {
      // Section 8.1: any other record under a name we are probing for means it is taken.
      (host ? host_conflict : instance_conflict) = true;
    } else if ((instance && (r.type == dns_type::srv || r.type == dns_type::txt)) ||
               (host && (r.type == dns_type::a || r.type == dns_type::aaaa))) {
      // Section 9: one of our unique records, with other data.
      announced_conflict = true;
    }
  }
  if (host_conflict || instance_conflict) {
    note_conflict(now);
    if (host_conflict) rename(true, now);
    if (instance_conflict) rename(false, now);
    restart_all_probing(now);
  } else if (announced_conflict) {
    note_conflict(now);
    push_event(mdns_event_kind::conflict, slot.index);
    restart_all_probing(now);
  }
}

void mdns_responder::tiebreak(time_point now, interface_slot& slot,
                              std::span<const std::byte> packet) noexcept {
  // Section 8.2, for each of our two unique names: their proposed records against ours, each
  // list sorted by class, type and data; the first difference decides, a longer list is later.
  bool lost = false;
  for (const bool host : {false, true}) {
    std::array<dns_record, mdns_limits::max_tiebreak_records> theirs{};
    std::size_t count = 0;
    dns_reader reader(packet);
    dns_record r;
    while (reader.next(r) && count < theirs.size()) {
      if (r.section != dns_section::authority) continue;
      if (!(host ? r.name.equals(host_) : r.name.equals(instance_))) continue;
      if (is_ours_anywhere(r)) continue; // our own probe, looped back or from another link
      theirs[count++] = r;
    }
    if (count == 0) continue;
    auto before = [](const dns_record& a, const dns_record& b) {
      if (a.rclass != b.rclass) return a.rclass < b.rclass;
      if (a.type != b.type) return a.type < b.type;
      return compare_rdata(a, b) < 0;
    };
    small_sort(theirs.data(), count, before);

    // Ours, sorted the same way: TXT (16) before SRV (33); A (1) before AAAA (28), each by data.
    std::array<std::size_t, 2 + mdns_limits::max_addresses_per_interface> ours{};
    std::size_t our_count = 0;
    if (host) {
      for (std::size_t i = 0; i < slot.address_count; ++i)
        ours[our_count++] = rec_address + i;
      small_sort(ours.data(), our_count, [&](std::size_t a, std::size_t b) {
        const mdns_address& x = slot.addresses[a - rec_address];
        const mdns_address& y = slot.addresses[b - rec_address];
        if (x.v6 != y.v6) return !x.v6;
        return std::lexicographical_compare(x.data().begin(), x.data().end(), y.data().begin(),
                                            y.data().end());
      });
    } else {
      ours[our_count++] = rec_txt;
      ours[our_count++] = rec_srv;
    }

    int order = 0; // <0: ours is earlier (we lose), >0: ours is later (we win)
    std::array<std::uint8_t, dns_max_name_size + 40> scratch{};
    for (std::size_t i = 0; order == 0 && i < std::max(count, our_count); ++i) {
      if (i >= our_count) {
        order = -1;
      } else if (i >= count) {
        order = 1;
      } else if (theirs[i].rclass != dns_class_in) {
        order = dns_class_in < theirs[i].rclass ? -1 : 1;
      } else if (const std::uint16_t t = type_of(slot, ours[i]); t != theirs[i].type) {
        order = t < theirs[i].type ? -1 : 1;
      } else {
        order = -compare_rdata(theirs[i], rdata_of(slot, ours[i], scratch));
      }
    }
    lost = lost || order < 0;
  }
  if (lost) {
    slot.probes_sent = 0;
    slot.next_step = now + 1s;
    push_event(mdns_event_kind::probe_deferred, slot.index);
  }
}

void mdns_responder::answer_question(const interface_slot& slot, const dns_question& q,
                                     std::uint32_t& answers,
                                     std::uint32_t& additional) const noexcept {
  if (q.qclass != dns_class_in && q.qclass != dns_class_any) return;
  const std::uint16_t t = q.type;
  const bool any = t == dns_type::any;
  std::uint32_t v4 = 0;
  std::uint32_t v6 = 0;
  for (std::size_t i = 0; i < slot.address_count; ++i)
    (slot.addresses[i].v6 ? v6 : v4) |= bit(rec_address + i);
  // RFC 6762 section 6.2 and RFC 6763 section 12: with the addresses go the other family's
  // addresses, or an NSEC saying there are none.
  const std::uint32_t address_extras = v4 | v6 | ((v4 == 0 || v6 == 0) ? bit(rec_nsec_host) : 0);

  if (q.name.equals(service_)) {
    if (t == dns_type::ptr || any) {
      answers |= bit(rec_ptr);
      additional |= bit(rec_srv) | bit(rec_txt) | address_extras;
    }
  } else if (q.name.equals(enumeration_)) {
    if (t == dns_type::ptr || any) answers |= bit(rec_enum);
  } else if (q.name.equals(instance_)) {
    if (t == dns_type::srv || any) {
      answers |= bit(rec_srv);
      additional |= address_extras;
    }
    if (t == dns_type::txt || any) answers |= bit(rec_txt);
    if (t != dns_type::srv && t != dns_type::txt && !any) answers |= bit(rec_nsec_instance);
  } else if (q.name.equals(host_)) {
    if (t == dns_type::a || any) answers |= v4;
    if (t == dns_type::aaaa || any) answers |= v6;
    if (t == dns_type::a) additional |= v6;
    if (t == dns_type::aaaa) additional |= v4;
    const bool missing = (t == dns_type::a && v4 == 0) || (t == dns_type::aaaa && v6 == 0) ||
                         (t != dns_type::a && t != dns_type::aaaa && !any);
    if (missing) {
      answers |= bit(rec_nsec_host); // section 6.1: a negative answer
    } else if (v4 == 0 || v6 == 0) {
      additional |= bit(rec_nsec_host);
    }
  }
}

void mdns_responder::handle_query(time_point now, interface_slot& slot, const mdns_source& from,
                                  std::span<const std::byte> packet) noexcept {
  dns_reader reader(packet);
  const dns_header& header = reader.header();
  if (slot.state == phase::probing) {
    // The names are not ours yet: answer nothing, but another host may be probing too.
    if (header.authority_count > 0) tiebreak(now, slot, packet);
    return;
  }
  const bool legacy = from.port != mdns_port;

  // Known answers (section 7.1): records of ours the querier lists with at least half our TTL.
  std::uint32_t known = 0;
  bool probe = false;
  {
    dns_reader records(packet);
    dns_record r;
    while (records.next(r)) {
      if (r.section == dns_section::authority) probe = true;
      if (r.section != dns_section::answer) continue;
      const int mine = match_record(slot, r);
      if (mine >= 0 && r.ttl >= ttl_of(static_cast<std::size_t>(mine)) / 2)
        known |= bit(static_cast<std::size_t>(mine));
    }
  }

  // Known answers continued from a TC query (section 7.2) take back what it alone asked for.
  if (header.question_count == 0) {
    if (!legacy && from.address == slot.tc_source && (slot.tc_mask & known)) {
      slot.multicast_answers &= ~(slot.tc_mask & known);
      slot.tc_mask &= ~known;
      if (header.is_truncated() && slot.multicast_due != time_point::max())
        slot.multicast_due = std::max(slot.multicast_due, now + random_ms(400, 500));
    }
    return;
  }

  std::uint32_t multicast = 0;
  std::uint32_t multicast_extra = 0;
  std::uint32_t unicast = 0;
  std::uint32_t unicast_extra = 0;
  bool unique_only = true;
  dns_question q;
  dns_question first_answered;
  bool have_first = false;
  const std::uint32_t valid = valid_mask(slot);
  while (reader.next(q)) {
    std::uint32_t answers = 0;
    std::uint32_t additional = 0;
    answer_question(slot, q, answers, additional);
    answers &= valid & ~known;
    additional &= valid & ~known & ~answers;
    if (answers == 0) continue;
    if (legacy) {
      // One question is echoed in the reply: answer the first one that has answers.
      if (!have_first) {
        first_answered = q;
        have_first = true;
        unicast = answers;
        unicast_extra = additional;
      }
      continue;
    }
    for (std::size_t rec = 0; rec < record_count; ++rec) {
      if (!(answers & bit(rec))) continue;
      if (!is_unique(rec)) unique_only = false;
      const auto quarter = std::chrono::seconds(ttl_of(rec)) / 4;
      const bool recent = recently(slot.last_multicast[rec], now, quarter);
      if (q.unicast_response && (recent || probe)) {
        unicast |= bit(rec);
        unicast_extra |= additional;
      }
      // A QU answer recently multicast goes by unicast only; everything else is multicast,
      // at most once a second (every 250 ms when defending against a probe).
      if (!q.unicast_response || !recent) {
        const auto interval = probe ? std::chrono::nanoseconds(probe_defence_interval)
                                    : std::chrono::nanoseconds(multicast_interval);
        if (!recently(slot.last_multicast[rec], now, interval)) {
          multicast |= bit(rec);
          multicast_extra |= additional;
        }
      }
    }
  }

  if (unicast != 0) {
    unicast_reply* reply = nullptr;
    for (unicast_reply& u : unicast_) {
      if (u.used && !legacy && !u.legacy && u.interface == slot.index &&
          u.destination == from.address && u.port == from.port)
        reply = &u;
    }
    for (unicast_reply& u : unicast_) {
      if (!reply && !u.used) {
        reply = &u;
        *reply = unicast_reply{};
        reply->used = true;
        reply->legacy = legacy;
        reply->interface = slot.index;
        reply->destination = from.address;
        reply->port = from.port;
        reply->id = header.id;
        if (legacy) {
          reply->question = first_answered.name.to_wire_name();
          reply->question_type = first_answered.type;
          reply->question_class = first_answered.qclass;
        }
      }
    }
    if (reply) {
      reply->answers |= unicast;
      reply->additional |= unicast_extra;
    } else if (!legacy) {
      multicast |= unicast; // no room for a unicast reply: everyone gets it
      multicast_extra |= unicast_extra;
    }
  }

  if (multicast != 0) {
    std::chrono::milliseconds delay{0};
    if (header.is_truncated()) {
      delay = random_ms(400, 500); // more known answers follow (section 7.2)
    } else if (!unique_only) {
      delay = random_ms(20, 120); // other responders may answer too (section 6)
    }
    const time_point due = now + delay;
    slot.multicast_due = std::min(slot.multicast_due, due);
    const std::uint32_t fresh = multicast & ~slot.multicast_answers;
    if (header.is_truncated()) {
      if (slot.tc_mask == 0 || slot.tc_source == from.address) {
        slot.tc_source = from.address;
        slot.tc_mask |= fresh;
      }
    } else {
      slot.tc_mask &= ~multicast; // someone else wants them too
    }
    slot.multicast_answers |= multicast;
    slot.multicast_additional |= multicast_extra;
  }
}

// --- time and outgoing packets ------------------------------------------------------------------

void mdns_responder::on_timer(time_point now) noexcept {
  if (stopped_) return;
  for (interface_slot& s : interfaces_) {
    if (s.used && s.state == phase::probing && s.probes_sent >= probe_count && now >= s.next_step) {
      // 250 ms after the third probe and no conflict: the names are ours (section 8.1).
      s.state = phase::announcing;
      s.announcements_left = announce_count;
      s.announce_mask = bit(rec_ptr) | bit(rec_enum) | bit(rec_srv) | bit(rec_txt);
      for (std::size_t i = 0; i < s.address_count; ++i)
        s.announce_mask |= bit(rec_address + i);
      s.announce_unsent = 0;
      s.next_step = now;
    }
  }
}

mdns_responder::time_point mdns_responder::next_deadline() const noexcept {
  time_point deadline = time_point::max();
  for (const interface_slot& s : interfaces_) {
    if (!s.used) continue;
    if (s.goodbye_pending || (s.retired_count > 0 && s.ever_announced)) return time_point::min();
    if (stopped_) continue;
    if (s.state == phase::probing || (s.state == phase::announcing && s.announcements_left > 0))
      deadline = std::min(deadline, s.next_step);
    deadline = std::min(deadline, s.multicast_due);
  }
  if (!stopped_) {
    for (const unicast_reply& u : unicast_) {
      if (u.used) return time_point::min();
    }
  }
  return deadline;
}

std::optional<mdns_outgoing> mdns_responder::write_probe(time_point now, interface_slot& slot,
                                                         std::span<std::byte> buffer) noexcept {
  dns_writer w(buffer);
  // Section 8.1: the first probe asks for a unicast reply, so that a defender's answer does not
  // have to wait for its multicast rate limit.
  const bool qu = slot.probes_sent == 0;
  (void)w.add_question(instance_.wire(), dns_type::any, qu);
  (void)w.add_question(host_.wire(), dns_type::any, qu);
  (void)write_record(w, slot, rec_srv, dns_section::authority, host_ttl_, false);
  (void)write_record(w, slot, rec_txt, dns_section::authority, service_ttl_, false);
  for (std::size_t i = 0; i < slot.address_count; ++i)
    (void)write_record(w, slot, rec_address + i, dns_section::authority, host_ttl_, false);
  ++slot.probes_sent;
  slot.next_step = now + probe_interval;
  return mdns_outgoing{slot.index, true, {}, mdns_port, w.size()};
}

std::optional<mdns_outgoing>
mdns_responder::write_announcement(time_point now, interface_slot& slot,
                                   std::span<std::byte> buffer) noexcept {
  // Masks name addresses by their index: never write one that is gone.
  slot.announce_mask &= valid_mask(slot);
  if (slot.announce_unsent == 0) slot.announce_unsent = slot.announce_mask;
  slot.announce_unsent &= valid_mask(slot);
  dns_writer w(buffer, 0, dns_flag::response | dns_flag::authoritative);
  for (std::size_t rec = 0; rec < record_count; ++rec) {
    if (!(slot.announce_unsent & bit(rec))) continue;
    const std::error_code ec =
        write_record(w, slot, rec, dns_section::answer, ttl_of(rec), is_unique(rec));
    if (ec && w.record_count() > 0) break; // the rest of the round goes in the next packet
    slot.announce_unsent &= ~bit(rec);     // written, or too large for any packet: dropped
    if (!ec) slot.last_multicast[rec] = now;
  }
  if (w.record_count() > 0) slot.ever_announced = true;
  if (slot.announce_unsent == 0) {
    --slot.announcements_left;
    slot.next_step = now + announce_interval;
    if (slot.announcements_left == 0) {
      slot.state = phase::announced;
      slot.announce_mask = 0;
      push_event(mdns_event_kind::announced, slot.index);
    }
  }
  if (w.record_count() == 0) return std::nullopt;
  return mdns_outgoing{slot.index, true, {}, mdns_port, w.size()};
}

std::optional<mdns_outgoing> mdns_responder::write_multicast(time_point now, interface_slot& slot,
                                                             std::uint32_t& answers,
                                                             std::uint32_t& additional,
                                                             std::span<std::byte> buffer) noexcept {
  answers &= valid_mask(slot);
  additional &= valid_mask(slot);
  if (answers == 0) {
    // Every answer was suppressed after it was scheduled: additional records alone say
    // nothing anyone asked for.
    additional = 0;
    return std::nullopt;
  }
  dns_writer w(buffer, 0, dns_flag::response | dns_flag::authoritative);
  bool full = false;
  for (std::size_t rec = 0; rec < record_count; ++rec) {
    if (!(answers & bit(rec))) continue;
    const std::error_code ec =
        write_record(w, slot, rec, dns_section::answer, ttl_of(rec), is_unique(rec));
    if (ec && w.record_count() > 0) {
      full = true; // the remaining answers go in the next packet
      break;
    }
    answers &= ~bit(rec);
    if (!ec) slot.last_multicast[rec] = now;
  }
  if (!full) {
    // Additional records are a courtesy: what does not fit is left out.
    for (std::size_t rec = 0; rec < record_count; ++rec) {
      if (!(additional & bit(rec)) || (answers & bit(rec))) continue;
      if (!write_record(w, slot, rec, dns_section::additional, ttl_of(rec), is_unique(rec)))
        slot.last_multicast[rec] = now;
    }
    additional = 0;
  }
  if (w.record_count() == 0) return std::nullopt;
  return mdns_outgoing{slot.index, true, {}, mdns_port, w.size()};
}

std::optional<mdns_outgoing> mdns_responder::write_goodbye(interface_slot& slot,
                                                           std::span<std::byte> buffer) noexcept {
  dns_writer w(buffer, 0, dns_flag::response | dns_flag::authoritative);
  if (slot.goodbye_pending) {
    // Not the service-enumeration PTR: other instances of the type on this host or link
    // publish the very same record, and a goodbye would take it from every cache.
    for (std::size_t rec : {rec_ptr, rec_srv, rec_txt})
      (void)write_record(w, slot, rec, dns_section::answer, 0, false);
    for (std::size_t i = 0; i < slot.address_count; ++i)
      (void)write_record(w, slot, rec_address + i, dns_section::answer, 0, false);
    slot.goodbye_pending = false;
  }
  for (std::size_t i = 0; i < slot.retired_count; ++i) {
    const mdns_address& a = slot.retired[i];
    (void)w.add_raw({dns_section::answer, host_.wire(), 0, false},
                    a.v6 ? dns_type::aaaa : dns_type::a, a.data());
  }
  slot.retired_count = 0;
  if (w.record_count() == 0) return std::nullopt;
  return mdns_outgoing{slot.index, true, {}, mdns_port, w.size()};
}

std::optional<mdns_outgoing> mdns_responder::write_unicast(time_point, unicast_reply& reply,
                                                           std::span<std::byte> buffer) noexcept {
  const interface_slot* slot = find(reply.interface);
  if (!slot) {
    reply.used = false;
    return std::nullopt;
  }
  reply.answers &= valid_mask(*slot);
  reply.additional &= valid_mask(*slot);
  dns_writer w(buffer, reply.legacy ? reply.id : 0, dns_flag::response | dns_flag::authoritative);
  if (reply.legacy) {
    // Section 6.7: the question repeated, short TTLs, no cache-flush bits (a plain resolver
    // would take them for part of the class).
    (void)w.add_question(reply.question.wire(), reply.question_type, false, reply.question_class);
  }
  bool full = false;
  for (std::size_t rec = 0; rec < record_count; ++rec) {
    if (!(reply.answers & bit(rec))) continue;
    const std::uint32_t ttl = reply.legacy ? std::min(ttl_of(rec), legacy_max_ttl) : ttl_of(rec);
    const std::error_code ec =
        write_record(w, *slot, rec, dns_section::answer, ttl, !reply.legacy && is_unique(rec));
    if (ec && w.record_count() > 0) {
      full = true;
      break;
    }
    reply.answers &= ~bit(rec);
  }
  if (!full) {
    for (std::size_t rec = 0; rec < record_count; ++rec) {
      if (!(reply.additional & bit(rec))) continue;
      const std::uint32_t ttl = reply.legacy ? std::min(ttl_of(rec), legacy_max_ttl) : ttl_of(rec);
      (void)write_record(w, *slot, rec, dns_section::additional, ttl,
                         !reply.legacy && is_unique(rec));
    }
  }
  if (reply.legacy && full) {
    // A resolver retries over TCP on TC; we have no TCP, but it learns the reply is partial.
    w.set_flags(dns_flag::response | dns_flag::authoritative | dns_flag::truncated);
    reply.answers = 0;
  }
  if (reply.answers == 0) reply.used = false;
  if (w.record_count() == 0) return std::nullopt;
  mdns_outgoing out{reply.interface, false, reply.destination, reply.port, w.size()};
  return out;
}

std::optional<mdns_outgoing> mdns_responder::next_packet(time_point now,
                                                         std::span<std::byte> buffer) noexcept {
  if (buffer.size() < mdns_limits::min_packet_size) return std::nullopt;
  on_timer(now);
  // Goodbyes first: after stop() they are all that is left.
  for (interface_slot& s : interfaces_) {
    if (s.used && (s.goodbye_pending || (s.retired_count > 0 && s.ever_announced))) {
      if (auto out = write_goodbye(s, buffer)) return out;
    }
    if (s.used && !s.ever_announced) s.retired_count = 0;
  }
  if (stopped_) return std::nullopt;
  for (interface_slot& s : interfaces_) {
    if (!s.used || now < s.next_step) continue;
    if (s.state == phase::probing && s.probes_sent < probe_count)
      return write_probe(now, s, buffer);
    if (s.state == phase::announcing && s.announcements_left > 0) {
      if (auto out = write_announcement(now, s, buffer)) return out;
    }
  }
  for (unicast_reply& u : unicast_) {
    if (!u.used) continue;
    if (auto out = write_unicast(now, u, buffer)) return out;
  }
  for (interface_slot& s : interfaces_) {
    if (!s.used || s.multicast_due > now) continue;
    auto out = write_multicast(now, s, s.multicast_answers, s.multicast_additional, buffer);
    if (s.multicast_answers == 0) {
      s.multicast_additional = 0;
      s.tc_mask = 0;
      s.multicast_due = time_point::max();
    }
    if (out) return out;
  }
  return std::nullopt;
}

} // namespace lanyard::core
