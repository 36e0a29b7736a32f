#include "lanyard/discovery/browser.hpp"

#include "avahi_util.hpp"
#include "srv_record.hpp"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>

#include <algorithm>
#include <cstring>

namespace lanyard::discovery {

namespace {

using detail::parse_srv;
using detail::srv_data;

constexpr std::uint16_t dns_class_in = 1;
constexpr std::uint16_t dns_type_a = 1;
constexpr std::uint16_t dns_type_txt = 16;
constexpr std::uint16_t dns_type_aaaa = 28;
constexpr std::uint16_t dns_type_srv = 33;

} // namespace

std::string_view to_string(browse_event_kind kind) noexcept {
  switch (kind) {
  case browse_event_kind::added:
    return "added";
  case browse_event_kind::updated:
    return "updated";
  case browse_event_kind::removed:
    return "removed";
  }
  return "?";
}

struct browser::instance {
  browser* owner = nullptr;
  int ifindex = 0;
  int protocol = 0;
  std::string name;
  std::string domain;
  interface_info interface;

  AvahiRecordBrowser* srv_browser = nullptr;
  AvahiRecordBrowser* txt_browser = nullptr;
  AvahiRecordBrowser* a_browser = nullptr;
  AvahiRecordBrowser* aaaa_browser = nullptr;
  std::string address_host; // the host the address browsers look up

  // Current records, in the order they arrived (the newest is the one in force: an update
  // announces the new record before the old one is flushed from caches).
  std::vector<srv_data> srvs;
  std::vector<std::vector<std::uint8_t>> txts;
  std::vector<asio::ip::address> addresses;
  // The address browsers have delivered what the daemon's cache held (CACHE_EXHAUSTED or
  // ALL_FOR_NOW): the first report waits for both, so that it carries every cached address
  // instead of "added" with the A record and "updated" with the AAAA record a moment later.
  unsigned address_lookups_settled = 0; // bit 0: A, bit 1: AAAA

  bool seen = true; // false: not seen again since the daemon restarted
  bool reported = false;
  bool dirty = false;
  service_instance last; // as last reported

  void free_records() {
    for (auto** b : {&srv_browser, &txt_browser, &a_browser, &aaaa_browser}) {
      if (*b) avahi_record_browser_free(*b);
      *b = nullptr;
    }
    address_host.clear();
  }
  ~instance() { free_records(); }
};

struct browser_access {
  static void browse_cb(AvahiServiceBrowser*, AvahiIfIndex ifindex, AvahiProtocol protocol,
                        AvahiBrowserEvent event, const char* name, const char*, const char* domain,
                        AvahiLookupResultFlags, void* userdata) {
    static_cast<browser*>(userdata)->on_browse(ifindex, protocol, event, name, domain);
  }

  static void srv_cb(AvahiRecordBrowser*, AvahiIfIndex, AvahiProtocol, AvahiBrowserEvent event,
                     const char*, uint16_t, uint16_t, const void* rdata, size_t size,
                     AvahiLookupResultFlags, void* userdata) {
    auto& in = *static_cast<browser::instance*>(userdata);
    srv_data srv;
    if (event != AVAHI_BROWSER_NEW && event != AVAHI_BROWSER_REMOVE) return;
    if (!parse_srv({static_cast<const std::uint8_t*>(rdata), size}, srv)) return;
    auto it = std::find(in.srvs.begin(), in.srvs.end(), srv);
    if (it != in.srvs.end()) in.srvs.erase(it);
    if (event == AVAHI_BROWSER_NEW) in.srvs.push_back(srv);
    in.owner->start_records(in); // the host may have changed: follow its addresses
    in.owner->schedule_flush(in);
  }

  static void txt_cb(AvahiRecordBrowser*, AvahiIfIndex, AvahiProtocol, AvahiBrowserEvent event,
                     const char*, uint16_t, uint16_t, const void* rdata, size_t size,
                     AvahiLookupResultFlags, void* userdata) {
    auto& in = *static_cast<browser::instance*>(userdata);
    if (event != AVAHI_BROWSER_NEW && event != AVAHI_BROWSER_REMOVE) return;
    auto* p = static_cast<const std::uint8_t*>(rdata);
    std::vector<std::uint8_t> data(p, p + size);
    auto it = std::find(in.txts.begin(), in.txts.end(), data);
    if (it != in.txts.end()) in.txts.erase(it);
    if (event == AVAHI_BROWSER_NEW) in.txts.push_back(std::move(data));
    in.owner->schedule_flush(in);
  }

