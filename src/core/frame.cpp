#include "lanyard/core/frame.hpp"

#include "wire_writer.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace lanyard::core {
namespace {

using detail::grow;
using detail::overloaded;
using detail::writer;

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
  case message_kind::relay:
    return "relay";
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

namespace {

// Writes `f` (encoded_size(f) bytes) at `at`.
void write_frame(const frame& f, std::byte* at) noexcept {
  const std::size_t body = body_size(f);
  writer w{at};
  w.u8(protocol_version);
  w.u8(static_cast<std::uint8_t>(type_of(f)));
  w.be(body, 4);
  std::visit(overloaded{
                 [&](const hello_frame& h) {
                   w.raw(h.id.bytes.data(), h.id.bytes.size());
                   w.be(h.next_expected, 8);
                   w.be(h.limits.max_message, 4);
                   w.be(h.limits.window, 4);
                 },
                 [&](const welcome_frame& m) {
                   w.raw(m.id.bytes.data(), m.id.bytes.size());
                   w.u8(m.resumed ? 1 : 0);
                   w.be(m.next_expected, 8);
                   w.be(m.limits.max_message, 4);
                   w.be(m.limits.window, 4);
                 },
                 [&](const data_frame& d) {
                   w.be(d.seq, 8);
                   w.raw(d.payload.data(), d.payload.size());
                 },
                 [&](const ack_frame& a) { w.be(a.next_expected, 8); },
                 [&](const ping_frame& p) { w.be(p.token, 8); },
                 [&](const pong_frame& p) { w.be(p.token, 8); },
                 [&](const close_frame& c) {
                   w.be(c.code, 2);
                   w.raw(c.reason.data(), reason_size(c));
                 },
                 [&](const control_frame& c) {
                   w.be(c.seq, 8);
                   w.u8(static_cast<std::uint8_t>(c.service));
                   w.raw(c.payload.data(), c.payload.size());
                 },
             },
             f);
}

// A DATA or CONTROL frame whose payload is `head` then `tail` (encoded_message_size bytes).
std::size_t encoded_message_size(message_kind kind, std::size_t payload) noexcept {
  return frame_header_size +
         (kind == message_kind::application ? data_body_min_size : control_body_min_size) + payload;
}
void write_message_frame(std::uint64_t seq, message_kind kind, std::span<const std::byte> head,
                         std::span<const std::byte> tail, std::byte* at) noexcept {
  if (kind == message_kind::application)
    write_frame(data_frame{seq, head}, at);
  else
    write_frame(control_frame{seq, kind, head}, at);
  const std::size_t size = encoded_message_size(kind, head.size() + tail.size());
  writer w{at + (size - tail.size())};
  w.raw(tail.data(), tail.size());
  // The body length (bytes 2..5 of the header, big-endian) covers the tail too.
  w.p = at + 2;
  w.be(size - frame_header_size, 4);
}

} // namespace

void encode_frame(const frame& f, std::vector<std::byte>& out) {
  write_frame(f, grow(out, encoded_size(f)));
}

std::size_t encode_frame(const frame& f, std::span<std::byte> out) noexcept {
  const std::size_t size = encoded_size(f);
  if (size > out.size()) return 0;
  write_frame(f, out.data());
  return size;
}

void encode_frame(const frame& f, byte_buffer& out) noexcept {
  write_frame(f, out.extend(encoded_size(f)));
}

void encode_message_frame(std::uint64_t seq, message_kind kind, std::span<const std::byte> head,
                          std::span<const std::byte> tail, std::vector<std::byte>& out) {
  write_message_frame(seq, kind, head, tail,
                      grow(out, encoded_message_size(kind, head.size() + tail.size())));
}

void encode_message_frame(std::uint64_t seq, message_kind kind, std::span<const std::byte> head,
                          std::span<const std::byte> tail, byte_buffer& out) noexcept {
  write_message_frame(seq, kind, head, tail,
                      out.extend(encoded_message_size(kind, head.size() + tail.size())));
}

} // namespace lanyard::core
