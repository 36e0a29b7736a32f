#include "lanyard/discovery/builtin_advertiser.hpp"

#include "lanyard/core/mdns_error.hpp"
#include "lanyard/core/mdns_responder.hpp"

#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>

namespace lanyard::discovery {
namespace {

using core::mdns_address;
using time_point = core::mdns_responder::time_point;

constexpr std::uint8_t group_ipv4[4] = {224, 0, 0, 251};
constexpr std::uint8_t group_ipv6[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};
constexpr int link_local_ttl = 255; // RFC 6762 section 11
// Datagrams read per socket per wake-up: a flood on one socket cannot starve the rest.
constexpr int max_reads_per_wakeup = 32;
// How often the interface list is read again.
constexpr std::chrono::seconds rescan_interval{1};

time_point now() {
  return core::mdns_responder::clock::now();
}

std::error_code last_error() {
  return {errno, std::system_category()};
}

std::error_code set_int(int fd, int level, int option, int value) {
  if (::setsockopt(fd, level, option, &value, sizeof value) != 0) return last_error();
  return {};
}

// Lower ranks are kept first when an interface has more addresses than the responder holds.
int rank(const mdns_address& a) {
  if (!a.v6) return 0;
  return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80 ? 2 : 1;
}

struct published_interface {
  unsigned index = 0;
  std::string name;
  std::vector<mdns_address> addresses;
  bool joined_v4 = false;
  bool joined_v6 = false;

  bool has(bool v6) const {
    return std::any_of(addresses.begin(), addresses.end(),
                       [v6](const mdns_address& a) { return a.v6 == v6; });
  }
};

// The interfaces to publish on now: up, multicast-capable, with an address; `only` (a name)
// or every one but loopback. At most mdns_limits::max_interfaces, lowest index first.
std::vector<published_interface> scan_interfaces(const std::string& only) {
  std::vector<published_interface> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_name || !i->ifa_addr) continue;
    if (!only.empty() ? only != i->ifa_name : (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
    if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_MULTICAST)) continue;
    mdns_address a;
    if (i->ifa_addr->sa_family == AF_INET) {
      std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      a.v6 = true;
      std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                  16);
    } else {
      continue;
    }
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const published_interface& p) { return p.name == i->ifa_name; });
    if (it == out.end()) {
      const unsigned index = ::if_nametoindex(i->ifa_name);
      if (index == 0) continue;
      out.push_back({index, i->ifa_name, {}});
      it = out.end() - 1;
    }
    it->addresses.push_back(a);
  }
  ::freeifaddrs(list);
  for (published_interface& p : out) {
    std::stable_sort(
        p.addresses.begin(), p.addresses.end(),
        [](const mdns_address& x, const mdns_address& y) { return rank(x) < rank(y); });
    if (p.addresses.size() > core::mdns_limits::max_addresses_per_interface)
      p.addresses.resize(core::mdns_limits::max_addresses_per_interface);
  }
  std::sort(out.begin(), out.end(), [](const published_interface& x, const published_interface& y) {
    return x.index < y.index;
  });
  if (out.size() > core::mdns_limits::max_interfaces) out.resize(core::mdns_limits::max_interfaces);
  return out;
}

// `text` reduced to a host name label: letters, digits and hyphens (up to a dot), at most 63
// bytes, no leading or trailing hyphen; "lanyard" if nothing is left.
std::string host_label_of(std::string_view text) {
  std::string label;
  for (const char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '.') break;
    if (std::isalnum(u) || c == '-') label.push_back(c);
  }
  if (label.size() > 63) label.resize(63);
  while (!label.empty() && label.front() == '-')
    label.erase(label.begin());
  while (!label.empty() && label.back() == '-')
    label.pop_back();
  return label.empty() ? "lanyard" : label;
}

std::string system_host_name() {
  char raw[256] = {};
  if (::gethostname(raw, sizeof raw - 1) != 0) return {};
  return raw;
}

