// The path monitor's model of the system's interfaces: parsed rtnetlink messages in, the
// snapshot and path events out. No socket and no clock of its own (time is an argument), so the
// unit tests drive it with crafted messages and literal time points.
#pragma once

#include "lanyard/core/link_debounce.hpp"
#include "lanyard/link/path_event.hpp"
#include "netlink.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string_view>
#include <vector>

namespace lanyard::link {

class interface_table {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using kind_resolver = std::function<interface_kind(std::string_view name)>;
  enum class dump { links, addresses, routes };

  interface_table(core::link_debounce_settings debounce, kind_resolver resolve_kind);

  void apply(const netlink::link_message& m, time_point now, std::vector<path_event>& out);
  void apply(const netlink::address_message& m, time_point now, std::vector<path_event>& out);
  void apply(const netlink::route_message& m, time_point now, std::vector<path_event>& out);

  /// A dump of `what` starts: everything not seen again before end_dump() is gone.
  void begin_dump(dump what);
  void end_dump(dump what, time_point now, std::vector<path_event>& out);
  /// The initial dump is over: interfaces that appear from now on must earn the hold-down.
  void initial_dump_complete() { initial_complete_ = true; }
  bool initial_complete() const { return initial_complete_; }

  /// The events that describe the table as it is: interface_added for every interface, then
  /// address_added for each of their addresses, then default_route_added for every route (the
  /// order of an initial dump; each event carries the interface's current state). What a
  /// consumer that starts listening late needs to catch up.
  void replay(time_point now, std::vector<path_event>& out) const;

  time_point next_deadline() const;
  void handle_deadline(time_point now, std::vector<path_event>& out);

  std::vector<network_interface> interfaces() const;
  const network_interface* find(std::uint32_t index) const;
  const network_interface* find(std::string_view name) const;
  /// The debounced state of interface `index` (false if unknown).
  bool available(std::uint32_t index) const;
  std::vector<default_route> default_routes() const { return routes_; }

private:
  struct entry {
    network_interface iface;
    core::link_debounce debounce;
    std::uint64_t seen = 0;
    std::vector<std::uint64_t> address_seen; // parallel to iface.addresses
  };
  void emit(std::vector<path_event>& out, path_event_type type, const network_interface& iface,
            time_point now) const;
  void debounce_change(entry& e, core::link_change c, time_point now,
                       std::vector<path_event>& out) const;
  void remove_interface(std::map<std::uint32_t, entry>::iterator it, time_point now,
                        std::vector<path_event>& out);

  core::link_debounce_settings debounce_settings_;
  kind_resolver resolve_kind_;
  std::map<std::uint32_t, entry> entries_;
  std::vector<default_route> routes_;
  std::vector<std::uint64_t> route_seen_; // parallel to routes_
  std::uint64_t generation_[3] = {0, 0, 0};
  bool initial_complete_ = false;
};

} // namespace lanyard::link
