// SRV record RDATA parsing (RFC 2782) for the browser's record browsers. Private to the
// discovery module; separate so that unit tests and the srv_record fuzzer reach it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace lanyard::discovery::detail {

/// The parts of an SRV record the browser uses. Priority and weight are ignored: DNS-SD
/// services on a link publish one SRV per instance (RFC 6763 §5).
struct srv_data {
  std::string host; ///< target in presentation form, Avahi-escaped, without the final dot
  std::uint16_t port = 0;
  friend bool operator==(const srv_data&, const srv_data&) = default;
};

/// Parses SRV RDATA as Avahi hands it over (uncompressed wire format: priority, weight, port,
/// target). Returns false, leaving `out` untouched, for anything else: short data, a label
/// longer than 63 bytes or a compression pointer, a target running past the data or longer
/// than 255 bytes on the wire, a missing terminating root label, or the root name as target
/// ("service not available", RFC 2782).
bool parse_srv(std::span<const std::uint8_t> rdata, srv_data& out);

} // namespace lanyard::discovery::detail