// The responder's configuration errors as discovery's.
std::error_code to_discovery(std::error_code ec) {
  if (ec == core::mdns_errc::txt_too_large) return discovery_errc::txt_too_large;
  if (ec == core::mdns_errc::invalid_instance_name) return discovery_errc::instance_name_invalid;
  if (ec == core::mdns_errc::invalid_service_type) return discovery_errc::service_type_format;
  return ec;
}

// Sends `packet` to `destination` with one pktinfo control message naming the interface for
// this packet alone (multicast too: Linux takes the outgoing interface from it).
template <class SocketAddress, class PacketInfo>
bool send_with_pktinfo(int fd, SocketAddress& destination, int level, int type,
                       const PacketInfo& info, std::span<const std::byte> packet) {
  iovec data{const_cast<std::byte*>(packet.data()), packet.size()};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(PacketInfo))] = {};
  msghdr message{};
  message.msg_name = &destination;
  message.msg_namelen = sizeof destination;
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&message);
  c->cmsg_level = level;
  c->cmsg_type = type;
  c->cmsg_len = CMSG_LEN(sizeof(PacketInfo));
  std::memcpy(CMSG_DATA(c), &info, sizeof info);
  return ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

} // namespace

struct builtin_advertiser::impl : std::enable_shared_from_this<impl> {
  impl(executor_type e, builtin_advertiser_options o)
      : ex(std::move(e)), opts(std::move(o)), v4(ex), v6(ex), deadline_timer(ex), rescan_timer(ex) {
  }

  executor_type ex;
  builtin_advertiser_options opts;
  asio::ip::udp::socket v4;
  asio::ip::udp::socket v6;
  asio::steady_timer deadline_timer; // the responder's next_deadline()
  asio::steady_timer rescan_timer;   // the interface list, read again
  std::unique_ptr<core::mdns_responder> responder;
  service_description desc;
  std::string name;
  std::string host_label;
  std::vector<std::uint8_t> txt_wire;
  std::vector<published_interface> interfaces;
  bool active = false;
  bool registered = false;
  // Bumped by withdraw(): completions of an earlier publication do nothing.
  std::uint64_t generation = 0;
  std::function<void(const advertiser_event&)> handler;
  std::array<std::byte, 9000> receive_buffer{}; // RFC 6762 section 17
  std::array<std::byte, 1452> send_buffer{};

  void emit(advertiser_event_kind kind, std::error_code ec = {}) {
    asio::post(ex, [w = weak_from_this(), e = advertiser_event{kind, name, ec}] {
      if (auto self = w.lock(); self && self->handler) self->handler(e);
    });
  }

  // --- sockets ----------------------------------------------------------------------------

  std::error_code open_v4() {
    std::error_code ec;
    v4.open(asio::ip::udp::v4(), ec);
    if (ec) return ec;
    const int fd = v4.native_handle();
    v4.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) ec = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!ec) ec = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
    if (!ec) ec = set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, link_local_ttl);
    if (!ec) ec = set_int(fd, IPPROTO_IP, IP_TTL, link_local_ttl);
    if (!ec) ec = set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1);
#ifdef IP_MULTICAST_ALL
    if (!ec) ec = set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
#endif
    if (!ec) v4.bind({asio::ip::address_v4::any(), core::mdns_port}, ec);
    if (!ec) v4.native_non_blocking(true, ec);
    return ec;
  }

  std::error_code open_v6() {
    std::error_code ec;
    v6.open(asio::ip::udp::v6(), ec);
    if (ec) return ec;
    const int fd = v6.native_handle();
    v6.set_option(asio::ip::v6_only(true), ec);
    if (!ec) v6.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) ec = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
    if (!ec) ec = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    if (!ec) ec = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, link_local_ttl);
    if (!ec) ec = set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, link_local_ttl);
    if (!ec) ec = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1);
#ifdef IPV6_MULTICAST_ALL
    if (!ec) ec = set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
