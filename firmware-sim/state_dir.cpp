#include "state_dir.hpp"

#include <lanyard/core/device_id.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <system_error>
#include <vector>

namespace lanyard::sim {
namespace fs = std::filesystem;

namespace {

constexpr const char* device_magic = "lanyard-accessory-sim-device 1";
constexpr const char* wifi_magic = "lanyard-accessory-sim-wifi 1";

bool write_atomic(const fs::path& path, const std::string& text, std::string& error) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      error = "cannot write " + tmp.string() + "; check that the state directory is writable";
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    error = "cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message();
    return false;
  }
  return true;
}

// Reads "key value" lines after `magic`. nullopt + empty error: no file.
std::optional<std::vector<std::pair<std::string, std::string>>>
read_kv(const fs::path& path, const char* magic, std::string& error) {
  error.clear();
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path.string() + "; check its permissions";
    return std::nullopt;
  }
  std::string line;
  if (!std::getline(in, line) || line != magic) {
    error = path.string() + ":1: expected \"" + magic + "\"; the file is damaged or not ours " +
            "(remove it to start over)";
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> kv;
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto sp = line.find(' ');
    if (sp == std::string::npos || sp == 0) {
      error = path.string() + ":" + std::to_string(n) + ": expected \"KEY VALUE\", got \"" + line +
              "\" (fix or remove the file)";
      return std::nullopt;
    }
    kv.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  return kv;
}

} // namespace

bool ensure_state_dir(const state_paths& p, std::string& error) {
  std::error_code ec;
  if (fs::is_directory(p.dir, ec)) return true;
  if (fs::exists(p.dir, ec)) {
    error = "--state-dir " + p.dir.string() + " exists but is not a directory";
    return false;
  }
  fs::create_directories(p.dir, ec);
  if (ec) {
    error = "cannot create the state directory " + p.dir.string() + ": " + ec.message();
    return false;
  }
  ::chmod(p.dir.c_str(), 0700);
  return true;
}

std::optional<device_config> read_device_config(const state_paths& p, std::string& error) {
  auto kv = read_kv(p.device_conf(), device_magic, error);
  if (!kv) return std::nullopt;
  device_config c;
  bool have_kind = false;
  for (const auto& [k, v] : *kv) {
    if (k == "id") {
      c.id = v;
    } else if (k == "name") {
      c.name = v;
    } else if (k == "kind" && (v == "lamp" || v == "sensor")) {
      c.kind = v == "lamp" ? device_kind::lamp : device_kind::sensor;
      have_kind = true;
    } else if (k == "pairing" && (v == "secret" || v == "confirm")) {
      c.pairing = v == "secret" ? pairing_mode::secret : pairing_mode::confirm;
    } else {
      error = p.device_conf().string() + ": unknown entry \"" + k + " " + v +
              "\" (expected id, kind lamp|sensor, name, pairing secret|confirm)";
      return std::nullopt;
    }
  }
  if (!core::is_valid_device_id(c.id) || !have_kind || c.name.empty()) {
    error = p.device_conf().string() + ": needs a valid id, kind and name (fix or remove it)";
    return std::nullopt;
  }
  return c;
}

bool write_device_config(const state_paths& p, const device_config& c, std::string& error) {
  std::ostringstream s;
  s << device_magic << "\nid " << c.id << "\nkind " << to_string(c.kind) << "\nname " << c.name
    << "\n";
  // Only the exception is written: a secret accessory's file stays as older simulators wrote
  // it, and an older simulator refuses a confirm one (unknown entry) rather than giving it a
  // setup code.
  if (c.pairing == pairing_mode::confirm) s << "pairing confirm\n";
  return write_atomic(p.device_conf(), s.str(), error);
}

std::optional<wifi_config> read_wifi_config(const state_paths& p, std::string& error) {
  auto kv = read_kv(p.wifi_conf(), wifi_magic, error);
  if (!kv) return std::nullopt;
  wifi_config c;
  for (const auto& [k, v] : *kv) {
    if (k == "ssid") {
      c.ssid = v;
    } else {
      error = p.wifi_conf().string() + ": unknown entry \"" + k + "\" (expected ssid)";
      return std::nullopt;
    }
  }
  if (c.ssid.empty() || c.ssid.size() > 32) {
    error = p.wifi_conf().string() + ": needs \"ssid SSID\" (1 to 32 bytes); fix it, or remove " +
            "it to go back to setup mode";
    return std::nullopt;
  }
  return c;
}

bool write_wifi_config(const state_paths& p, const wifi_config& c, std::string& error) {
  return write_atomic(p.wifi_conf(), std::string(wifi_magic) + "\nssid " + c.ssid + "\n", error);
}

bool retire_identity(const state_paths& p, std::string& error) {
  std::error_code ec;
  const auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  fs::create_directories(p.old_identities(), ec);
  const fs::path to = p.old_identities() / std::to_string(secs);
  fs::rename(p.identity(), to, ec);
  if (ec) {
    error = "cannot move " + p.identity().string() + " to " + to.string() + ": " + ec.message();
    return false;
  }
  return true;
}

std::string random_device_id() {
  std::random_device rd;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
  return std::string("sim-") + buf;
}

} // namespace lanyard::sim