  static void address_cb(AvahiRecordBrowser* browser, AvahiIfIndex, AvahiProtocol,
                         AvahiBrowserEvent event, const char*, uint16_t, uint16_t type,
                         const void* rdata, size_t size, AvahiLookupResultFlags, void* userdata) {
    auto& in = *static_cast<browser::instance*>(userdata);
    if (event == AVAHI_BROWSER_CACHE_EXHAUSTED || event == AVAHI_BROWSER_ALL_FOR_NOW) {
      in.address_lookups_settled |=
          browser == in.a_browser ? 1u : (browser == in.aaaa_browser ? 2u : 0u);
      in.owner->schedule_flush(in);
      return;
    }
    if (event != AVAHI_BROWSER_NEW && event != AVAHI_BROWSER_REMOVE) return;
    asio::ip::address address;
    if (type == dns_type_a && size == 4) {
      asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), rdata, 4);
      address = asio::ip::address_v4(b);
    } else if (type == dns_type_aaaa && size == 16) {
      asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), rdata, 16);
      asio::ip::address_v6 v6(b);
      // A link-local address means nothing without its link: attach the interface.
      if (v6.is_link_local()) v6.scope_id(static_cast<unsigned long>(in.ifindex));
      address = v6;
    } else {
      return;
    }
    auto it = std::find(in.addresses.begin(), in.addresses.end(), address);
    if (event == AVAHI_BROWSER_NEW && it == in.addresses.end()) in.addresses.push_back(address);
    if (event == AVAHI_BROWSER_REMOVE && it != in.addresses.end()) in.addresses.erase(it);
    in.owner->schedule_flush(in);
  }
};

browser::browser(client& c) : client_(c) {
  client_.add_listener(this);
}

browser::~browser() {
  client_.remove_listener(this);
  stop();
}

std::error_code browser::start(std::string_view type, std::string_view interface,
                               std::string_view domain) {
  service_type parsed;
  if (auto ec = parse_browse_type(type, parsed)) return ec;
  unsigned ifindex = 0;
  if (!interface.empty()) {
    interface_info info;
    if (auto ec = find_interface(interface, info)) return ec;
    ifindex = info.index;
  }
  stop();
  type_ = std::move(parsed);
  ifindex_ = ifindex;
  domain_ = std::string(domain);
  active_ = true;
  if (AvahiClient* c = client_.native_handle())
    create_browser(c);
  else {
    // Tell the caller from the queue, never from inside start().
    asio::post(get_executor(), [this, w = std::weak_ptr<int>(alive_)] {
      if (w.lock() && active_ && !avahi_browser_) report(client_.status());
    });
  }
  return {};
}

void browser::stop() {
  free_avahi_objects();
  instances_.clear();
  active_ = false;
  resyncing_ = false;
  queue_.clear();
  complete_waiter(asio::error::operation_aborted, {});
}

void browser::free_avahi_objects() {
  if (avahi_browser_) avahi_service_browser_free(avahi_browser_);
  avahi_browser_ = nullptr;
  for (auto& [k, in] : instances_)
    in->free_records();
}

void browser::create_browser(AvahiClient* c) {
  if (!active_ || avahi_browser_) return;
  const std::string browse_type = type_.browse_name();
  avahi_browser_ = avahi_service_browser_new(
      c, ifindex_ ? static_cast<AvahiIfIndex>(ifindex_) : AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
      browse_type.c_str(), domain_.empty() ? nullptr : domain_.c_str(), AvahiLookupFlags(0),
      &browser_access::browse_cb, this);
  if (!avahi_browser_) report(detail::from_avahi_error(avahi_client_errno(c)));
}