#endif
    if (!ec) v6.bind({asio::ip::address_v6::any(), core::mdns_port}, ec);
    if (!ec) v6.native_non_blocking(true, ec);
    return ec;
  }

  void close_sockets() {
    std::error_code ignored;
    v4.close(ignored);
    v6.close(ignored);
  }

  // Joins (or leaves) the mDNS group of one family on one interface; errors are ignored: an
  // interface that vanished between the scan and the call is forgotten at the next scan.
  void membership(const published_interface& p, bool v6_family, bool join) {
    if (!v6_family && v4.is_open()) {
      ip_mreqn m{};
      std::memcpy(&m.imr_multiaddr, group_ipv4, 4);
      m.imr_ifindex = static_cast<int>(p.index);
      (void)::setsockopt(v4.native_handle(), IPPROTO_IP,
                         join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
    } else if (v6_family && v6.is_open()) {
      ipv6_mreq m{};
      std::memcpy(&m.ipv6mr_multiaddr, group_ipv6, 16);
      m.ipv6mr_interface = p.index;
      (void)::setsockopt(v6.native_handle(), IPPROTO_IPV6,
                         join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &m, sizeof m);
    }
  }

  void update_memberships(published_interface& p) {
    for (bool family : {false, true}) {
      bool& joined = family ? p.joined_v6 : p.joined_v4;
      const bool want = p.has(family);
      if (want != joined) {
        membership(p, family, want);
        joined = want;
      }
    }
  }

  // --- interfaces -------------------------------------------------------------------------

  // Brings the responder's interfaces in line with the system's.
  void sync_interfaces() {
    std::vector<published_interface> found = scan_interfaces(desc.interface);
    const time_point at = now();
    for (auto it = interfaces.begin(); it != interfaces.end();) {
      const bool kept = std::any_of(found.begin(), found.end(), [&](const published_interface& f) {
        return f.index == it->index;
      });
      if (kept) {
        ++it;
        continue;
      }
      responder->interface_down(at, it->index);
      membership(*it, false, false);
      membership(*it, true, false);
      it = interfaces.erase(it);
    }
    for (published_interface& f : found) {
      auto it = std::find_if(interfaces.begin(), interfaces.end(),
                             [&](const published_interface& p) { return p.index == f.index; });
      if (it == interfaces.end()) {
        if (responder->interface_up(at, f.index, f.addresses)) continue; // full: not published
        interfaces.push_back(std::move(f));
        update_memberships(interfaces.back());
      } else if (it->addresses != f.addresses) {
        it->addresses = std::move(f.addresses);
        (void)responder->set_addresses(at, it->index, it->addresses);
        update_memberships(*it);
      }
    }
  }

  const published_interface* find(unsigned index) const {
    for (const published_interface& p : interfaces)
      if (p.index == index) return &p;
    return nullptr;
  }

  void arm_rescan() {
    rescan_timer.expires_after(rescan_interval);
    rescan_timer.async_wait([w = weak_from_this(), g = generation](std::error_code ec) {
      auto self = w.lock();
      if (ec || !self || !self->active || self->generation != g) return;
      self->sync_interfaces();
      self->pump();
      self->arm_rescan();
    });
  }

  // --- the responder's packets, timers and events -----------------------------------------

  void send(const core::mdns_outgoing& out, std::span<const std::byte> packet) {
    const published_interface* via = find(out.interface);
    if (!via) return;
    packet = packet.first(std::min(packet.size(), out.size));
    auto to_v4 = [&](const std::uint8_t* address, std::uint16_t port) {
      if (!v4.is_open()) return;
      sockaddr_in d{};
      d.sin_family = AF_INET;
      d.sin_port = htons(port);
      std::memcpy(&d.sin_addr, address, 4);
      in_pktinfo info{};
      info.ipi_ifindex = static_cast<int>(via->index);
      (void)send_with_pktinfo(v4.native_handle(), d, IPPROTO_IP, IP_PKTINFO, info, packet);
    };
    auto to_v6 = [&](const std::uint8_t* address, std::uint16_t port) {
      if (!v6.is_open()) return;
      sockaddr_in6 d{};
      d.sin6_family = AF_INET6;
      d.sin6_port = htons(port);
      std::memcpy(&d.sin6_addr, address, 16);
      const bool link_scope = (address[0] == 0xfe && (address[1] & 0xc0) == 0x80) ||
                              (address[0] == 0xff && (address[1] & 0x0f) == 2);
      d.sin6_scope_id = link_scope ? via->index : 0;
      in6_pktinfo info{};
      info.ipi6_ifindex = via->index;
      (void)send_with_pktinfo(v6.native_handle(), d, IPPROTO_IPV6, IPV6_PKTINFO, info, packet);
    };
    // A lost packet is what links do; the responder's repetitions cover it.
    if (!out.multicast) {
      if (out.destination.v6)
        to_v6(out.destination.bytes.data(), out.port);
      else
        to_v4(out.destination.bytes.data(), out.port);
      return;
    }
    // RFC 6762 section 6.2: to every family the interface has.
    if (via->has(false)) to_v4(group_ipv4, core::mdns_port);
    if (via->has(true)) to_v6(group_ipv6, core::mdns_port);
  }

  void send_due(time_point at) {
    while (const auto out = responder->next_packet(at, send_buffer))
      send(*out, send_buffer);
  }

  void take_events() {
    while (const auto e = responder->next_event()) {
      switch (e->kind) {
      case core::mdns_event_kind::announced:
        if (!registered) {
          registered = true;
          emit(advertiser_event_kind::registered);
        }
        break;
      case core::mdns_event_kind::instance_renamed:
        name = std::string(responder->instance_name());
        desc.name = name;
        registered = false;
        emit(advertiser_event_kind::renamed);
        break;
      default: // host renames, conflicts, deferred probes: the responder handles them
        break;
      }
    }
  }

  // Moves the responder on: timers, due packets, events; re-arms the deadline timer.
  void pump() {
    const time_point at = now();
    responder->on_timer(at);
    send_due(at);
    take_events();
    const time_point next = responder->next_deadline();
    if (next == time_point::max()) {
      deadline_timer.cancel();
      return;
    }
    deadline_timer.expires_at(std::max(next, now()));
    deadline_timer.async_wait([w = weak_from_this(), g = generation](std::error_code ec) {
      auto self = w.lock();
      if (ec || !self || !self->active || self->generation != g) return;
      self->pump();
    });
  }

  void receive_from(asio::ip::udp::socket& s) {
    for (int n = 0; n < max_reads_per_wakeup; ++n) {
      sockaddr_storage source{};
      iovec data{receive_buffer.data(), receive_buffer.size()};
      alignas(cmsghdr) unsigned char control[128];
      msghdr message{};
      message.msg_name = &source;
      message.msg_namelen = sizeof source;
      message.msg_iov = &data;
      message.msg_iovlen = 1;
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      const ssize_t got = ::recvmsg(s.native_handle(), &message, MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        return; // EAGAIN: nothing more waiting
      }
      if (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) continue;
      std::uint32_t index = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          in_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          index = static_cast<std::uint32_t>(info.ipi_ifindex);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          index = info.ipi6_ifindex;
        }
      }
      if (index == 0 || !find(index)) continue; // not an interface we publish on
      core::mdns_source from;
      from.interface = index;
      if (source.ss_family == AF_INET) {
        sockaddr_in sin;
        std::memcpy(&sin, &source, sizeof sin);
        std::memcpy(from.address.bytes.data(), &sin.sin_addr, 4);
        from.port = ntohs(sin.sin_port);
      } else if (source.ss_family == AF_INET6) {
        sockaddr_in6 sin6;
        std::memcpy(&sin6, &source, sizeof sin6);
        from.address.v6 = true;
        std::memcpy(from.address.bytes.data(), &sin6.sin6_addr, 16);
        from.port = ntohs(sin6.sin6_port);
      } else {
        continue;
      }
      responder->on_packet(now(), from,
                           std::span<const std::byte>(receive_buffer).first(std::size_t(got)));
    }
  }

  void wait_readable(asio::ip::udp::socket& s) {
    if (!s.is_open()) return;
    s.async_wait(asio::socket_base::wait_read,
                 [w = weak_from_this(), g = generation, &s](std::error_code ec) {
                   auto self = w.lock();
                   if (ec || !self || !self->active || self->generation != g) return;
                   self->receive_from(s);
                   self->pump();
                   self->wait_readable(s);
                 });
  }

  // --- publishing -------------------------------------------------------------------------

  std::error_code start(service_description d) {
    if (auto ec = validate(d)) return ec;
    if (!d.interface.empty()) {
      interface_info info;
      if (auto ec = find_interface(d.interface, info)) return ec;
      d.interface = info.name; // an index given: its name, which the scan compares with
    }
    stop();
    desc = std::move(d);
    txt_wire = desc.txt.encode();
    if (host_label.empty())
      host_label = host_label_of(opts.host_name.empty() ? system_host_name() : opts.host_name);
    auto r = std::make_unique<core::mdns_responder>();
    core::mdns_responder_config config;
    config.host_name = host_label;
    config.instance_name = desc.name;
    config.service_type = desc.type;
    config.port = desc.port;
    config.txt = txt_wire;
    config.random_seed = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    if (auto ec = r->configure(config)) return to_discovery(ec);
    if (auto ec = open_v4()) {
      close_sockets();
      return ec;
    }
    if (open_v6()) { // no IPv6 on this host (or it is disabled): IPv4 alone
      std::error_code ignored;
      v6.close(ignored);
    }
    responder = std::move(r);
    name = desc.name;
    active = true;
    registered = false;
    sync_interfaces();
    pump();
    wait_readable(v4);
    wait_readable(v6);
    arm_rescan();
    return {};
  }

  void stop() {
    if (!active) return;
    const time_point at = now();
    responder->stop(at); // goodbyes: TTL 0 for every record, on each interface that announced
    send_due(at);
    active = false;
    registered = false;
    ++generation;
    deadline_timer.cancel();
    rescan_timer.cancel();
    close_sockets();
    interfaces.clear();
    name.clear();
  }
};

