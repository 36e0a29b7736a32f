#include "lanyard/core/frame.hpp"

#include "wire_writer.hpp"

#include <algorithm>
#include <type_traits>

namespace lanyard::core {
namespace {

using detail::overloaded;
using detail::put_u32;
using detail::put_u8;

void put_u16(std::vector<std::byte>& out, std::uint16_t v) {
  put_u8(out, static_cast<std::uint8_t>(v >> 8));
  put_u8(out, static_cast<std::uint8_t>(v));
}

void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    put_u8(out, static_cast<std::uint8_t>(v >> shift));
}

void put_id(std::vector<std::byte>& out, const session_id& id) {
  out.insert(out.end(), id.bytes.begin(), id.bytes.end());
}

std::size_t reason_size(const close_frame& c) {
  return std::min(c.reason.size(), max_close_reason);
}

std::size_t body_size(const frame& f) noexcept {
  return std::visit(
      overloaded{
          [](const hello_frame&) { return hello_body_size; },
          [](const welcome_frame&) { return welcome_body_size; },
          [](const data_frame& d) { return data_body_min_size + d.payload.size(); },
          [](const ack_frame&) { return ack_body_size; },
          [](const ping_frame&) { return ping_body_size; },
          [](const pong_frame&) { return ping_body_size; },
          [](const close_frame& c) { return close_body_min_size + reason_size(c); },
          [](const control_frame& c) { return control_body_min_size + c.payload.size(); },
      },
      f);
}

} // namespace

std::string_view to_string(message_kind k) noexcept {
  switch (k) {
  case message_kind::application:
    return "application";
  case message_kind::provisioning:
    return "provisioning";
  case message_kind::administration:
    return "administration";
  }
  return "unknown";
}

frame_type type_of(const frame& f) noexcept {
  // The variant's alternatives are declared in wire order, starting at type 1.
  return static_cast<frame_type>(f.index() + 1);
}

std::size_t encoded_size(const frame& f) noexcept {
  return frame_header_size + body_size(f);
}

void encode_frame(const frame& f, std::vector<std::byte>& out) {
  const std::size_t body = body_size(f);
  out.reserve(out.size() + frame_header_size + body);
  put_u8(out, protocol_version);
  put_u8(out, static_cast<std::uint8_t>(type_of(f)));
  put_u32(out, static_cast<std::uint32_t>(body));
  std::visit(overloaded{
                 [&](const hello_frame& h) {
                   put_id(out, h.id);
                   put_u64(out, h.next_expected);
                   put_u32(out, h.limits.max_message);
                   put_u32(out, h.limits.window);
                 },
                 [&](const welcome_frame& w) {
                   put_id(out, w.id);
                   put_u8(out, w.resumed ? 1 : 0);
                   put_u64(out, w.next_expected);
                   put_u32(out, w.limits.max_message);
                   put_u32(out, w.limits.window);
                 },
                 [&](const data_frame& d) {
                   put_u64(out, d.seq);
                   out.insert(out.end(), d.payload.begin(), d.payload.end());
                 },
                 [&](const ack_frame& a) { put_u64(out, a.next_expected); },
                 [&](const ping_frame& p) { put_u64(out, p.token); },
                 [&](const pong_frame& p) { put_u64(out, p.token); },
                 [&](const close_frame& c) {
                   put_u16(out, c.code);
                   const auto* r = reinterpret_cast<const std::byte*>(c.reason.data());
                   out.insert(out.end(), r, r + reason_size(c));
                 },
                 [&](const control_frame& c) {
                   put_u64(out, c.seq);
                   put_u8(out, static_cast<std::uint8_t>(c.service));
                   out.insert(out.end(), c.payload.begin(), c.payload.end());
                 },
             },
             f);
}

void encode_message_frame(std::uint64_t seq, message_kind kind, std::span<const std::byte> head,
                          std::span<const std::byte> tail, std::vector<std::byte>& out) {
  const std::size_t start = out.size();
  if (kind == message_kind::application)
    encode_frame(data_frame{seq, head}, out);
  else
    encode_frame(control_frame{seq, kind, head}, out);
  if (tail.empty()) return;
  out.insert(out.end(), tail.begin(), tail.end());
  // The body length (bytes 2..5 of the header, big-endian) covers the tail too.
  const std::size_t body = out.size() - start - frame_header_size;
  for (int i = 0; i < 4; ++i)
    out[start + 2 + static_cast<std::size_t>(i)] = static_cast<std::byte>(body >> (8 * (3 - i)));
}

} // namespace lanyard::core
