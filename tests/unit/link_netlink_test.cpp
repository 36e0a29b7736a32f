#include "link/netlink.hpp"

#include "lanyard/link/error.hpp"
#include "link/interface_table.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cstring>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

using namespace std::chrono_literals;
using namespace lanyard::link;

namespace {

// --- A tiny rtnetlink message builder: the kernel's layout, written by hand. -----------------

struct builder {
  std::vector<std::byte> buf;
  std::size_t start = 0;

  void pad() {
    while (buf.size() % 4)
      buf.push_back(std::byte{0});
  }
  void raw(const void* p, std::size_t n) {
    auto b = static_cast<const std::byte*>(p);
    buf.insert(buf.end(), b, b + n);
  }
  void begin(std::uint16_t type, std::uint32_t seq = 0, std::uint16_t flags = 0) {
    pad();
    start = buf.size();
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_seq = seq;
    h.nlmsg_flags = flags;
    raw(&h, sizeof h);
  }
  void attr(std::uint16_t type, const void* p, std::size_t n) {
    pad();
    rtattr a{};
    a.rta_len = static_cast<unsigned short>(sizeof a + n);
    a.rta_type = type;
    raw(&a, sizeof a);
    raw(p, n);
  }
  void attr_string(std::uint16_t type, const char* s) { attr(type, s, std::strlen(s) + 1); }
  void end() {
    const auto len = static_cast<std::uint32_t>(buf.size() - start);
    std::memcpy(buf.data() + start, &len, sizeof len); // nlmsg_len is the first field
  }

  void link(std::uint16_t type, int index, unsigned flags, const char* name, std::uint8_t operstate,
            std::uint32_t seq = 0, std::uint8_t family = AF_UNSPEC) {
    begin(type, seq);
    ifinfomsg i{};
    i.ifi_family = family;
    i.ifi_index = index;
    i.ifi_flags = flags;
    raw(&i, sizeof i);
    attr_string(IFLA_IFNAME, name);
    attr(IFLA_OPERSTATE, &operstate, 1);
    std::uint32_t mtu = 1500;
    attr(IFLA_MTU, &mtu, 4);
    end();
  }
  void address(std::uint16_t type, int index, const char* text, std::uint8_t prefix,
               std::uint8_t scope, std::uint32_t flags = IFA_F_PERMANENT, std::uint32_t seq = 0) {
    begin(type, seq);
    ifaddrmsg a{};
    const bool v6 = std::strchr(text, ':') != nullptr;
    a.ifa_family = v6 ? AF_INET6 : AF_INET;
    a.ifa_prefixlen = prefix;
    a.ifa_scope = scope;
    a.ifa_flags = static_cast<std::uint8_t>(flags);
    a.ifa_index = static_cast<std::uint32_t>(index);
    raw(&a, sizeof a);
    unsigned char bytes[16];
    REQUIRE(inet_pton(a.ifa_family, text, bytes) == 1);
    attr(IFA_ADDRESS, bytes, v6 ? 16 : 4);
    if (!v6) attr(IFA_LOCAL, bytes, 4);
    attr(IFA_FLAGS, &flags, 4);
    end();
  }
  void default_route(std::uint16_t type, int oif, const char* gateway, std::uint32_t metric,
                     std::uint32_t seq = 0) {
    begin(type, seq);
    rtmsg r{};
    const bool v6 = std::strchr(gateway, ':') != nullptr;
    r.rtm_family = v6 ? AF_INET6 : AF_INET;
    r.rtm_table = RT_TABLE_MAIN;
    r.rtm_type = RTN_UNICAST;
    raw(&r, sizeof r);
    std::uint32_t table = RT_TABLE_MAIN;
    attr(RTA_TABLE, &table, 4);
    unsigned char bytes[16];
    REQUIRE(inet_pton(r.rtm_family, gateway, bytes) == 1);
    attr(RTA_GATEWAY, bytes, v6 ? 16 : 4);
    attr(RTA_OIF, &oif, 4);
    attr(RTA_PRIORITY, &metric, 4);
    end();
  }
  void done(std::uint32_t seq) {
    begin(NLMSG_DONE, seq, NLM_F_MULTI);
    int zero = 0;
    raw(&zero, sizeof zero);
    end();
  }
  std::span<const std::byte> span() const { return buf; }
};

constexpr unsigned up_flags = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;

struct recorder final : netlink::visitor {
  std::vector<netlink::link_message> links;
  std::vector<netlink::address_message> addresses;
  std::vector<netlink::route_message> routes;
  std::vector<std::uint32_t> done;
  std::vector<int> errors;
  int malformed = 0;
  void on_link(const netlink::header&, const netlink::link_message& m) override {
    links.push_back(m);
  }
  void on_address(const netlink::header&, const netlink::address_message& m) override {
    addresses.push_back(m);
  }
  void on_route(const netlink::header&, const netlink::route_message& m) override {
    routes.push_back(m);
  }
  void on_done(const netlink::header& h) override { done.push_back(h.seq); }
  void on_error(const netlink::header&, int e) override { errors.push_back(e); }
  void on_malformed(const netlink::header&, std::error_code) override { ++malformed; }
};

} // namespace

