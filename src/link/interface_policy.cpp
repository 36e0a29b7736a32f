#include "lanyard/link/interface_policy.hpp"

namespace lanyard::link {

static_assert(core::interface_kind_count == 8);

bool parse_kind_list(std::string_view text, std::vector<core::interface_kind>& out,
                     std::string& error) {
  out.clear();
  if (!text.empty() && text.back() == ',') {
    error = "empty interface kind in list (expected e.g. wifi,p2p)";
    return false;
  }
  while (!text.empty()) {
    auto comma = text.find(',');
    auto entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ')
      entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ')
      entry.remove_suffix(1);
    if (entry.empty()) {
      error = "empty interface kind in list (expected e.g. wifi,p2p)";
      return false;
    }
    auto kind = core::parse_interface_kind(entry);
    if (!kind) {
      error = "unknown interface kind '" + std::string(entry) +
              "' (expected wired, wifi, softap, p2p, cellular, loopback, other or relay)";
      return false;
    }
    for (auto k : out)
      if (k == *kind) {
        error = "interface kind '" + std::string(entry) + "' is listed twice";
        return false;
      }
    out.push_back(*kind);
  }
  return true;
}

bool parse_interface_policy(std::string_view require, std::string_view prohibit,
                            std::string_view prefer, interface_policy& out, std::string& error) {
  out = {};
  std::vector<core::interface_kind> list;
  if (!parse_kind_list(require, list, error)) {
    error = "--require: " + error;
    return false;
  }
  for (auto k : list)
    out.required.insert(k);
  if (!parse_kind_list(prohibit, list, error)) {
    error = "--prohibit: " + error;
    return false;
  }
  for (auto k : list)
    out.prohibited.insert(k);
  if (!parse_kind_list(prefer, out.preference, error)) {
    error = "--prefer: " + error;
    return false;
  }
  error = out.check();
  return error.empty();
}

core::path_candidate make_path_candidate(const network_interface& iface, bool available,
                                         const asio::ip::address& destination) {
  core::path_candidate c;
  c.interface_index = iface.index;
  c.interface_name = iface.name;
  c.kind = iface.kind;
  c.family = destination.is_v6() ? core::address_family::ipv6 : core::address_family::ipv4;
  c.link_local = destination.is_v6() && destination.to_v6().is_link_local();
  auto text = destination.to_string();
  if (auto pct = text.find('%'); pct != std::string::npos) text.resize(pct);
  c.address = std::move(text);
  c.interface_up = available;
  c.has_source_address = iface.source_for(destination) != nullptr;
  return c;
}

} // namespace lanyard::link
