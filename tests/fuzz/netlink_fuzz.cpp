// libFuzzer target for the rtnetlink parser and the path monitor's interface table: any bytes
// in (one or more netlink messages, as one datagram), never a crash or an out-of-bounds read,
// and these properties hold (a violated property aborts, which libFuzzer reports as a crash):
//   - the parser reports every message it hands out with an interface index > 0 and an address
//     family of AF_INET/AF_INET6 for addresses and routes;
//   - the table fed with the parsed messages (NLMSG_DONE ends a dump: links, then addresses,
//     then routes, then around again) stays consistent: every interface is found by its index
//     and by its name, has no address twice, and every address event names an address;
//   - the table's debounce deadlines can always be run.
// The seed corpus (corpus/netlink/) is real kernel output captured in the lab's phone host:
// dumps of links, addresses and routes, and notifications of links going down and up,
// addresses and default routes added and removed.
#include "link/netlink.hpp"

#include "link/interface_table.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <sys/socket.h>

using namespace lanyard::link;

#define NETLINK_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

using time_point = interface_table::time_point;

struct feeder final : netlink::visitor {
  interface_table& table;
  std::vector<path_event>& events;
  time_point now{std::chrono::seconds(1)};
  int dump = 0;

  feeder(interface_table& t, std::vector<path_event>& e) : table(t), events(e) {
    table.begin_dump(interface_table::dump::links);
  }
  void tick() { now += std::chrono::milliseconds(7); }
  void on_link(const netlink::header&, const netlink::link_message& m) override {
    NETLINK_FUZZ_CHECK(m.index > 0);
    NETLINK_FUZZ_CHECK(m.name.size() < 16);
    tick();
    table.apply(m, now, events);
  }
  void on_address(const netlink::header&, const netlink::address_message& m) override {
    NETLINK_FUZZ_CHECK(m.index > 0);
    NETLINK_FUZZ_CHECK(m.family == AF_INET || m.family == AF_INET6);
    tick();
    table.apply(m, now, events);
  }
  void on_route(const netlink::header&, const netlink::route_message& m) override {
    NETLINK_FUZZ_CHECK(m.family == AF_INET || m.family == AF_INET6);
    tick();
    table.apply(m, now, events);
  }
  void on_done(const netlink::header&) override {
    static constexpr interface_table::dump order[] = {interface_table::dump::links,
                                                      interface_table::dump::addresses,
                                                      interface_table::dump::routes};
    table.end_dump(order[dump % 3], now, events);
    if (dump % 3 == 2) table.initial_dump_complete();
    ++dump;
    table.begin_dump(order[dump % 3]);
    // Let time pass far enough for every pending debounce to fire.
    now += std::chrono::minutes(2);
    table.handle_deadline(now, events);
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Kinds by name only: the fuzzer must not depend on (or read) the machine's sysfs.
  interface_table table({}, [](std::string_view name) { return interface_kind_of(name, "", ""); });
  std::vector<path_event> events;
  feeder f(table, events);
  (void)netlink::parse(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size),
                       f);
  table.handle_deadline(time_point::max() - std::chrono::hours(1), events);

  for (const auto& iface : table.interfaces()) {
    NETLINK_FUZZ_CHECK(table.find(iface.index) != nullptr);
    NETLINK_FUZZ_CHECK(table.find(iface.index)->name == iface.name);
    for (std::size_t i = 0; i < iface.addresses.size(); ++i)
      for (std::size_t j = i + 1; j < iface.addresses.size(); ++j)
        NETLINK_FUZZ_CHECK(!(iface.addresses[i].address == iface.addresses[j].address &&
                             iface.addresses[i].prefix_length == iface.addresses[j].prefix_length));
  }
  for (const auto& ev : events) {
    const bool address_event = ev.type == path_event_type::address_added ||
                               ev.type == path_event_type::address_removed ||
                               ev.type == path_event_type::address_changed;
    NETLINK_FUZZ_CHECK(address_event == ev.address.has_value());
  }
  return 0;
}