// --- The parser ---------------------------------------------------------------------------------

TEST_CASE("parses links, addresses, routes and the end of a dump from one datagram", "[netlink]") {
  builder b;
  b.link(RTM_NEWLINK, 3, up_flags, "wlan0", IF_OPER_UP, 7);
  b.address(RTM_NEWADDR, 3, "198.18.1.2", 24, RT_SCOPE_UNIVERSE);
  b.address(RTM_DELADDR, 3, "fe80::1", 64, RT_SCOPE_LINK, IFA_F_TENTATIVE);
  b.default_route(RTM_NEWROUTE, 3, "198.18.1.254", 100);
  b.done(7);
  recorder r;
  REQUIRE_FALSE(netlink::parse(b.span(), r));
  REQUIRE(r.links.size() == 1);
  CHECK(r.links[0].index == 3);
  CHECK(r.links[0].name == "wlan0");
  CHECK(r.links[0].operstate == IF_OPER_UP);
  CHECK(r.links[0].mtu == 1500);
  CHECK((r.links[0].flags & IFF_RUNNING) != 0);
  REQUIRE(r.addresses.size() == 2);
  CHECK(r.addresses[0].family == AF_INET);
  CHECK(r.addresses[0].prefix_length == 24);
  CHECK(r.addresses[0].address[0] == 198);
  CHECK(r.addresses[0].address[3] == 2);
  CHECK(r.addresses[1].removed);
  CHECK(r.addresses[1].family == AF_INET6);
  CHECK((r.addresses[1].flags & IFA_F_TENTATIVE) != 0);
  REQUIRE(r.routes.size() == 1);
  CHECK(r.routes[0].oif == 3);
  CHECK(r.routes[0].priority == 100);
  CHECK(r.routes[0].table_id == RT_TABLE_MAIN);
  CHECK(r.routes[0].has_gateway);
  CHECK(r.done == std::vector<std::uint32_t>{7});
  CHECK(r.malformed == 0);
}

TEST_CASE("input at any alignment parses the same", "[netlink]") {
  builder b;
  b.link(RTM_NEWLINK, 5, up_flags, "p2p0", IF_OPER_UP);
  std::vector<std::byte> shifted(b.buf.size() + 1);
  std::memcpy(shifted.data() + 1, b.buf.data(), b.buf.size());
  recorder r;
  REQUIRE_FALSE(netlink::parse(std::span<const std::byte>(shifted).subspan(1), r));
  REQUIRE(r.links.size() == 1);
  CHECK(r.links[0].name == "p2p0");
}

