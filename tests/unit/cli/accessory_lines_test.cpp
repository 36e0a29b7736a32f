// `lanyard browse --directory` on app::accessory_browser prints the lines it printed when it
// fed a discovery::directory itself (scripts and tests/integration read them): the same event
// kinds and paths in the same order, for the same browse results. Peers' words stay escaped.
#include "cli/accessory_lines.hpp"

#include "app/accessory_list.hpp"

#include <lanyard/discovery/directory.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using lanyard::cli::accessory_lines;
using namespace lanyard::discovery;
using lanyard::link::interface_kind;
namespace app = lanyard::app;

namespace {

const interface_info wlan0{2, "wlan0", interface_kind::wifi};
const interface_info p2p0{3, "p2p0", interface_kind::p2p};

service_instance instance(const interface_info& i, ip_protocol proto,
                          std::vector<const char*> addresses, const char* id = "acc-1",
                          const char* name = "Lamp", const char* pv = "1") {
  service_instance s;
  s.name = name;
  s.type = "_lanyard._tcp";
  s.domain = "local";
  s.interface = i;
  s.protocol = proto;
  s.host = "acc.local";
  s.port = 4433;
  for (const char* a : addresses)
    s.addresses.push_back(asio::ip::make_address(a));
  REQUIRE_FALSE(s.txt.set("id", id));
  REQUIRE_FALSE(s.txt.set("pv", pv));
  return s;
}

// An event as "kind id" or "kind id IF/ADDRESS".
std::string summary(directory_event_kind kind, const std::string& id, const accessory_path* p) {
  std::string out = std::string(to_string(kind)) + " " + id;
  if (p) out += " " + p->interface.name + "/" + p->address.to_string();
  return out;
}

bool is_path_event(directory_event_kind k) {
  return k != directory_event_kind::added && k != directory_event_kind::updated &&
         k != directory_event_kind::removed;
}

// The same browse results two ways: what the directory says (the lines of old), and the JSON
// lines the command prints now, from the app's events, read back.
struct both {
  directory old_dir;
  directory app_dir;
  accessory_lines lines{true};
  std::vector<std::string> expected;
  std::vector<std::string> printed;
  std::vector<nlohmann::json> objects;

  void apply(const browse_event& e) {
    for (const auto& d : old_dir.apply(e))
      expected.push_back(
          summary(d.kind, d.accessory.id, is_path_event(d.kind) ? &d.path : nullptr));
    const auto changes = app_dir.apply(e);
    for (const auto& ev : app::detail::to_discovery_events(changes, nullptr))
      for (const auto& line : lines.apply(ev)) {
        nlohmann::json j = nlohmann::json::parse(line);
        accessory_path p;
        const bool has_path = j.contains("path");
        if (has_path) {
          p.interface.name = j["path"]["interface"].get<std::string>();
          p.address = asio::ip::make_address(j["path"]["address"].get<std::string>());
        }
        auto kind = j["event"].get<std::string>();
        std::string s = kind + " " + j["id"].get<std::string>();
        if (has_path) s += " " + p.interface.name + "/" + p.address.to_string();
        printed.push_back(s);
        objects.push_back(std::move(j));
      }
  }
};

} // namespace

