/// @file
/// The values discovery hands out: interfaces, service descriptions and resolved services.
///
/// Thread-safety: plain values; distinct objects safe, shared objects safe to read.
#pragma once

#include "lanyard/core/txt_record.hpp"
#include "lanyard/discovery/error.hpp"
#include "lanyard/link/interface_kind.hpp"

#include <asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::discovery {

/// The IP protocol an mDNS record was received over (Avahi runs mDNS over IPv4 and over IPv6
/// separately, so a service is usually seen once per protocol on each interface). Not the
/// family of the addresses: an AAAA record may well arrive over IPv4.
enum class ip_protocol { ipv4, ipv6 };

/// "ipv4" or "ipv6".
std::string_view to_string(ip_protocol p) noexcept;

/// A network interface as discovery reports it.
struct interface_info {
  unsigned index = 0; ///< kernel interface index (if_nametoindex); 0 only for "all"
  std::string name;   ///< e.g. "wlan0"
  link::interface_kind kind = link::interface_kind::other;

  friend bool operator==(const interface_info&, const interface_info&) = default;
};

/// Looks up an interface given by name ("wlan0") or by index ("3"); kind from
/// link::interface_kind_of(). Errors: discovery_errc::unknown_interface.
std::error_code find_interface(std::string_view name_or_index, interface_info& out);

/// Describes an interface by index (name from if_indextoname, kind from its name); an
/// interface that has just vanished gets the name "if<index>".
interface_info describe_interface(unsigned index);

/// What an advertiser publishes.
struct service_description {
  std::string name;                  ///< instance name, ≤ 63 bytes UTF-8 ("Lamp")
  std::string type;                  ///< "_lanyard._tcp"
  std::uint16_t port = 0;            ///< the port the service listens on
  core::txt_record txt;              ///< TXT record (empty: one zero byte on the wire)
  std::vector<std::string> subtypes; ///< subtype labels ("_setup"), optional
  std::string interface;             ///< empty: all interfaces; else a name or an index
  std::string domain;                ///< empty: the default domain (local)
};

/// Checks everything in `d` that can be checked without the network: instance name, type,
/// subtypes, port, TXT size. Returns the first violation (see validation.hpp).
std::error_code validate(const service_description& d);

/// A service instance found by a browser, fully resolved: never handed out without its TXT
/// record, host, port and at least one address (see browser.hpp).
struct service_instance {
  std::string name;   ///< instance name ("Lamp")
  std::string type;   ///< service type without subtype ("_lanyard._tcp")
  std::string domain; ///< "local"
  interface_info interface;
  ip_protocol protocol = ip_protocol::ipv4;
  std::string host; ///< target host of the SRV record ("accessory.local")
  std::uint16_t port = 0;
  /// Every A and AAAA address of `host` on this interface; IPv6 link-local addresses carry
  /// the interface index as scope id, so they can be connected to as they are.
  std::vector<asio::ip::address> addresses;
  core::txt_record txt;

  friend bool operator==(const service_instance&, const service_instance&) = default;
};

} // namespace lanyard::discovery
