#include <lanyard/crypto/relay.hpp>

#include <lanyard/core/base32.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace lanyard::crypto {
namespace {

bytes_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace

std::error_code relay_inbox(const core::fingerprint& fp,
                            std::array<char, core::relay_inbox_length>& out) noexcept {
  std::array<std::uint8_t, 32> digest{};
  if (std::error_code ec = sha256({as_bytes("lanyard relay inbox v1"), fp.bytes}, digest))
    return ec;
  // 26 base32 characters are 130 bits: the first 17 bytes give 28 characters, of which the
  // first 26 are taken (base32 of a prefix is a prefix of base32: 5 bytes make 8 characters).
  const std::string text = core::base32_encode(std::span(digest).first(17));
  std::copy_n(text.begin(), out.size(), out.begin());
  return {};
}

std::error_code derive_relay_key(const relay_key& secret, const core::fingerprint& controller,
                                 relay_key& out) noexcept {
  constexpr std::string_view label = "lanyard relay key v1";
  std::array<std::uint8_t, label.size() + core::fingerprint::size> info{};
  std::copy(label.begin(), label.end(), info.begin());
  std::copy(controller.bytes.begin(), controller.bytes.end(), info.begin() + label.size());
  return hkdf_sha256({}, secret, info, out);
}

std::error_code relay_open_tag(const relay_key& key, std::string_view accessory_inbox,
                               const core::relay_tunnel_id& tunnel,
                               const core::relay_address& reply,
                               const std::array<std::uint8_t, core::relay_nonce_size>& nonce,
                               std::array<std::uint8_t, core::relay_tag_size>& out) noexcept {
  const std::uint8_t account_length = static_cast<std::uint8_t>(reply.account.size());
  return hmac_sha256(key,
                     {as_bytes("lanyard relay open v1"), as_bytes(accessory_inbox), tunnel,
                      bytes_view(&account_length, 1), as_bytes(reply.account),
                      as_bytes(reply.inbox), nonce},
                     out);
}

bool relay_open_tag_matches(const relay_key& key, std::string_view accessory_inbox,
                            const core::relay_frame& open) noexcept {
  if (open.type != core::relay_frame_type::open) return false;
  std::array<std::uint8_t, core::relay_tag_size> expected{};
  if (relay_open_tag(key, accessory_inbox, open.tunnel, open.reply, open.nonce, expected))
    return false;
  return equal_constant_time(expected, open.tag);
}

} // namespace lanyard::crypto
