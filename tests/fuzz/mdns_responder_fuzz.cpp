// libFuzzer target for the embedded mDNS responder: arbitrary packets from arbitrary sources at
// arbitrary times (plus TXT and address changes and a stop) into on_packet(), and these
// properties after every step (a violated property aborts, which libFuzzer reports as a crash):
//   - every packet it sends is a well-formed DNS message that fits the buffer;
//   - after everything due is sent, the next deadline lies in the future (no busy loop);
//   - its names stay single labels of 1-63 bytes;
//   - its own packets, looped back to it as multicast is, never cause a conflict, a rename or a
//     lost tie-break.
//
// Input: one option byte, then steps of [control byte][length: 2 bytes][packet bytes].
#include <lanyard/core/mdns_responder.hpp>

#include "fuzz_support.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

using namespace lanyard::core;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t iface = 2;
const mdns_address our_v4 = mdns_address::ipv4(198, 18, 0, 7);
const mdns_address our_v6 =
    mdns_address::ipv6({0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
const std::uint8_t txt_a[] = {5, 'i', 'd', '=', '4', '2', 4, 's', 'f', '=', '1'};
const std::uint8_t txt_b[] = {5, 'i', 'd', '=', '4', '2', 4, 's', 'f', '=', '0'};

struct sent_packet {
  std::vector<std::byte> bytes;
  bool multicast = false;
  std::uint32_t interface = 0;
};

std::vector<sent_packet> drain(mdns_responder& r, mdns_responder::time_point now) {
  std::vector<sent_packet> sent;
  r.on_timer(now);
  std::array<std::byte, 1452> buffer{};
  for (int i = 0;; ++i) {
    LANYARD_FUZZ_CHECK(i < 64);
    const auto out = r.next_packet(now, buffer);
    if (!out) break;
    LANYARD_FUZZ_CHECK(out->size >= 12 && out->size <= buffer.size());
    const std::span<const std::byte> bytes = std::span(buffer).first(out->size);
    LANYARD_FUZZ_CHECK(!validate_dns_message(bytes));
    LANYARD_FUZZ_CHECK(out->multicast || out->port != 0);
    sent.push_back({{bytes.begin(), bytes.end()}, out->multicast, out->interface});
  }
  LANYARD_FUZZ_CHECK(r.next_deadline() > now);
  LANYARD_FUZZ_CHECK(!r.host_name().empty() && r.host_name().size() <= dns_max_label_size);
  LANYARD_FUZZ_CHECK(!r.instance_name().empty() && r.instance_name().size() <= dns_max_label_size);
  return sent;
}

void discard_events(mdns_responder& r) {
  while (r.next_event()) {
  }
}

// Multicast loops back to the sender: our own packets must never look like someone else's.
void loop_back(mdns_responder& r, mdns_responder::time_point now,
               const std::vector<sent_packet>& sent) {
  discard_events(r);
  for (const sent_packet& p : sent) {
    if (p.multicast) r.on_packet(now, {p.interface, our_v4, mdns_port}, p.bytes);
  }
  while (const auto e = r.next_event()) {
    LANYARD_FUZZ_CHECK(
        e->kind != mdns_event_kind::conflict && e->kind != mdns_event_kind::host_renamed &&
        e->kind != mdns_event_kind::instance_renamed && e->kind != mdns_event_kind::probe_deferred);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t options = data[0];
  mdns_responder r;
  mdns_responder_config config;
  config.host_name = (options & 1) ? "lamp-7" : "lamp";
  config.instance_name = (options & 2) ? "Lamp (9)" : "Lamp";
  config.port = 8443;
  config.txt = txt_a;
  config.random_seed = options;
  LANYARD_FUZZ_CHECK(!config.host_name.empty() && !r.configure(config));
  const mdns_address both[] = {our_v4, our_v6};
  mdns_responder::time_point now{};
  LANYARD_FUZZ_CHECK(!r.interface_up(now, iface, both));
  // Start announced (options bit 2 clear) or in the middle of probing.
  const auto until = (options & 4) ? 300ms : 3s;
  for (auto t = 0ms; t <= until; t += 50ms) {
    now = mdns_responder::time_point{} + t;
    loop_back(r, now, drain(r, now));
  }

  std::size_t i = 1;
  bool txt_toggle = false;
  while (i + 3 <= size) {
    const std::uint8_t control = data[i];
    std::size_t length = (std::size_t{data[i + 1]} << 8) | data[i + 2];
    i += 3;
    length = std::min(length, size - i);
    const std::span<const std::byte> packet(reinterpret_cast<const std::byte*>(data + i), length);
    i += length;

    now += std::chrono::milliseconds((control >> 2) & 0x7) * 97;
    mdns_source from{iface, mdns_address::ipv4(198, 18, 0, 20), mdns_port};
    switch (control & 3) {
    case 0:
      break;
    case 1:
      from.address = mdns_address::ipv4(198, 18, 0, 30);
      break;
    case 2:
      from.port = 40000; // legacy unicast
      break;
    case 3:
      from.interface = 9; // not up
      break;
    }
    if (control & 0x20) {
      txt_toggle = !txt_toggle;
      LANYARD_FUZZ_CHECK(!r.set_txt(now, txt_toggle ? txt_b : txt_a) ||
                         r.state() == mdns_state::stopped);
    }
    if ((control & 0xC0) == 0x40) {
      const mdns_address only_v4[] = {our_v4};
      const std::span<const mdns_address> chosen = (control & 0x10)
                                                       ? std::span<const mdns_address>(both)
                                                       : std::span<const mdns_address>(only_v4);
      (void)r.set_addresses(now, iface, chosen);
    }
    if ((control & 0xC0) == 0xC0 && (control & 0x10)) r.stop(now);
    r.on_packet(now, from, packet);
    loop_back(r, now, drain(r, now));
    // And let time run to the next deadline, as a poll loop would.
    const auto deadline = r.next_deadline();
    if (deadline != mdns_responder::time_point::max() && deadline - now < 10s) {
      now = deadline;
      loop_back(r, now, drain(r, now));
    }
  }
  r.stop(now);
  drain(r, now);
  LANYARD_FUZZ_CHECK(drain(r, now + 1s).empty());
  return 0;
}
