#include "lanyard/link/interface_kind.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace lanyard::link {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::optional<interface_kind> kind_from_sysfs(std::string_view name, const std::string& sysfs) {
  if (sysfs.empty()) return std::nullopt;
  const std::string dir = sysfs + "/" + std::string(name);
  if (!exists(dir)) return std::nullopt;
  // ARPHRD_LOOPBACK (772): the kernel's own word beats any name.
  if (trim(read_file(dir + "/type")) == "772") return interface_kind::loopback;
  if (exists(dir + "/wireless") || exists(dir + "/phy80211")) {
    // A Wi-Fi interface whose name says it is a P2P group or an access point is that.
    if (starts_with(name, "p2p")) return interface_kind::p2p;
    if (starts_with(name, "ap") || starts_with(name, "uap")) return interface_kind::softap;
    return interface_kind::wifi;
  }
  std::istringstream uevent(read_file(dir + "/uevent"));
  for (std::string line; std::getline(uevent, line);) {
    if (line == "DEVTYPE=wlan") return interface_kind::wifi;
    if (line == "DEVTYPE=wwan") return interface_kind::cellular;
  }
  return std::nullopt;
}

std::optional<interface_kind> kind_from_name(std::string_view name) {
  if (name == "lo") return interface_kind::loopback;
  if (starts_with(name, "p2p")) return interface_kind::p2p;
  if (starts_with(name, "wlan") || starts_with(name, "wl")) return interface_kind::wifi;
  if (starts_with(name, "ap") || starts_with(name, "uap")) return interface_kind::softap;
  if (starts_with(name, "wwan") || starts_with(name, "rmnet") || starts_with(name, "cell") ||
      starts_with(name, "ccmni"))
    return interface_kind::cellular;
  if (starts_with(name, "eth") || starts_with(name, "en") || starts_with(name, "em"))
    return interface_kind::wired;
  return std::nullopt;
}

} // namespace

bool parse_interface_kind_overrides(std::string_view text,
                                    std::vector<interface_kind_override>& out, std::string& error) {
  link_error e = parse_interface_kind_overrides(text, out);
  if (e.ok()) return true;
  error = std::move(e.detail);
  return false;
}

link_error parse_interface_kind_overrides(std::string_view text,
                                          std::vector<interface_kind_override>& out) {
  out.clear();
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view entry = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (entry.empty()) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      link_error e{std::make_error_code(std::errc::invalid_argument),
                   "LANYARD_INTERFACE_KINDS entry '" + std::string(entry) +
                       "': expected INTERFACE=KIND (e.g. wlan0=wifi)"};
      if (eq == std::string_view::npos) e.with(core::field_key::interface, std::string(entry));
      e.with(core::field_key::problem, std::string("not_interface_equals_kind"));
      out.clear();
      return e;
    }
    auto kind = core::parse_interface_kind(trim(entry.substr(eq + 1)));
    // A relay is a path through a broker, never a kernel interface of its own.
    if (kind == core::interface_kind::relay) kind.reset();
    if (!kind) {
      out.clear();
      return link_error{std::make_error_code(std::errc::invalid_argument),
                        "LANYARD_INTERFACE_KINDS entry '" + std::string(entry) +
                            "': unknown kind (expected wired, wifi, softap, p2p, cellular, "
                            "loopback or other)"}
          .with(core::field_key::interface, std::string(trim(entry.substr(0, eq))))
          .with(core::field_key::problem, std::string("unknown_kind"));
    }
    out.emplace_back(std::string(trim(entry.substr(0, eq))), *kind);
  }
  return {};
}

interface_kind interface_kind_of(std::string_view name, std::string_view overrides,
                                 const std::string& sysfs_net) {
  std::vector<interface_kind_override> list;
  std::string error;
  if (parse_interface_kind_overrides(overrides, list, error))
    for (auto& [ifname, kind] : list)
      if (ifname == name) return kind;
  if (auto kind = kind_from_sysfs(name, sysfs_net)) return *kind;
  if (auto kind = kind_from_name(name)) return *kind;
  if (!sysfs_net.empty() && trim(read_file(sysfs_net + "/" + std::string(name) + "/type")) == "1" &&
      exists(sysfs_net + "/" + std::string(name) + "/device"))
    return interface_kind::wired; // a physical Ethernet-type device
  return interface_kind::other;
}

interface_kind interface_kind_of(std::string_view name) {
  const char* env = std::getenv("LANYARD_INTERFACE_KINDS");
  return interface_kind_of(name, env ? env : "", "/sys/class/net");
}

std::string check_interface_kind_overrides() {
  const char* env = std::getenv("LANYARD_INTERFACE_KINDS");
  if (!env) return {};
  std::vector<interface_kind_override> list;
  std::string error;
  parse_interface_kind_overrides(env, list, error);
  return error;
}

} // namespace lanyard::link
