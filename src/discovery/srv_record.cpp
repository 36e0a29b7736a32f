#include "srv_record.hpp"

#include <avahi-common/domain.h>

namespace lanyard::discovery::detail {

bool parse_srv(std::span<const std::uint8_t> rdata, srv_data& out) {
  constexpr std::size_t fixed = 6;      // priority, weight, port
  constexpr std::size_t max_name = 255; // RFC 1035 §3.1, wire length including length octets
  if (rdata.size() < fixed + 1) return false;
  const auto port = static_cast<std::uint16_t>(rdata[4] << 8 | rdata[5]);
  std::string host;
  std::size_t i = fixed;
  bool terminated = false;
  while (i < rdata.size()) {
    const std::size_t len = rdata[i++];
    if (len == 0) {
      terminated = true;
      break;
    }
    // Avahi serialises uncompressed; a pointer (top bits 11) or the reserved 01/10 forms are
    // rejected rather than followed.
    if (len > 63 || len > rdata.size() - i) return false;
    char buf[AVAHI_LABEL_MAX * 4 + 1]; // worst case: every byte escaped as \DDD
    char* escaped = buf;
    std::size_t room = sizeof buf;
    if (!avahi_escape_label(reinterpret_cast<const char*>(rdata.data() + i), len, &escaped, &room))
      return false;
    if (!host.empty()) host += '.';
    host += buf;
    i += len;
  }
  if (!terminated || i - fixed > max_name || host.empty()) return false;
  out.host = std::move(host);
  out.port = port;
  return true;
}

} // namespace lanyard::discovery::detail
