#include "lanyard/core/pairing_frame.hpp"

#include "wire_writer.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/pairing_error.hpp"

#include <algorithm>
#include <cstring>

namespace lanyard::core {
namespace {

using detail::grow;
using detail::overloaded;
using detail::writer;

// The most iterations a controller will run for an accessory's verifier: PBKDF2 runs on the
// controller, so an accessory (or an impostor) asking for billions would stall the app.
constexpr std::uint32_t max_pairing_iterations = 1'000'000;

// Reads fixed fields front to back; any read past the end marks the body truncated.
class reader {
public:
  explicit reader(std::span<const std::byte> b) : b_(b) {}
  std::uint8_t u8() {
    if (pos_ + 1 > b_.size()) return short_read(1), 0;
    return std::to_integer<std::uint8_t>(b_[pos_++]);
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v = (v << 8) | u8();
    return v;
  }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (pos_ + n > b_.size()) return short_read(n), std::span<const std::uint8_t>{};
    auto out = std::span(reinterpret_cast<const std::uint8_t*>(b_.data()) + pos_, n);
    pos_ += n;
    return out;
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> array() {
    std::array<std::uint8_t, N> a{};
    auto s = bytes(N);
    if (s.size() == N) std::copy(s.begin(), s.end(), a.begin());
    return a;
  }
  std::error_code finish() const {
    if (truncated_) return channel_errc::frame_truncated;
    if (pos_ != b_.size()) return channel_errc::frame_trailing_bytes;
    return {};
  }

private:
  void short_read(std::size_t) { truncated_ = true, pos_ = b_.size(); }
  std::span<const std::byte> b_;
  std::size_t pos_ = 0;
  bool truncated_ = false;
};

std::size_t name_size(const pair_start_frame& s) noexcept {
  return std::min(s.name.size(), max_pairing_name);
}

std::size_t salt_size(const pair_params_frame& p) noexcept {
  return std::min(p.salt.size(), max_pairing_salt);
}

std::size_t body_size(const pairing_frame& f) noexcept {
  return std::visit(
      overloaded{
          [](const pair_start_frame& s) {
            return 2 + name_size(s) + (s.proof ? pairing_mac_size : 0);
          },
          [](const pair_params_frame& p) { return 4 + 1 + salt_size(p) + 1; },
          [](const pair_share_frame&) { return pairing_point_size; },
          [](const pair_challenge_frame&) { return pairing_point_size + pairing_mac_size + 1; },
          [](const pair_confirm_frame&) { return pairing_mac_size; },
          [](const pair_result_frame& r) {
            return std::size_t{8} + (r.proof ? pairing_mac_size : 0);
          },
      },
      f);
}

std::error_code parse_body(pairing_frame_type type, std::span<const std::byte> body,
                           pairing_frame& out) {
  reader r(body);
  std::error_code field; // invalid_frame_field, reported after truncation checks
  auto invalid = [&] { field = channel_errc::invalid_frame_field; };
  switch (type) {
  case pairing_frame_type::start: {
    pair_start_frame s;
    const std::uint8_t method = r.u8();
    if (method < 1 || method > 3) invalid();
    s.method = static_cast<pairing_method>(method);
    const std::uint8_t n = r.u8();
    if (n > max_pairing_name) invalid();
    auto name = r.bytes(n);
    s.name = std::string_view(reinterpret_cast<const char*>(name.data()), name.size());
    if (s.method == pairing_method::setup_secret) s.proof = r.array<pairing_mac_size>();
    out = s;
    break;
  }
  case pairing_frame_type::params: {
    pair_params_frame p;
    p.iterations = r.u32();
    if (p.iterations == 0 || p.iterations > max_pairing_iterations) invalid();
    const std::uint8_t n = r.u8();
    if (n < min_pairing_salt || n > max_pairing_salt) invalid();
    p.salt = r.bytes(n);
    p.attempts_left = r.u8();
    out = p;
    break;
  }
  case pairing_frame_type::share:
    out = pair_share_frame{r.array<pairing_point_size>()};
    break;
  case pairing_frame_type::challenge: {
    pair_challenge_frame c;
    c.share = r.array<pairing_point_size>();
    c.confirm = r.array<pairing_mac_size>();
    c.attempts_left = r.u8();
    out = c;
    break;
  }
  case pairing_frame_type::confirm:
    out = pair_confirm_frame{r.array<pairing_mac_size>()};
    break;
  case pairing_frame_type::result: {
    pair_result_frame res;
    const std::uint8_t status = r.u8();
    if (status > static_cast<std::uint8_t>(pairing_status::accessory_failure)) invalid();
    res.status = static_cast<pairing_status>(status);
    const std::uint8_t role = r.u8();
    if (role > 1) invalid();
    res.role = static_cast<paired_role>(role);
    res.attempts_left = r.u8();
    res.retry_after_ms = r.u32();
    const std::uint8_t has_proof = r.u8();
    if (has_proof > 1 || (has_proof == 1 && res.status != pairing_status::paired)) invalid();
    if (has_proof == 1) res.proof = r.array<pairing_mac_size>();
    out = res;
    break;
  }
  }
  if (std::error_code ec = r.finish()) return ec;
  return field;
}

} // namespace

pairing_frame_type type_of(const pairing_frame& f) noexcept {
  // The variant's alternatives are declared in wire order, starting at 0x10.
  return static_cast<pairing_frame_type>(f.index() + 0x10);
}

bool is_pairing_frame_type(std::uint8_t type) noexcept {
  return type >= static_cast<std::uint8_t>(pairing_frame_type::start) &&
         type <= static_cast<std::uint8_t>(pairing_frame_type::result);
}

std::size_t encoded_size(const pairing_frame& f) noexcept {
  return frame_header_size + body_size(f);
}

namespace {

// Writes `f` (encoded_size(f) bytes) at `at`.
void write_pairing_frame(const pairing_frame& f, std::byte* at) noexcept {
  const std::size_t body = body_size(f);
  writer w{at};
  w.u8(protocol_version);
  w.u8(static_cast<std::uint8_t>(type_of(f)));
  w.be(body, 4);
  std::visit(overloaded{
                 [&](const pair_start_frame& s) {
                   w.u8(static_cast<std::uint8_t>(s.method));
                   w.u8(static_cast<std::uint8_t>(name_size(s)));
                   w.raw(s.name.data(), name_size(s));
                   if (s.proof) w.raw(s.proof->data(), s.proof->size());
                 },
                 [&](const pair_params_frame& p) {
                   w.be(p.iterations, 4);
                   w.u8(static_cast<std::uint8_t>(salt_size(p)));
                   w.raw(p.salt.data(), salt_size(p));
                   w.u8(p.attempts_left);
                 },
                 [&](const pair_share_frame& s) { w.raw(s.share.data(), s.share.size()); },
                 [&](const pair_challenge_frame& c) {
                   w.raw(c.share.data(), c.share.size());
                   w.raw(c.confirm.data(), c.confirm.size());
                   w.u8(c.attempts_left);
                 },
                 [&](const pair_confirm_frame& c) { w.raw(c.confirm.data(), c.confirm.size()); },
                 [&](const pair_result_frame& r) {
                   w.u8(static_cast<std::uint8_t>(r.status));
                   w.u8(static_cast<std::uint8_t>(r.role));
                   w.u8(r.attempts_left);
                   w.be(r.retry_after_ms, 4);
                   w.u8(r.proof ? 1 : 0);
                   if (r.proof) w.raw(r.proof->data(), r.proof->size());
                 },
             },
             f);
}

} // namespace

void encode_pairing_frame(const pairing_frame& f, std::vector<std::byte>& out) {
  write_pairing_frame(f, grow(out, encoded_size(f)));
}

std::size_t encode_pairing_frame(const pairing_frame& f, std::span<std::byte> out) noexcept {
  const std::size_t size = encoded_size(f);
  if (size > out.size()) return 0;
  write_pairing_frame(f, out.data());
  return size;
}

pairing_decode_result decode_pairing_frame(std::span<const std::byte> in) {
  pairing_decode_result res;
  if (in.size() < 2) return res;
  if (std::to_integer<std::uint8_t>(in[0]) != protocol_version) {
    res.error = channel_errc::bad_version;
    return res;
  }
  const auto type = std::to_integer<std::uint8_t>(in[1]);
  if (!is_pairing_frame_type(type)) {
    // A HELLO (or any channel frame) from a controller that has not paired.
    res.error = type >= static_cast<std::uint8_t>(frame_type::hello) &&
                        type <= static_cast<std::uint8_t>(frame_type::close)
                    ? std::error_code(channel_errc::not_paired)
                    : std::error_code(channel_errc::unknown_frame_type);
    return res;
  }
  if (in.size() < frame_header_size) return res;
  std::uint32_t body = 0;
  for (std::size_t i = 2; i < 6; ++i)
    body = (body << 8) | std::to_integer<std::uint8_t>(in[i]);
  if (body > max_pairing_body) {
    res.error = channel_errc::frame_too_large;
    return res;
  }
  if (in.size() < frame_header_size + body) return res;
  pairing_frame f;
  res.error =
      parse_body(static_cast<pairing_frame_type>(type), in.subspan(frame_header_size, body), f);
  if (!res.error) {
    res.value = f;
    res.consumed = frame_header_size + body;
  }
  return res;
}

std::string_view to_string(pairing_method m) noexcept {
  switch (m) {
  case pairing_method::setup_secret:
    return "setup_secret";
  case pairing_method::setup_code:
    return "setup_code";
  case pairing_method::confirmation:
    return "confirmation";
  }
  return "unknown";
}

} // namespace lanyard::core
