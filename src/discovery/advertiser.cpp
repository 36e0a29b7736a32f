#include "lanyard/discovery/advertiser.hpp"

#include "avahi_util.hpp"
#include "lanyard/discovery/validation.hpp"

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/error.h>

#include <charconv>
#include <chrono>

namespace lanyard::discovery {

struct advertiser_access {
  static void group_callback(AvahiEntryGroup* g, AvahiEntryGroupState state, void* userdata) {
    static_cast<advertiser*>(userdata)->on_group_state(g, state);
  }
};

namespace {

// add_entries() gives up after this many names taken by other clients of the same daemon:
// something is wrong (e.g. a local process claiming every name).
constexpr int max_local_renames = 100;
// RFC 6762 §8.1: after 15 conflicts, wait 5 s before each further probe.
constexpr int conflicts_before_holdoff = 15;
constexpr std::chrono::seconds conflict_holdoff{5};
// A registration not established after this long is started again with a new group.
constexpr std::chrono::seconds registration_watchdog{5};

// Keeps the longest prefix of `s` that is at most `max` bytes and ends on a UTF-8 boundary.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80)
    --n;
  return s.substr(0, n);
}

} // namespace

std::string next_instance_name(std::string_view name) {
  std::string_view base = name;
  unsigned long long number = 1;
  // "Base (N)" → base "Base", number N.
  if (name.size() >= 4 && name.back() == ')') {
    auto open = name.rfind(" (");
    if (open != std::string_view::npos && open + 2 < name.size() - 1) {
      std::string_view digits = name.substr(open + 2, name.size() - open - 3);
      unsigned long long n = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec == std::errc() && end == digits.data() + digits.size() && n >= 2 &&
          digits.front() != '0') {
        base = name.substr(0, open);
        number = n;
      }
    }
  }
  std::string suffix = " (" + std::to_string(number + 1) + ")";
  std::string result(utf8_prefix(base, 63 - suffix.size()));
  return result + suffix;
}

advertiser::advertiser(client& c)
    : client_(c), reprobe_timer_(c.get_executor()), watchdog_(c.get_executor()) {
  client_.add_listener(this);
}

advertiser::~advertiser() {
  client_.remove_listener(this);
  withdraw();
}

void advertiser::emit(advertiser_event_kind kind, std::error_code ec) {
  if (!handler_) return;
  auto h = handler_; // the handler may replace itself or withdraw
  h(advertiser_event{kind, name_, ec});
}

void advertiser::complete_pending(std::error_code ec) {
  if (!pending_) return;
  auto p = std::move(pending_);
  pending_ = nullptr;
  p(ec, ec ? std::string() : name_);
}

void advertiser::free_group() {
  if (group_) avahi_entry_group_free(group_); // removes the records: goodbye packets
  group_ = nullptr;
  established_ = false;
  watchdog_.cancel();
}

std::error_code advertiser::publish(service_description d) {
  if (auto ec = validate(d)) return ec;
  unsigned ifindex = 0;
  if (!d.interface.empty()) {
    interface_info info;
    if (auto ec = find_interface(d.interface, info)) return ec;
    ifindex = info.index;
  }
  free_group();
  reprobe_timer_.cancel();
  desc_ = std::move(d);
  ifindex_ = ifindex;
  name_ = desc_.name;
  renames_ = 0;
  active_ = true;
  if (AvahiClient* c = client_.native_handle()) register_service(c);
  // Otherwise: published from avahi_running() once the daemon is there.
  return {};
}

std::error_code advertiser::add_entries() {
  const char* domain = desc_.domain.empty() ? nullptr : desc_.domain.c_str();
  const AvahiIfIndex ifindex = ifindex_ ? static_cast<AvahiIfIndex>(ifindex_) : AVAHI_IF_UNSPEC;
  for (int local_renames = 0;;) {
    AvahiStringList* txt = detail::to_string_list(desc_.txt);
    int r = avahi_entry_group_add_service_strlst(
        group_, ifindex, AVAHI_PROTO_UNSPEC, AvahiPublishFlags(0), name_.c_str(),
        desc_.type.c_str(), domain, nullptr, desc_.port, txt);
    avahi_string_list_free(txt);
    if (r == AVAHI_ERR_COLLISION) {
      // Taken locally (another process on this host): pick the next name right away.
      if (++local_renames > max_local_renames) return discovery_errc::name_conflict;
      name_ = next_instance_name(name_);
      emit(advertiser_event_kind::renamed);
      continue;
    }
    if (r < 0) return detail::from_avahi_error(r);
    break;
  }
  for (const auto& sub : desc_.subtypes) {
    std::string full = sub + "._sub." + desc_.type;
    int r = avahi_entry_group_add_service_subtype(group_, ifindex, AVAHI_PROTO_UNSPEC,
                                                  AvahiPublishFlags(0), name_.c_str(),
                                                  desc_.type.c_str(), domain, full.c_str());
    if (r < 0) return detail::from_avahi_error(r);
  }
  int r = avahi_entry_group_commit(group_);
  if (r < 0) return detail::from_avahi_error(r);
  return {};
}

