// libFuzzer target for the relay's tunnel frames (what an MQTT broker forwards): any bytes in,
// never a crash, and a frame that parses encodes back to the same bytes (the codec has one
// encoding per frame), with its views inside the input.
#include "fuzz_support.hpp"

#include <lanyard/core/relay_frame.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

using namespace lanyard::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  relay_frame f;
  if (parse_relay_frame(in, f)) return 0;
  static std::array<std::uint8_t, relay_max_frame_size> out;
  std::error_code ec;
  std::size_t n = 0;
  switch (f.type) {
  case relay_frame_type::open:
    LANYARD_FUZZ_CHECK(valid_relay_account(f.reply.account) && valid_relay_inbox(f.reply.inbox));
    LANYARD_FUZZ_CHECK(reinterpret_cast<const std::uint8_t*>(f.reply.account.data()) >= data &&
                       reinterpret_cast<const std::uint8_t*>(f.reply.inbox.data()) +
                               f.reply.inbox.size() <=
                           data + size);
    n = encode_relay_open(f.tunnel, f.reply, f.nonce, f.tag, out, ec);
    break;
  case relay_frame_type::accept:
    n = encode_relay_accept(f.tunnel, out, ec);
    break;
  case relay_frame_type::data:
    LANYARD_FUZZ_CHECK(!f.data.empty() && f.data.size() <= relay_max_data);
    LANYARD_FUZZ_CHECK(f.data.data() >= data && f.data.data() + f.data.size() <= data + size);
    n = encode_relay_data(f.tunnel, f.seq, f.data, out, ec);
    break;
  case relay_frame_type::close:
    n = encode_relay_close(f.tunnel, f.seq, f.reason, out, ec);
    break;
  }
  LANYARD_FUZZ_CHECK(!ec);
  // OPEN and ACCEPT are encoded with seq 0; a parsed one may carry another (ignored) number.
  if (f.type == relay_frame_type::open || f.type == relay_frame_type::accept) {
    LANYARD_FUZZ_CHECK(n == size);
    LANYARD_FUZZ_CHECK(std::memcmp(out.data(), data, 18) == 0);
    LANYARD_FUZZ_CHECK(std::memcmp(out.data() + 22, data + 22, size - 22) == 0);
  } else {
    LANYARD_FUZZ_CHECK(n == size && std::memcmp(out.data(), data, size) == 0);
  }
  return 0;
}