TEST_CASE("a header whose length does not fit stops the datagram with an error", "[netlink]") {
  builder b;
  b.link(RTM_NEWLINK, 3, up_flags, "wlan0", IF_OPER_UP);
  SECTION("length beyond the datagram") {
    std::uint32_t len = static_cast<std::uint32_t>(b.buf.size() + 4);
    std::memcpy(b.buf.data(), &len, 4);
  }
  SECTION("length smaller than the header") {
    std::uint32_t len = 8;
    std::memcpy(b.buf.data(), &len, 4);
  }
  recorder r;
  CHECK(netlink::parse(b.span(), r) == link_errc::netlink_malformed);
  CHECK(r.links.empty());
}

TEST_CASE("a malformed message body is reported and the next message still parses", "[netlink]") {
  builder b;
  SECTION("attribute longer than the message") {
    b.begin(RTM_NEWLINK);
    ifinfomsg i{};
    i.ifi_index = 3;
    b.raw(&i, sizeof i);
    rtattr a{};
    a.rta_len = 200;
    a.rta_type = IFLA_IFNAME;
    b.raw(&a, sizeof a);
    b.end();
  }
  SECTION("interface name without a terminating NUL") {
    b.begin(RTM_NEWLINK);
    ifinfomsg i{};
    i.ifi_index = 3;
    b.raw(&i, sizeof i);
    b.attr(IFLA_IFNAME, "wlan0", 5);
    b.end();
  }
  SECTION("IPv4 address of 16 bytes") {
    b.begin(RTM_NEWADDR);
    ifaddrmsg a{};
    a.ifa_family = AF_INET;
    a.ifa_index = 3;
    b.raw(&a, sizeof a);
    unsigned char bytes[16] = {};
    b.attr(IFA_ADDRESS, bytes, 16);
    b.end();
  }
  SECTION("address message without an address") {
    b.begin(RTM_NEWADDR);
    ifaddrmsg a{};
    a.ifa_family = AF_INET6;
    a.ifa_index = 3;
    b.raw(&a, sizeof a);
    b.end();
  }
  SECTION("body shorter than ifinfomsg") {
    b.begin(RTM_NEWLINK);
    int x = 0;
    b.raw(&x, sizeof x);
    b.end();
  }
  SECTION("prefix length beyond the family's width") {
    b.begin(RTM_NEWADDR);
    ifaddrmsg a{};
    a.ifa_family = AF_INET;
    a.ifa_prefixlen = 33;
    a.ifa_index = 3;
    b.raw(&a, sizeof a);
    unsigned char bytes[4] = {198, 18, 0, 1};
    b.attr(IFA_ADDRESS, bytes, 4);
    b.end();
  }
  b.link(RTM_NEWLINK, 4, up_flags, "cell0", IF_OPER_UP);
  recorder r;
  CHECK_FALSE(netlink::parse(b.span(), r));
  CHECK(r.malformed == 1);
  REQUIRE(r.links.size() == 1);
  CHECK(r.links[0].name == "cell0");
}

TEST_CASE("every truncation of a valid datagram is handled without reading past it", "[netlink]") {
  builder b;
  b.link(RTM_NEWLINK, 3, up_flags, "wlan0", IF_OPER_UP);
  b.address(RTM_NEWADDR, 3, "2001:2:0:1::2", 64, RT_SCOPE_UNIVERSE);
  b.default_route(RTM_NEWROUTE, 3, "2001:2:0:1::254", 1024);
  for (std::size_t n = 0; n <= b.buf.size(); ++n) {
    // A heap copy of exactly n bytes, so that AddressSanitizer sees any overread.
    std::vector<std::byte> cut(b.buf.begin(), b.buf.begin() + static_cast<std::ptrdiff_t>(n));
    recorder r;
    (void)netlink::parse(cut, r);
    CHECK(r.links.size() + r.addresses.size() + r.routes.size() <= 3);
  }
}