builtin_advertiser::builtin_advertiser(executor_type ex, builtin_advertiser_options options)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(options))) {}

builtin_advertiser::~builtin_advertiser() {
  impl_->stop();
}

builtin_advertiser::executor_type builtin_advertiser::get_executor() const noexcept {
  return impl_->ex;
}

std::error_code builtin_advertiser::publish(service_description d) {
  return impl_->start(std::move(d));
}

std::error_code builtin_advertiser::update_txt(core::txt_record txt) {
  impl& i = *impl_;
  if (!i.active) return discovery_errc::not_published;
  std::vector<std::uint8_t> wire = txt.encode();
  if (auto ec = i.responder->set_txt(now(), wire)) return to_discovery(ec);
  i.txt_wire = std::move(wire);
  i.desc.txt = std::move(txt);
  i.pump();
  return {};
}

void builtin_advertiser::withdraw() {
  impl_->stop();
}

const std::string& builtin_advertiser::name() const noexcept {
  return impl_->name;
}

std::string builtin_advertiser::host_name() const {
  return impl_->active ? std::string(impl_->responder->host_name()) : std::string();
}

bool builtin_advertiser::registered() const noexcept {
  return impl_->registered;
}

const service_description& builtin_advertiser::description() const noexcept {
  return impl_->desc;
}

std::vector<std::string> builtin_advertiser::interfaces() const {
  std::vector<std::string> out;
  for (const auto& p : impl_->interfaces)
    out.push_back(p.name);
  return out;
}

void builtin_advertiser::on_event(std::function<void(const advertiser_event&)> handler) {
  impl_->handler = std::move(handler);
}

} // namespace lanyard::discovery
