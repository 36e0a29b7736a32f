#include <lanyard/core/relay_frame.hpp>

#include <algorithm>
#include <cstring>

namespace lanyard::core {
namespace {

bool name_byte(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool name_bytes(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), name_byte);
}

// Writes the header and returns a cursor after it; nullptr if `out` cannot take `total` bytes.
std::uint8_t* put_header(relay_frame_type type, const relay_tunnel_id& tunnel, std::uint32_t seq,
                         std::size_t total, std::span<std::uint8_t> out,
                         std::error_code& ec) noexcept {
  if (out.size() < total) {
    ec = relay_errc::buffer_too_small;
    return nullptr;
  }
  std::uint8_t* p = out.data();
  *p++ = relay_version;
  *p++ = static_cast<std::uint8_t>(type);
  p = std::copy(tunnel.begin(), tunnel.end(), p);
  *p++ = static_cast<std::uint8_t>(seq >> 24);
  *p++ = static_cast<std::uint8_t>(seq >> 16);
  *p++ = static_cast<std::uint8_t>(seq >> 8);
  *p++ = static_cast<std::uint8_t>(seq);
  ec.clear();
  return p;
}

} // namespace

bool valid_relay_account(std::string_view name) noexcept {
  return !name.empty() && name.size() <= relay_max_account_length && name_bytes(name);
}

bool valid_relay_inbox(std::string_view name) noexcept {
  return name.size() == relay_inbox_length && name_bytes(name);
}

std::size_t relay_topic(const relay_address& to, std::span<char> out,
                        std::error_code& ec) noexcept {
  if (!valid_relay_account(to.account) || !valid_relay_inbox(to.inbox)) {
    ec = relay_errc::bad_address;
    return 0;
  }
  constexpr std::string_view prefix = "lanyard/v1/";
  const std::size_t n = prefix.size() + to.account.size() + 1 + to.inbox.size();
  if (out.size() < n) {
    ec = relay_errc::buffer_too_small;
    return 0;
  }
  char* p = std::copy(prefix.begin(), prefix.end(), out.data());
  p = std::copy(to.account.begin(), to.account.end(), p);
  *p++ = '/';
  std::copy(to.inbox.begin(), to.inbox.end(), p);
  ec.clear();
  return n;
}

std::error_code parse_relay_frame(std::span<const std::uint8_t> payload,
                                  relay_frame& out) noexcept {
  if (payload.size() < relay_header_size) return relay_errc::truncated;
  if (payload[0] != relay_version) return relay_errc::bad_version;
  const std::uint8_t type = payload[1];
  if (type < 1 || type > 4) return relay_errc::bad_type;
  out.type = static_cast<relay_frame_type>(type);
  std::copy_n(payload.begin() + 2, out.tunnel.size(), out.tunnel.begin());
  out.seq = std::uint32_t{payload[18]} << 24 | std::uint32_t{payload[19]} << 16 |
            std::uint32_t{payload[20]} << 8 | std::uint32_t{payload[21]};
  const std::span<const std::uint8_t> body = payload.subspan(relay_header_size);
  out.data = {};
  out.reply = {};
  out.reason = 0;
  switch (out.type) {
  case relay_frame_type::open: {
    if (body.empty()) return relay_errc::truncated;
    const std::size_t account = body[0];
    const std::size_t need = 1 + account + relay_inbox_length + relay_nonce_size + relay_tag_size;
    if (body.size() < need) return relay_errc::truncated;
    if (body.size() > need) return relay_errc::trailing_bytes;
    const char* text = reinterpret_cast<const char*>(body.data() + 1);
    out.reply.account = std::string_view(text, account);
    out.reply.inbox = std::string_view(text + account, relay_inbox_length);
    if (!valid_relay_account(out.reply.account) || !valid_relay_inbox(out.reply.inbox))
      return relay_errc::bad_address;
    const std::uint8_t* p = body.data() + 1 + account + relay_inbox_length;
    std::copy_n(p, relay_nonce_size, out.nonce.begin());
    std::copy_n(p + relay_nonce_size, relay_tag_size, out.tag.begin());
    return {};
  }
  case relay_frame_type::accept:
    return body.empty() ? std::error_code() : relay_errc::trailing_bytes;
  case relay_frame_type::data:
    if (body.empty() || body.size() > relay_max_data) return relay_errc::bad_data_size;
    out.data = body;
    return {};
  case relay_frame_type::close:
    if (body.size() < 2) return relay_errc::truncated;
    if (body.size() > 2) return relay_errc::trailing_bytes;
    out.reason = static_cast<std::uint16_t>(body[0] << 8 | body[1]);
    return {};
  }
  return relay_errc::bad_type;
}

std::size_t encode_relay_open(const relay_tunnel_id& tunnel, const relay_address& reply,
                              const std::array<std::uint8_t, relay_nonce_size>& nonce,
                              const std::array<std::uint8_t, relay_tag_size>& tag,
                              std::span<std::uint8_t> out, std::error_code& ec) noexcept {
  if (!valid_relay_account(reply.account) || !valid_relay_inbox(reply.inbox)) {
    ec = relay_errc::bad_address;
    return 0;
  }
  const std::size_t n = relay_header_size + 1 + reply.account.size() + relay_inbox_length +
                        relay_nonce_size + relay_tag_size;
  std::uint8_t* p = put_header(relay_frame_type::open, tunnel, 0, n, out, ec);
  if (!p) return 0;
  *p++ = static_cast<std::uint8_t>(reply.account.size());
  p = std::copy(reply.account.begin(), reply.account.end(), p);
  p = std::copy(reply.inbox.begin(), reply.inbox.end(), p);
  p = std::copy(nonce.begin(), nonce.end(), p);
  std::copy(tag.begin(), tag.end(), p);
  return n;
}

std::size_t encode_relay_accept(const relay_tunnel_id& tunnel, std::span<std::uint8_t> out,
                                std::error_code& ec) noexcept {
  return put_header(relay_frame_type::accept, tunnel, 0, relay_header_size, out, ec)
             ? relay_header_size
             : 0;
}

std::size_t encode_relay_data(const relay_tunnel_id& tunnel, std::uint32_t seq,
                              std::span<const std::uint8_t> data, std::span<std::uint8_t> out,
                              std::error_code& ec) noexcept {
  if (data.empty() || data.size() > relay_max_data) {
    ec = relay_errc::bad_data_size;
    return 0;
  }
  const std::size_t n = relay_header_size + data.size();
  std::uint8_t* p = put_header(relay_frame_type::data, tunnel, seq, n, out, ec);
  if (!p) return 0;
  std::memcpy(p, data.data(), data.size());
  return n;
}

std::size_t encode_relay_close(const relay_tunnel_id& tunnel, std::uint32_t seq,
                               std::uint16_t reason, std::span<std::uint8_t> out,
                               std::error_code& ec) noexcept {
  const std::size_t n = relay_header_size + 2;
  std::uint8_t* p = put_header(relay_frame_type::close, tunnel, seq, n, out, ec);
  if (!p) return 0;
  p[0] = static_cast<std::uint8_t>(reason >> 8);
  p[1] = static_cast<std::uint8_t>(reason);
  return n;
}

} // namespace lanyard::core