void browser::avahi_running(AvahiClient* c) {
  if (!active_ || avahi_browser_) return;
  resyncing_ = !instances_.empty();
  create_browser(c);
  if (avahi_browser_) report({});
}

void browser::avahi_lost(std::error_code error) {
  // The AvahiClient is about to be freed: free everything made from it. Known instances are
  // kept (the devices did not go away because our daemon did) and reconciled later.
  free_avahi_objects();
  for (auto& [k, in] : instances_) {
    in->seen = false;
    in->srvs.clear();
    in->txts.clear();
    in->addresses.clear();
  }
  if (active_) report(error);
}

void browser::on_browse(int ifindex, int protocol, int event, const char* name,
                        const char* domain) {
  switch (static_cast<AvahiBrowserEvent>(event)) {
  case AVAHI_BROWSER_NEW: {
    key k{ifindex, protocol, name, domain};
    auto& slot = instances_[k];
    if (!slot) {
      slot = std::make_unique<instance>();
      slot->owner = this;
      slot->ifindex = ifindex;
      slot->protocol = protocol;
      slot->name = name;
      slot->domain = domain;
      slot->interface = describe_interface(static_cast<unsigned>(ifindex));
    }
    slot->seen = true;
    start_records(*slot);
    break;
  }
  case AVAHI_BROWSER_REMOVE: {
    auto it = instances_.find(key{ifindex, protocol, name, domain});
    if (it == instances_.end()) return;
    std::unique_ptr<instance> gone = std::move(it->second);
    instances_.erase(it);
    if (gone->reported) emit({browse_event_kind::removed, gone->last});
    break;
  }
  case AVAHI_BROWSER_ALL_FOR_NOW:
    if (resyncing_) {
      // Everything still on the network has been seen again by now.
      resyncing_ = false;
      std::vector<browse_event> gone;
      for (auto it = instances_.begin(); it != instances_.end();) {
        if (it->second->seen) {
          ++it;
          continue;
        }
        if (it->second->reported) gone.push_back({browse_event_kind::removed, it->second->last});
        it = instances_.erase(it);
      }
      // Emit after the loop: a handler may stop() the browser.
      for (auto& e : gone)
        emit(std::move(e));
      flush(); // the instances held back while resyncing
    }
    break;
  case AVAHI_BROWSER_CACHE_EXHAUSTED:
    break;
  case AVAHI_BROWSER_FAILURE: {
    auto ec = detail::from_avahi_error(
        avahi_client_errno(avahi_service_browser_get_client(avahi_browser_)));
    if (ec != discovery_errc::daemon_unavailable) report(ec);
    break;
  }
  }
}

void browser::start_records(instance& in) {
  AvahiClient* c = client_.native_handle();
  if (!c) return;
  const auto ifindex = static_cast<AvahiIfIndex>(in.ifindex);
  const auto protocol = static_cast<AvahiProtocol>(in.protocol);
  if (!in.srv_browser) {
    char full[AVAHI_DOMAIN_NAME_MAX];
    const std::string base = type_.base();
    if (avahi_service_name_join(full, sizeof full, in.name.c_str(), base.c_str(),
                                in.domain.c_str()) < 0)
      return;
    in.srv_browser =
        avahi_record_browser_new(c, ifindex, protocol, full, dns_class_in, dns_type_srv,
                                 AvahiLookupFlags(0), &browser_access::srv_cb, &in);
    in.txt_browser =
        avahi_record_browser_new(c, ifindex, protocol, full, dns_class_in, dns_type_txt,
                                 AvahiLookupFlags(0), &browser_access::txt_cb, &in);
    if (!in.srv_browser || !in.txt_browser) {
      report(detail::from_avahi_error(avahi_client_errno(c)));
      return;
    }
  }
  // Follow the host of the SRV record in force (the newest).
  const std::string host = in.srvs.empty() ? std::string() : in.srvs.back().host;
  if (host == in.address_host) return;
  for (auto** b : {&in.a_browser, &in.aaaa_browser}) {
    if (*b) avahi_record_browser_free(*b);
    *b = nullptr;
  }
  in.addresses.clear();
  in.address_lookups_settled = 0;
  in.address_host = host;
  if (host.empty()) return;
  in.a_browser =
      avahi_record_browser_new(c, ifindex, protocol, host.c_str(), dns_class_in, dns_type_a,
                               AvahiLookupFlags(0), &browser_access::address_cb, &in);
  in.aaaa_browser =
      avahi_record_browser_new(c, ifindex, protocol, host.c_str(), dns_class_in, dns_type_aaaa,
                               AvahiLookupFlags(0), &browser_access::address_cb, &in);
  if (!in.a_browser || !in.aaaa_browser) report(detail::from_avahi_error(avahi_client_errno(c)));
}