TEST_CASE("errors and acknowledgements are passed on", "[netlink]") {
  builder b;
  b.begin(NLMSG_ERROR, 9);
  nlmsgerr e{};
  e.error = -EBUSY;
  b.raw(&e, sizeof e);
  b.end();
  recorder r;
  CHECK_FALSE(netlink::parse(b.span(), r));
  CHECK(r.errors == std::vector<int>{-EBUSY});
}

TEST_CASE("dump requests carry the body struct of their type", "[netlink]") {
  auto link = netlink::dump_request(RTM_GETLINK, AF_UNSPEC, 1);
  auto addr = netlink::dump_request(RTM_GETADDR, AF_INET6, 2);
  auto route = netlink::dump_request(RTM_GETROUTE, AF_UNSPEC, 3);
  CHECK(link.size() == sizeof(nlmsghdr) + sizeof(ifinfomsg));
  CHECK(addr.size() == sizeof(nlmsghdr) + sizeof(ifaddrmsg));
  CHECK(route.size() == sizeof(nlmsghdr) + sizeof(rtmsg));
  nlmsghdr h;
  std::memcpy(&h, addr.data(), sizeof h);
  CHECK(h.nlmsg_len == addr.size());
  CHECK(h.nlmsg_type == RTM_GETADDR);
  CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
  CHECK(h.nlmsg_seq == 2);
  CHECK(addr[sizeof(nlmsghdr)] == std::byte{AF_INET6});
}

// --- The interface table: messages in, snapshot and events out ----------------------------------

namespace {

const interface_table::time_point t0{std::chrono::hours(1)};

// The address with its scope id as a number (asio would print this host's interface name).
std::string text(const asio::ip::address& a) {
  if (!a.is_v6() || a.to_v6().scope_id() == 0) return a.to_string();
  auto v6 = a.to_v6();
  auto id = v6.scope_id();
  v6.scope_id(0);
  return v6.to_string() + "%" + std::to_string(id);
}

interface_kind lab_kinds(std::string_view name) {
  return interface_kind_of(name, "wlan0=wifi,p2p0=p2p,cell0=cellular", "");
}

struct table_fixture {
  interface_table table{{}, lab_kinds};
  std::vector<path_event> events;

  void feed(const builder& b, interface_table::time_point now = t0) {
    struct v final : netlink::visitor {
      table_fixture& f;
      interface_table::time_point now;
      v(table_fixture& ff, interface_table::time_point n) : f(ff), now(n) {}
      void on_link(const netlink::header&, const netlink::link_message& m) override {
        f.table.apply(m, now, f.events);
      }
      void on_address(const netlink::header&, const netlink::address_message& m) override {
        f.table.apply(m, now, f.events);
      }
      void on_route(const netlink::header&, const netlink::route_message& m) override {
        f.table.apply(m, now, f.events);
      }
    } vis(*this, now);
    REQUIRE_FALSE(netlink::parse(b.span(), vis));
  }
  // The phone of the lab, as the initial dump reports it.
  void initial_dump() {
    builder links, addrs, routes;
    links.link(RTM_NEWLINK, 1, up_flags | IFF_LOOPBACK, "lo", IF_OPER_UNKNOWN);
    links.link(RTM_NEWLINK, 2, up_flags, "wlan0", IF_OPER_UP);
    links.link(RTM_NEWLINK, 3, up_flags, "p2p0", IF_OPER_UP);
    links.link(RTM_NEWLINK, 4, IFF_UP, "cell0", IF_OPER_LOWERLAYERDOWN);
    addrs.address(RTM_NEWADDR, 2, "198.18.1.2", 24, RT_SCOPE_UNIVERSE);
    addrs.address(RTM_NEWADDR, 2, "2001:2:0:1::2", 64, RT_SCOPE_UNIVERSE);
    addrs.address(RTM_NEWADDR, 3, "fe80::2", 64, RT_SCOPE_LINK);
    routes.default_route(RTM_NEWROUTE, 2, "198.18.1.254", 0);
    table.begin_dump(interface_table::dump::links);
    feed(links);
    table.end_dump(interface_table::dump::links, t0, events);
    table.begin_dump(interface_table::dump::addresses);
    feed(addrs);
    table.end_dump(interface_table::dump::addresses, t0, events);
    table.begin_dump(interface_table::dump::routes);
    feed(routes);
    table.end_dump(interface_table::dump::routes, t0, events);
    table.initial_dump_complete();
  }
  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (auto& e : events)
      v.push_back(std::string(to_string(e.type)) + " " + e.iface.name +
                  (e.address ? " " + text(e.address->address) : ""));
    return v;
  }
};

} // namespace