TEST_CASE("browse --directory prints the directory's events for the same browse results",
          "[cli][browse]") {
  both b;
  using K = browse_event_kind;
  b.apply({K::added, instance(wlan0, ip_protocol::ipv4, {"198.18.1.3", "2001:2:0:1::3"})});
  b.apply({K::added, instance(wlan0, ip_protocol::ipv6, {"198.18.1.3", "2001:2:0:1::3"})});
  b.apply({K::added, instance(p2p0, ip_protocol::ipv4, {"198.18.2.3"})});
  b.apply({K::added, instance(wlan0, ip_protocol::ipv4, {"198.18.1.9"}, "other-1", "Other")});
  // TXT and an address change at once (pv=2, a new address on p2p0).
  b.apply({K::updated, instance(p2p0, ip_protocol::ipv4, {"198.18.2.4"}, "acc-1", "Lamp", "2")});
  b.apply({K::removed, instance(p2p0, ip_protocol::ipv4, {"198.18.2.4"})});
  b.apply({K::removed, instance(wlan0, ip_protocol::ipv6, {"198.18.1.3", "2001:2:0:1::3"})});
  b.apply({K::removed, instance(wlan0, ip_protocol::ipv4, {"198.18.1.3", "2001:2:0:1::3"})});
  // It comes back: `added` again.
  b.apply({K::added, instance(p2p0, ip_protocol::ipv4, {"198.18.2.3"})});

  REQUIRE(b.expected.size() > 10);
  CHECK(b.printed == b.expected);

  // The fields of an accessory line: after the change, with its instance count.
  const nlohmann::json& first = b.objects.front();
  CHECK(first["event"] == "added");
  CHECK(first["name"] == "Lamp");
  CHECK(first["instances"] == 1);
  CHECK(first["reachable"] == true);
  CHECK(first["txt"]["pv"] == "1");
  CHECK(first["paths"].size() == 2);
  CHECK(first["paths"][0]["interface_kind"] == "wifi");
  CHECK(first.contains("time_ms"));
  CHECK_FALSE(first.contains("path"));
  bool merged = false;
  for (const auto& j : b.objects)
    merged = merged || (j["id"] == "acc-1" && j["instances"] == 3 && j["paths"].size() == 3);
  CHECK(merged);
  // Gone: no instance left, not reachable, its paths as last seen.
  nlohmann::json removed;
  for (const auto& j : b.objects)
    if (j["event"] == "removed") removed = j;
  REQUIRE_FALSE(removed.is_null());
  CHECK(removed["id"] == "acc-1");
  CHECK(removed["instances"] == 0);
  CHECK(removed["reachable"] == false);
}

TEST_CASE("browse --directory escapes what peers announce", "[cli][browse]") {
  app::discovery_event e;
  e.what_happened = app::discovery_event::kind::appeared;
  e.info.id = "evil\x1b[2J";
  e.info.name = "Lamp\xe2\x80\xae"; // U+202E RIGHT-TO-LEFT OVERRIDE
  REQUIRE_FALSE(e.info.txt.set("id", e.info.id));
  REQUIRE_FALSE(e.info.txt.set("note", "\x1b]0;owned\x07"));
  REQUIRE_FALSE(e.info.txt.set("bin", std::string("\x80\x01\xff", 3)));
  accessory_path p;
  p.interface = wlan0;
  p.address = asio::ip::make_address("198.18.1.3");
  p.port = 4433;
  e.info.paths = {p};
  e.info.reachable = true;
  e.info.instances = 1;

  accessory_lines text(false);
  const auto lines = text.apply(e);
  REQUIRE(lines.size() == 2); // added, path_added
  for (const auto& line : lines) {
    INFO(line);
    CHECK(line.find('\x1b') == std::string::npos);
    CHECK(line.find('\x07') == std::string::npos);
    CHECK(line.find("\xe2\x80\xae") == std::string::npos);
  }
  CHECK(lines[0] == "added evil\\x1b[2J 'Lamp\\u{202e}' paths: wlan0/198.18.1.3:4433 txt: "
                    "id=evil\\x1b[2J note=\\x1b]0;owned\\x07 bin=base64:gAH/");
  CHECK(lines[1] == "path_added evil\\x1b[2J 'Lamp\\u{202e}' wlan0/198.18.1.3:4433");

  accessory_lines json(true);
  const auto objects = json.apply(e);
  REQUIRE(objects.size() == 2);
  const auto j = nlohmann::json::parse(objects[0]);
  CHECK(j["id"] == e.info.id); // JSON carries the bytes, escaped by JSON's rules
  CHECK(j["txt"]["bin"]["base64"] == "gAH/");
  CHECK(objects[0].find('\x1b') == std::string::npos);
}
