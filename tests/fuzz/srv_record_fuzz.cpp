// libFuzzer target for the discovery browser's SRV RDATA parser (discovery/srv_record.hpp):
// arbitrary bytes as the RDATA Avahi hands over. Never a crash or an out-of-bounds read, and
// an accepted record has a non-empty target whose presentation form has no bare control bytes
// (Avahi's escaping turns them into \DDD) and whose length fits the wire name it came from.
#include "discovery/srv_record.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lanyard::discovery::detail::srv_data out;
  if (!lanyard::discovery::detail::parse_srv({data, size}, out)) return 0;
  bool ok = !out.host.empty() && out.host.size() <= 255 * 4;
  for (unsigned char c : out.host)
    ok = ok && c >= 0x20 && c != 0x7f;
  if (!ok) {
    std::fprintf(stderr, "srv_record_fuzz: property failed for host of %zu bytes\n",
                 out.host.size());
    std::abort();
  }
  return 0;
}