TEST_CASE("the initial dump becomes a snapshot with kinds, states and addresses",
          "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  auto all = f.table.interfaces();
  REQUIRE(all.size() == 4);
  CHECK(all[0].kind == interface_kind::loopback);
  CHECK(all[1].kind == interface_kind::wifi);
  CHECK(all[2].kind == interface_kind::p2p);
  CHECK(all[3].kind == interface_kind::cellular);
  CHECK(all[1].up());
  CHECK_FALSE(all[3].up()); // admin up, but no carrier
  CHECK(f.table.available(2));
  CHECK_FALSE(f.table.available(4));
  REQUIRE(all[1].addresses.size() == 2);
  REQUIRE(all[2].addresses.size() == 1);
  // A link-local address carries its interface as scope id.
  CHECK(all[2].addresses[0].address.to_v6().scope_id() == 3);
  CHECK(all[2].addresses[0].scope == address_scope::link);
  REQUIRE(f.table.default_routes().size() == 1);
  CHECK(f.table.default_routes()[0].interface_index == 2);
  CHECK(f.names() == std::vector<std::string>{
                         "interface_added lo", "interface_added wlan0", "interface_added p2p0",
                         "interface_added cell0", "address_added wlan0 198.18.1.2",
                         "address_added wlan0 2001:2:0:1::2", "address_added p2p0 fe80::2%3",
                         "default_route_added wlan0"});
}

TEST_CASE("wlan0 down and up: raw events at once, debounced ones after grace and hold-down",
          "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  f.events.clear();
  builder down, up;
  down.link(RTM_NEWLINK, 2, IFF_UP, "wlan0", IF_OPER_DOWN);
  up.link(RTM_NEWLINK, 2, up_flags, "wlan0", IF_OPER_UP);
  f.feed(down, t0 + 8s);
  CHECK(f.names() == std::vector<std::string>{"interface_down wlan0"});
  CHECK(f.table.next_deadline() == t0 + 8s + 20ms);
  f.table.handle_deadline(t0 + 8s + 20ms, f.events);
  CHECK(f.names().back() == "interface_unavailable wlan0");
  CHECK_FALSE(f.events.back().available);
  f.feed(up, t0 + 10s);
  CHECK(f.names().back() == "interface_up wlan0");
  CHECK(f.table.next_deadline() == t0 + 13s);
  f.table.handle_deadline(t0 + 13s, f.events);
  CHECK(f.names().back() == "interface_available wlan0");
  CHECK(f.events.back().available);
  CHECK(f.events.size() == 4);
}

