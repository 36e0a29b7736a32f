#include "lanyard/discovery/service.hpp"

#include "lanyard/discovery/validation.hpp"

#include <charconv>
#include <net/if.h>

namespace lanyard::discovery {

std::string_view to_string(ip_protocol p) noexcept {
  return p == ip_protocol::ipv4 ? "ipv4" : "ipv6";
}

std::error_code find_interface(std::string_view name_or_index, interface_info& out) {
  if (name_or_index.empty() || name_or_index.size() >= IF_NAMESIZE)
    return discovery_errc::unknown_interface;
  unsigned index = 0;
  auto [end, ec] =
      std::from_chars(name_or_index.data(), name_or_index.data() + name_or_index.size(), index);
  char name[IF_NAMESIZE] = {};
  if (ec == std::errc() && end == name_or_index.data() + name_or_index.size()) {
    if (index == 0 || !::if_indextoname(index, name)) return discovery_errc::unknown_interface;
  } else {
    std::string copy(name_or_index);
    index = ::if_nametoindex(copy.c_str());
    if (index == 0) return discovery_errc::unknown_interface;
    copy.copy(name, sizeof name - 1);
  }
  out.index = index;
  out.name = name;
  out.kind = link::interface_kind_of(out.name);
  return {};
}

interface_info describe_interface(unsigned index) {
  interface_info info;
  info.index = index;
  char name[IF_NAMESIZE] = {};
  if (index != 0 && ::if_indextoname(index, name))
    info.name = name;
  else
    info.name = "if" + std::to_string(index);
  info.kind = link::interface_kind_of(info.name);
  return info;
}

std::error_code validate(const service_description& d) {
  if (auto ec = validate_instance_name(d.name)) return ec;
  service_type type;
  if (auto ec = parse_service_type(d.type, type)) return ec;
  for (const auto& sub : d.subtypes)
    if (auto ec = validate_subtype(sub)) return ec;
  if (auto ec = validate_port(d.port)) return ec;
  if (auto ec = validate_txt_size(d.txt.encoded_size())) return ec;
  return {};
}

} // namespace lanyard::discovery
