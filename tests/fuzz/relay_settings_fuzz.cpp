// libFuzzer target for the relay settings and tickets a peer sends inside the channel: any
// bytes in, never a crash, and what decodes re-encodes to something that decodes to the same.
#include "fuzz_support.hpp"

#include <lanyard/core/relay_settings.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

using namespace lanyard::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  relay_settings s;
  if (!decode_relay_settings(in, s)) {
    std::vector<std::uint8_t> again;
    LANYARD_FUZZ_CHECK(!encode_relay_settings(s, again));
    relay_settings s2;
    LANYARD_FUZZ_CHECK(!decode_relay_settings(again, s2));
    LANYARD_FUZZ_CHECK(s2.broker.host == s.broker.host && s2.broker.port == s.broker.port &&
                       s2.broker.ca_pem == s.broker.ca_pem &&
                       s2.accessory_password == s.accessory_password &&
                       s2.household_account == s.household_account &&
                       s2.household_password == s.household_password);
  }
  relay_ticket t;
  if (!decode_relay_ticket(in, t)) {
    std::vector<std::uint8_t> again;
    LANYARD_FUZZ_CHECK(!encode_relay_ticket(t, again));
    relay_ticket t2;
    LANYARD_FUZZ_CHECK(!decode_relay_ticket(again, t2));
    LANYARD_FUZZ_CHECK(t2.broker.host == t.broker.host && t2.broker.ca_pem == t.broker.ca_pem &&
                       t2.household_account == t.household_account &&
                       t2.accessory_inbox == t.accessory_inbox && t2.relay_key == t.relay_key);
  }
  return 0;
}
