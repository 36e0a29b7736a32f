/// @file
/// Merges browse results into accessories: one entry per device, with every path to it.
///
/// The same accessory is usually seen several times: on Wi-Fi and on a peer-to-peer link,
/// over mDNS on IPv4 and on IPv6. The directory merges browse events by the TXT key `id` (the
/// stable device id) into one accessory with a set of paths (interface × address × port), and
/// emits accessory-level events. An instance without an `id` is its own accessory, keyed
/// "name:<instance name>".
///
/// avahi-daemon keeps a device that vanished without a goodbye for about two minutes (it does
/// not implement RFC 6762 §10.4's reconfirmation). An application that knows better (its own
/// probe, a link monitor) says so with report_unreachable() / report_reachable(); a path marked
/// unreachable says so at once (path_unreachable), is skipped by client channels, and stays
/// known until discovery drops it, it is announced again or reported reachable. The client
/// channel never calls them: it reads the directory (which the app may share with other
/// channels and its UI), and one failed attempt is no proof that a path is dead (see
/// docs/channel.md, "Connecting by device id").
///
/// The directory does no I/O and holds no Avahi state: feed it browse_events (from a browser,
/// or made up in a test) and act on the directory_events it returns.
///
/// Thread-safety: distinct objects safe, shared objects unsafe.
#pragma once

#include "lanyard/discovery/browser.hpp"

#include <asio/ip/address.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace lanyard::discovery {

/// One way to reach an accessory.
struct accessory_path {
  interface_info interface;
  asio::ip::address address; ///< link-local IPv6 carries the interface as scope id
  std::uint16_t port = 0;
  bool reachable = true; ///< false after report_unreachable(), until reported or announced

  /// Identity of a path: interface index, address, port (not reachability).
  friend bool same_path(const accessory_path& a, const accessory_path& b) {
    return a.interface.index == b.interface.index && a.address == b.address && a.port == b.port;
  }
};

/// An accessory as the directory knows it.
struct discovered_accessory {
  std::string id;                    ///< TXT `id`, or "name:<instance name>" without one
  std::string name;                  ///< instance name most recently reported
  core::txt_record txt;              ///< TXT record most recently reported
  std::vector<accessory_path> paths; ///< sorted by interface index, address, port
  std::size_t instances = 0;         ///< browse instances (interface × protocol) currently merged

  /// True if any path is reachable.
  bool reachable() const;
};

enum class directory_event_kind {
  added,            ///< a new accessory (with its paths)
  updated,          ///< its name or TXT record changed
  path_added,       ///< `path` is new
  path_removed,     ///< `path` is gone from discovery
  path_unreachable, ///< `path` was reported unreachable (report_unreachable())
  path_reachable,   ///< `path` was reported reachable again
  removed,          ///< the accessory is gone (no instance left)
};

/// "added", "updated", "path_added", "path_removed", "path_unreachable", "path_reachable",
/// "removed".
std::string_view to_string(directory_event_kind kind) noexcept;

struct directory_event {
  directory_event_kind kind;
  discovered_accessory accessory; ///< the accessory after the change (before, for `removed`)
  accessory_path path;            ///< for the path_* kinds
};

class directory {
public:
  /// Applies one browse event; returns the resulting accessory events in order (an `added`
  /// comes before the path_added events of its paths).
  std::vector<directory_event> apply(const browse_event& e);

  /// Marks every known path with this interface index, address and port unreachable.
  /// Returns path_unreachable events (none if unknown or already unreachable).
  std::vector<directory_event> report_unreachable(unsigned interface_index,
                                                  const asio::ip::address& address,
                                                  std::uint16_t port);
  /// Marks it reachable again (path_reachable events).
  std::vector<directory_event>
  report_reachable(unsigned interface_index, const asio::ip::address& address, std::uint16_t port);

  /// The accessory with this id, or nullptr.
  const discovered_accessory* find(std::string_view id) const;

  /// All accessories, ordered by id.
  std::vector<discovered_accessory> accessories() const;

private:
  // A browse instance: (interface index, protocol, name, type, domain).
  using instance_key = std::tuple<unsigned, int, std::string, std::string, std::string>;
  struct instance_state {
    std::string accessory_id;
    service_instance service;
  };
  struct entry {
    discovered_accessory acc;
    std::set<instance_key> instances;
  };

  static instance_key key_of(const service_instance& s);
  static std::string id_of(const service_instance& s);
  std::vector<directory_event> remove_instance(const instance_key& k);
  std::vector<directory_event> recompute(entry& e);
  std::vector<directory_event> set_reachability(unsigned index, const asio::ip::address& a,
                                                std::uint16_t port, bool reachable);

  std::map<instance_key, instance_state> instances_;
  std::map<std::string, entry, std::less<>> accessories_;
};

} // namespace lanyard::discovery