void advertiser::register_service(AvahiClient* c) {
  if (!active_) return;
  if (!group_) {
    group_ = avahi_entry_group_new(c, &advertiser_access::group_callback, this);
    if (!group_) {
      auto ec = detail::from_avahi_error(avahi_client_errno(c));
      emit(advertiser_event_kind::failed, ec);
      complete_pending(ec);
      return;
    }
  } else if (!avahi_entry_group_is_empty(group_)) {
    return; // already registered or registering (avahi_running() may repeat)
  }
  if (auto ec = add_entries()) {
    free_group();
    active_ = false;
    emit(advertiser_event_kind::failed, ec);
    complete_pending(ec);
    return;
  }
  // Probing takes about a second. avahi-daemon 0.8 can leave a group REGISTERING for good when
  // an interface goes away while it probes (seen when an accessory closes its SoftAP right
  // after going operational): then the service is never announced anywhere. A new group fixes
  // that; a registration that completes cancels the watchdog.
  watchdog_.expires_after(registration_watchdog);
  watchdog_.async_wait([this](std::error_code ec) {
    if (ec || established_ || !group_) return;
    AvahiClient* client = avahi_entry_group_get_client(group_);
    free_group();
    register_service(client);
  });
}

void advertiser::rename() {
  // A responder that claims every name we pick cannot be outrun, but it must not make us give
  // up either, or the accessory stays unadvertised after the storm: slow down (RFC 6762 §8.1).
  ++renames_;
  name_ = next_instance_name(name_);
  // A new entry group, not avahi_entry_group_reset(): avahi-daemon holds every commit of a
  // group after its 15th off by 60 s, for the group's whole life (AVAHI_RR_RATE_LIMIT_COUNT),
  // so one conflict storm would delay every later re-registration of this service.
  AvahiClient* c = avahi_entry_group_get_client(group_);
  free_group();
  emit(advertiser_event_kind::renamed);
  if (renames_ < conflicts_before_holdoff) return register_service(c);
  reprobe_timer_.expires_after(conflict_holdoff);
  reprobe_timer_.async_wait([this](std::error_code ec) {
    if (ec) return; // cancelled: withdrawn, republished or destroyed
    if (AvahiClient* client = client_.native_handle()) register_service(client);
  });
}

void advertiser::on_group_state(AvahiEntryGroup* g, int state) {
  if (g != group_ && group_ != nullptr) return;
  switch (static_cast<AvahiEntryGroupState>(state)) {
  case AVAHI_ENTRY_GROUP_ESTABLISHED:
    if (established_) return;
    established_ = true;
    renames_ = 0; // the storm is over: the next conflict probes at once again
    emit(advertiser_event_kind::registered);
    complete_pending({});
    break;
  case AVAHI_ENTRY_GROUP_COLLISION:
    // Another host defends this name (RFC 6762 §9): choose the next one and probe again.
    group_ = g;
    rename();
    break;
  case AVAHI_ENTRY_GROUP_FAILURE: {
    auto ec = detail::from_avahi_error(avahi_client_errno(avahi_entry_group_get_client(g)));
    if (ec == discovery_errc::daemon_unavailable) return; // avahi_lost() handles it
    established_ = false;
    emit(advertiser_event_kind::failed, ec);
    complete_pending(ec);
    break;
  }
  case AVAHI_ENTRY_GROUP_UNCOMMITED:
  case AVAHI_ENTRY_GROUP_REGISTERING:
    break;
  }
}

std::error_code advertiser::update_txt(core::txt_record txt) {
  if (auto ec = validate_txt_size(txt.encoded_size())) return ec;
  if (!active_) return discovery_errc::not_published;
  desc_.txt = std::move(txt);
  if (!group_ || avahi_entry_group_is_empty(group_)) return {}; // published later with it
  const AvahiIfIndex ifindex = ifindex_ ? static_cast<AvahiIfIndex>(ifindex_) : AVAHI_IF_UNSPEC;
  AvahiStringList* list = detail::to_string_list(desc_.txt);
  int r = avahi_entry_group_update_service_txt_strlst(
      group_, ifindex, AVAHI_PROTO_UNSPEC, AvahiPublishFlags(0), name_.c_str(), desc_.type.c_str(),
      desc_.domain.empty() ? nullptr : desc_.domain.c_str(), list);
  avahi_string_list_free(list);
  if (r < 0) {
    auto ec = detail::from_avahi_error(r);
    // The daemon just went away: the new record is kept and published when it is back.
    return ec == discovery_errc::daemon_unavailable ? std::error_code{} : ec;
  }
  return {};
}

void advertiser::withdraw() {
  free_group();
  reprobe_timer_.cancel();
  active_ = false;
  name_.clear();
  complete_pending(asio::error::operation_aborted);
}

void advertiser::avahi_running(AvahiClient* c) {
  register_service(c);
}

void advertiser::avahi_registering() {
  // The host is re-registering: the group must go and is re-added when running (a new one:
  // see rename() on avahi's per-group commit holdoff).
  free_group();
}

void advertiser::avahi_lost(std::error_code error) {
  // Free the group now: the AvahiClient it belongs to is about to be freed.
  free_group();
  if (active_) emit(advertiser_event_kind::unavailable, error);
}

} // namespace lanyard::discovery