TEST_CASE("address add, flag change and removal", "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  f.events.clear();
  builder add, settle, del;
  add.address(RTM_NEWADDR, 4, "2001:2:0:3::2", 64, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE);
  settle.address(RTM_NEWADDR, 4, "2001:2:0:3::2", 64, RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
  del.address(RTM_DELADDR, 4, "2001:2:0:3::2", 64, RT_SCOPE_UNIVERSE);
  f.feed(add);
  REQUIRE(f.events.size() == 1);
  CHECK(f.events[0].type == path_event_type::address_added);
  CHECK(f.events[0].address->tentative);
  CHECK(f.events[0].iface.kind == interface_kind::cellular);
  f.feed(add); // the same again: nothing new
  CHECK(f.events.size() == 1);
  f.feed(settle);
  REQUIRE(f.events.size() == 2);
  CHECK(f.events[1].type == path_event_type::address_changed);
  CHECK_FALSE(f.events[1].address->tentative);
  f.feed(del);
  REQUIRE(f.events.size() == 3);
  CHECK(f.events[2].type == path_event_type::address_removed);
  CHECK(f.table.find(4)->addresses.empty());
}

TEST_CASE("an interface that disappears takes its default routes with it", "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  f.events.clear();
  builder del;
  del.link(RTM_DELLINK, 2, 0, "wlan0", IF_OPER_DOWN);
  f.feed(del, t0 + 1s);
  CHECK(f.names() == std::vector<std::string>{"interface_unavailable wlan0",
                                              "interface_removed wlan0",
                                              "default_route_removed wlan0"});
  CHECK(f.table.find(2) == nullptr);
  CHECK(f.table.default_routes().empty());
}

TEST_CASE("a bridge-port notification does not remove the interface", "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  f.events.clear();
  builder b;
  b.link(RTM_DELLINK, 2, up_flags, "wlan0", IF_OPER_UP, 0, AF_BRIDGE);
  f.feed(b);
  CHECK(f.events.empty());
  CHECK(f.table.find("wlan0") != nullptr);
}

TEST_CASE("a new interface after the snapshot has to earn the hold-down", "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  f.events.clear();
  builder b;
  b.link(RTM_NEWLINK, 9, up_flags, "sap0", IF_OPER_UP);
  f.feed(b, t0 + 1s);
  CHECK(f.names() == std::vector<std::string>{"interface_added sap0", "interface_up sap0"});
  CHECK_FALSE(f.table.available(9));
  f.table.handle_deadline(t0 + 4s, f.events);
  CHECK(f.table.available(9));
}

TEST_CASE("a resync dump reports what changed while notifications were lost", "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  f.events.clear();
  builder links, addrs;
  links.link(RTM_NEWLINK, 1, up_flags | IFF_LOOPBACK, "lo", IF_OPER_UNKNOWN);
  links.link(RTM_NEWLINK, 2, up_flags, "wlan0", IF_OPER_UP);
  links.link(RTM_NEWLINK, 4, IFF_UP, "cell0", IF_OPER_LOWERLAYERDOWN); // p2p0 is gone
  addrs.address(RTM_NEWADDR, 2, "198.18.1.2", 24, RT_SCOPE_UNIVERSE);  // the IPv6 one is gone
  f.table.begin_dump(interface_table::dump::links);
  f.feed(links, t0 + 5s);
  f.table.end_dump(interface_table::dump::links, t0 + 5s, f.events);
  f.table.begin_dump(interface_table::dump::addresses);
  f.feed(addrs, t0 + 5s);
  f.table.end_dump(interface_table::dump::addresses, t0 + 5s, f.events);
  CHECK(f.names() == std::vector<std::string>{"interface_unavailable p2p0",
                                              "interface_removed p2p0",
                                              "address_removed wlan0 2001:2:0:1::2"});
}

TEST_CASE("source address choice follows the destination's family and scope", "[interface_table]") {
  table_fixture f;
  f.initial_dump();
  builder b;
  b.address(RTM_NEWADDR, 2, "fe80::1", 64, RT_SCOPE_LINK);
  f.feed(b);
  const auto& wlan = *f.table.find(2);
  auto src = [&](const char* dest) {
    auto* a = wlan.source_for(asio::ip::make_address(dest));
    return a ? text(a->address) : std::string("none");
  };
  CHECK(src("198.18.1.3") == "198.18.1.2");
  CHECK(src("2001:2:0:1::3") == "2001:2:0:1::2");
  CHECK(src("fe80::3") == "fe80::1%2");
  const auto& p2p = *f.table.find(3);
  CHECK(p2p.source_for(asio::ip::make_address("2001:2::3")) == nullptr); // link-local only
  CHECK(p2p.source_for(asio::ip::make_address("198.18.2.3")) == nullptr);
}