void browser::schedule_flush(instance& in) {
  in.dirty = true;
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Records of one announcement arrive in a burst of callbacks: report once for all of them.
  asio::post(get_executor(), [this, w = std::weak_ptr<int>(alive_)] {
    if (!w.lock()) return;
    flush_scheduled_ = false;
    flush();
  });
}

void browser::flush() {
  std::vector<browse_event> out;
  for (auto& [k, slot] : instances_) {
    instance& in = *slot;
    if (!in.dirty) continue;
    in.dirty = false;
    // Only complete instances are reported: never a half-resolved one, and no "updated" with
    // no addresses while a host's records expire just before the service's own removal (or
    // while records come back after a daemon restart).
    const bool complete = !in.srvs.empty() && !in.txts.empty() && !in.addresses.empty();
    if (!complete) continue;
    if (!in.reported && in.address_lookups_settled != 3) continue;
    if (resyncing_ && in.reported) {
      in.dirty = true; // compared once everything is back (ALL_FOR_NOW): no interim updates
      continue;
    }
    service_instance now;
    now.name = in.name;
    now.type = type_.base();
    now.domain = in.domain;
    now.interface = in.interface;
    now.protocol = in.protocol == AVAHI_PROTO_INET6 ? ip_protocol::ipv6 : ip_protocol::ipv4;
    now.host = in.srvs.back().host;
    now.port = in.srvs.back().port;
    now.txt = core::txt_record::decode(in.txts.back(), core::txt_decode_mode::lenient).record;
    now.addresses = in.addresses;
    std::sort(now.addresses.begin(), now.addresses.end());
    if (!in.reported) {
      in.reported = true;
      in.last = now;
      out.push_back({browse_event_kind::added, now});
      continue;
    }
    if (now == in.last) continue;
    browse_event e{browse_event_kind::updated, now};
    e.txt_changed = !(now.txt == in.last.txt);
    e.addresses_changed = now.addresses != in.last.addresses;
    e.endpoint_changed = now.host != in.last.host || now.port != in.last.port;
    in.last = now;
    out.push_back(std::move(e));
  }
  for (auto& e : out)
    emit(std::move(e));
}

void browser::emit(browse_event e) {
  if (!active_) return; // a handler stopped the browser while events were being delivered
  if (event_handler_) {
    auto h = event_handler_;
    h(e);
    return;
  }
  if (queue_.size() >= max_queued_events) queue_.pop_front();
  queue_.emplace_back(std::error_code{}, std::move(e));
  deliver_queued();
}

void browser::report(std::error_code ec) {
  if (error_handler_) {
    auto h = error_handler_;
    h(ec);
  }
  if (!event_handler_ && ec) {
    // async_next() users learn about errors in the stream of completions.
    if (queue_.size() >= max_queued_events) queue_.pop_front();
    queue_.emplace_back(ec, browse_event{});
    deliver_queued();
  }
}

void browser::complete_waiter(std::error_code ec, browse_event e) {
  if (!waiter_) return;
  auto w = std::move(waiter_);
  waiter_ = nullptr;
  w(ec, std::move(e));
}

void browser::deliver_queued() {
  if (!waiter_ || queue_.empty()) return;
  auto [ec, e] = std::move(queue_.front());
  queue_.pop_front();
  complete_waiter(ec, std::move(e));
}

std::vector<service_instance> browser::services() const {
  std::vector<service_instance> out;
  for (auto& [k, in] : instances_)
    if (in->reported) out.push_back(in->last);
  return out;
}

} // namespace lanyard::discovery
