// `lanyard connect --json` prints the directory's discovery events for its accessory, rebuilt
// from app::controller's accessory snapshots: the same kinds, paths and order as the
// directory gives (tests/integration/paths read them).
#include "cli/discovery_changes.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using lanyard::app::accessory_change;
using lanyard::app::discovery_event;
using lanyard::cli::discovery_changes;
namespace discovery = lanyard::discovery;

namespace {

discovery::accessory_path path(unsigned index, const char* iface, const char* address,
                               bool reachable = true) {
  discovery::accessory_path p;
  p.interface.index = index;
  p.interface.name = iface;
  p.address = asio::ip::make_address(address);
  p.port = 5577;
  p.reachable = reachable;
  return p;
}

discovery_event event(discovery_event::kind k, std::vector<discovery::accessory_path> paths,
                      accessory_change what = accessory_change::paths, const char* id = "lamp-1") {
  discovery_event e;
  e.what_happened = k;
  e.what = what;
  e.info.id = id;
  e.info.paths = std::move(paths);
  return e;
}

// "kind" or "kind@iface" per event.
std::vector<std::string> names(const std::vector<discovery::directory_event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    std::string n(discovery::to_string(e.kind));
    if (e.kind != discovery::directory_event_kind::added &&
        e.kind != discovery::directory_event_kind::updated &&
        e.kind != discovery::directory_event_kind::removed)
      n += "@" + e.path.interface.name;
    out.push_back(n);
  }
  return out;
}

using v = std::vector<std::string>;

} // namespace

TEST_CASE("an accessory appearing is added, then each of its paths", "[cli][connect]") {
  discovery_changes d("lamp-1");
  CHECK(names(d.apply(event(discovery_event::kind::appeared,
                            {path(2, "p2p0", "fe80::1"), path(3, "wlan0", "198.18.0.20")}))) ==
        v{"added", "path_added@p2p0", "path_added@wlan0"});
}

TEST_CASE("path changes are path_removed, path_added, then reachability", "[cli][connect]") {
  discovery_changes d("lamp-1");
  d.apply(event(discovery_event::kind::appeared,
                {path(2, "p2p0", "fe80::1"), path(3, "wlan0", "198.18.0.20")}));
  CHECK(
      names(d.apply(event(discovery_event::kind::changed,
                          {path(3, "wlan0", "198.18.0.20", false), path(4, "cell0", "198.19.0.1")},
                          accessory_change::paths | accessory_change::txt))) ==
      v{"updated", "path_removed@p2p0", "path_added@cell0", "path_unreachable@wlan0"});
  CHECK(names(d.apply(event(discovery_event::kind::changed,
                            {path(3, "wlan0", "198.18.0.20"), path(4, "cell0", "198.19.0.1")}))) ==
        v{"path_reachable@wlan0"});
  // A TXT change alone.
  CHECK(names(d.apply(event(discovery_event::kind::changed,
                            {path(3, "wlan0", "198.18.0.20"), path(4, "cell0", "198.19.0.1")},
                            accessory_change::txt))) == v{"updated"});
}

TEST_CASE("a disappeared accessory is removed; its return is added again", "[cli][connect]") {
  discovery_changes d("lamp-1");
  d.apply(event(discovery_event::kind::appeared, {path(3, "wlan0", "198.18.0.20")}));
  CHECK(names(d.apply(event(discovery_event::kind::disappeared,
                            {path(3, "wlan0", "198.18.0.20")}))) == v{"removed"});
  CHECK(names(d.apply(event(discovery_event::kind::appeared, {path(3, "wlan0", "198.18.0.20")}))) ==
        v{"added", "path_added@wlan0"});
}

TEST_CASE("other accessories and pairing-only changes are not discovery", "[cli][connect]") {
  discovery_changes d("lamp-1");
  CHECK(d.apply(event(discovery_event::kind::appeared, {path(3, "wlan0", "198.18.0.30")},
                      accessory_change::txt, "lamp-2"))
            .empty());
  // Forgotten while away: a changed event without paths.
  CHECK(d.apply(event(discovery_event::kind::changed, {}, accessory_change::pairing)).empty());
  CHECK(d.apply(event(discovery_event::kind::disappeared, {})).empty());
}
