// Interface kinds: override list, sysfs (a fake tree in a temporary directory), names.
#include "lanyard/link/interface_kind.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace lanyard::link;
namespace fs = std::filesystem;

namespace {

struct fake_sysfs {
  fs::path root;
  fake_sysfs() {
    root = fs::temp_directory_path() / ("lanyard-sysfs-" + std::to_string(::getpid()));
    fs::create_directories(root);
  }
  ~fake_sysfs() { fs::remove_all(root); }
  void add(const std::string& name, const std::string& type, const std::string& uevent = "",
           bool wireless = false, bool device = false) {
    fs::create_directories(root / name);
    std::ofstream(root / name / "type") << type << "\n";
    std::ofstream(root / name / "uevent") << uevent;
    if (wireless) fs::create_directories(root / name / "wireless");
    if (device) fs::create_directories(root / name / "device");
  }
};

} // namespace

TEST_CASE("override lists parse, and name the bad entry when they do not") {
  std::vector<interface_kind_override> list;
  std::string error;
  REQUIRE(parse_interface_kind_overrides("wlan0=wifi, p2p0=p2p,,cell0=cellular", list, error));
  REQUIRE(list.size() == 3);
  CHECK(list[1] == interface_kind_override{"p2p0", interface_kind::p2p});
  CHECK_FALSE(parse_interface_kind_overrides("wlan0=wifi,p2p0=bluetooth", list, error));
  // The one golden sentence of a bad override (a person reads it, e.g. `lanyard` refusing it).
  CHECK(error == "LANYARD_INTERFACE_KINDS entry 'p2p0=bluetooth': unknown kind (expected wired, "
                 "wifi, softap, p2p, cellular, loopback or other)");
  auto e = parse_interface_kind_overrides("wlan0=wifi,p2p0=bluetooth", list);
  CHECK(e.code == std::errc::invalid_argument);
  CHECK(e.text(lanyard::core::field_key::interface) == "p2p0");
  CHECK(e.text(lanyard::core::field_key::problem) == "unknown_kind");
  CHECK(list.empty());
  CHECK_FALSE(parse_interface_kind_overrides("wlan0", list, error));
  CHECK_FALSE(error.empty());
  e = parse_interface_kind_overrides("wlan0", list);
  CHECK(e.code == std::errc::invalid_argument);
  CHECK(e.text(lanyard::core::field_key::interface) == "wlan0");
  CHECK(e.text(lanyard::core::field_key::problem) == "not_interface_equals_kind");
  CHECK(parse_interface_kind_overrides("", list, error));
  CHECK(list.empty());
  CHECK(parse_interface_kind_overrides("wlan0=wifi", list).ok());
  CHECK(list.size() == 1);
}

TEST_CASE("overrides beat the kernel, the kernel beats the name") {
  fake_sysfs sys;
  sys.add("lo", "772");
  sys.add("lback", "772");
  sys.add("wlp2s0", "1", "DEVTYPE=wlan\n");
  sys.add("phy0", "1", "", true);
  sys.add("wwp0s20", "1", "DEVTYPE=wwan\n");
  sys.add("eth0", "1", "", false, true);
  sys.add("veth7", "1");
  sys.add("mystery0", "1", "", false, true); // a physical Ethernet device with an odd name
  const std::string root = sys.root.string();

  CHECK(interface_kind_of("lo", "", root) == interface_kind::loopback);
  CHECK(interface_kind_of("lback", "", root) == interface_kind::loopback);
  CHECK(interface_kind_of("wlp2s0", "", root) == interface_kind::wifi);
  CHECK(interface_kind_of("phy0", "", root) == interface_kind::wifi);
  CHECK(interface_kind_of("wwp0s20", "", root) == interface_kind::cellular);
  CHECK(interface_kind_of("eth0", "", root) == interface_kind::wired);
  CHECK(interface_kind_of("veth7", "", root) == interface_kind::other);
  CHECK(interface_kind_of("mystery0", "", root) == interface_kind::wired);
  // The lab names veths by kind and says so:
  CHECK(interface_kind_of("veth7", "veth7=p2p", root) == interface_kind::p2p);
  CHECK(interface_kind_of("eth0", "eth0=cellular", root) == interface_kind::cellular);
  // A malformed override list is ignored, not half-applied.
  CHECK(interface_kind_of("veth7", "veth7=p2p,x=nonsense", root) == interface_kind::other);
}

TEST_CASE("names alone, when sysfs knows nothing") {
  CHECK(interface_kind_of("wlan0", "", "") == interface_kind::wifi);
  CHECK(interface_kind_of("p2p-wlan0-0", "", "") == interface_kind::p2p);
  CHECK(interface_kind_of("p2p0", "", "") == interface_kind::p2p);
  CHECK(interface_kind_of("ap0", "", "") == interface_kind::softap);
  CHECK(interface_kind_of("rmnet_data0", "", "") == interface_kind::cellular);
  CHECK(interface_kind_of("cell0", "", "") == interface_kind::cellular);
  CHECK(interface_kind_of("enp3s0", "", "") == interface_kind::wired);
  CHECK(interface_kind_of("lo", "", "") == interface_kind::loopback);
  CHECK(interface_kind_of("tun0", "", "") == interface_kind::other);
}

TEST_CASE("the environment variable is used and checked") {
  ::setenv("LANYARD_INTERFACE_KINDS", "tun0=cellular", 1);
  CHECK(interface_kind_of("tun0") == interface_kind::cellular);
  CHECK(check_interface_kind_overrides().empty());
  ::setenv("LANYARD_INTERFACE_KINDS", "tun0=cell", 1);
  CHECK_FALSE(check_interface_kind_overrides().empty());
  ::unsetenv("LANYARD_INTERFACE_KINDS");
  CHECK(check_interface_kind_overrides().empty());
  CHECK(interface_kind_of("lo") == interface_kind::loopback);
}
