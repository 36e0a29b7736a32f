#include "lanyard/core/setup_payload.hpp"

#include "quote_char.hpp"

#include "lanyard/core/base32.hpp"
#include "lanyard/core/crc32c.hpp"
#include "lanyard/core/device_id.hpp"
#include "lanyard/core/error_condition.hpp"

#include <vector>

namespace lanyard::core {
namespace {

constexpr std::uint8_t flag_softap = 0x01;
constexpr std::uint8_t flag_needs_provisioning = 0x02;
constexpr std::uint8_t flag_pairing_window_open = 0x04;
constexpr std::size_t crc_size = 4;

constexpr const char* no_setup_secret_message =
    "this is a version-1 setup payload: it has no setup secret, so it cannot prove to the "
    "accessory that you hold it; update the accessory (its new label or QR code has a version-2 "
    "payload), or pair with its 8-digit setup code";

bool is_known_version(std::uint8_t v) noexcept {
  return v >= setup_payload::oldest_version && v <= setup_payload::current_version;
}

// The size of the setup secret in a payload of version `v` (version 1 has none).
constexpr std::size_t secret_size(std::uint8_t v) noexcept {
  return v >= 2 ? setup_payload::setup_secret_size : 0;
}

class payload_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.payload"; }
#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<payload_errc>(ev)) {
    case payload_errc::empty:
      return "the setup payload is empty";
    case payload_errc::bad_prefix:
      return "not a Lanyard setup payload: it must start with \"LNY1:\"";
    case payload_errc::bad_character:
      return "the setup payload contains a character that is not base32 (A-Z, 2-7)";
    case payload_errc::bad_length:
      return "the setup payload has characters missing, extra or mistyped at its end";
    case payload_errc::truncated:
      return "the setup payload is truncated: copy the whole payload";
    case payload_errc::checksum_mismatch:
      return "the setup payload's checksum does not match: a character was mistyped";
    case payload_errc::unsupported_version:
      return "the setup payload's version is not supported: update the app";
    case payload_errc::bad_device_id:
      return "the setup payload's device id is empty or has a character outside "
             "[A-Za-z0-9._:-]";
    case payload_errc::device_id_too_long:
      return "the setup payload's device id is longer than 64 bytes";
    case payload_errc::bad_ssid:
      return "the setup payload's SoftAP flag is set but its SSID is empty";
    case payload_errc::ssid_too_long:
      return "the setup payload's SoftAP SSID is longer than 32 bytes";
    case payload_errc::trailing_data:
      return "the setup payload has unexpected bytes after its last field";
    case payload_errc::missing_setup_secret:
      return "a version-2 setup payload needs a setup secret";
    case payload_errc::unexpected_setup_secret:
      return "a version-1 setup payload cannot carry a setup secret: encode version 2";
    case payload_errc::no_setup_secret:
      return no_setup_secret_message;
    }
    return "unknown setup payload error";
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<payload_errc>(code)) {
    case payload_errc::empty:
      return "empty";
    case payload_errc::bad_prefix:
      return "bad_prefix";
    case payload_errc::bad_character:
      return "bad_character";
    case payload_errc::bad_length:
      return "bad_length";
    case payload_errc::truncated:
      return "truncated";
    case payload_errc::checksum_mismatch:
      return "checksum_mismatch";
    case payload_errc::unsupported_version:
      return "unsupported_version";
    case payload_errc::bad_device_id:
      return "bad_device_id";
    case payload_errc::device_id_too_long:
      return "device_id_too_long";
    case payload_errc::bad_ssid:
      return "bad_ssid";
    case payload_errc::ssid_too_long:
      return "ssid_too_long";
    case payload_errc::trailing_data:
      return "trailing_data";
    case payload_errc::missing_setup_secret:
      return "missing_setup_secret";
    case payload_errc::unexpected_setup_secret:
      return "unexpected_setup_secret";
    case payload_errc::no_setup_secret:
      return "no_setup_secret";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<payload_errc>(code)) {
    case payload_errc::empty:
    case payload_errc::bad_prefix:
    case payload_errc::bad_character:
    case payload_errc::bad_length:
    case payload_errc::truncated:
    case payload_errc::checksum_mismatch:
    case payload_errc::unsupported_version:
    case payload_errc::bad_device_id:
    case payload_errc::device_id_too_long:
    case payload_errc::bad_ssid:
    case payload_errc::ssid_too_long:
    case payload_errc::trailing_data:
    case payload_errc::missing_setup_secret:
    case payload_errc::unexpected_setup_secret:
    case payload_errc::no_setup_secret:
      return {permanent};
    }
    return {};
  }
};

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

payload_parse_result fail(payload_errc e, std::size_t position = 0, char c = '\0') {
  payload_parse_result r;
  r.code = make_error_code(e);
  r.position = position;
  r.character = c;
  return r;
}

// The outcome of following the field layout over `body` (the bytes before the checksum).
struct layout_result {
  payload_errc error{};  // value 0: no error
  std::size_t value = 0; // see payload_parse_result::position
  char character = '\0';
  std::size_t needed = 0; // bytes the fields need, when known (truncated)
};

layout_result read_fields(const std::vector<std::uint8_t>& body, setup_payload& out) {
  const std::size_t n = body.size();
  auto truncated = [](std::size_t needed, std::size_t have) {
    return layout_result{payload_errc::truncated, needed - have, '\0', needed};
  };
  // Too short to know: assume the shortest possible id, and the version written today.
  const std::uint8_t version = n >= 1 ? body[0] : setup_payload::current_version;
  if (n >= 1 && !is_known_version(version)) return {payload_errc::unsupported_version, version};
  const std::size_t secret_len = secret_size(version);
  if (n < 3) return truncated(3 + 1 + fingerprint::size + secret_len, n);
  out.version = version;
  const std::uint8_t flags = body[1];
  const std::size_t id_len = body[2];
  if (id_len == 0) return {payload_errc::bad_device_id, 0};
  if (id_len > max_device_id_length) return {payload_errc::device_id_too_long, id_len};
  std::size_t pos = 3;
  const std::size_t fixed_end = pos + id_len + fingerprint::size + secret_len;
  if (n < fixed_end) return truncated(fixed_end, n);
  out.device_id.assign(reinterpret_cast<const char*>(body.data() + pos), id_len);
  for (std::size_t i = 0; i < id_len; ++i)
    if (!is_valid_device_id_char(out.device_id[i]))
      return {payload_errc::bad_device_id, i, out.device_id[i]};
  pos += id_len;
  for (std::size_t i = 0; i < fingerprint::size; ++i)
    out.device_fingerprint.bytes[i] = body[pos + i];
  pos += fingerprint::size;
  if (secret_len != 0) {
    setup_secret_bytes& secret = out.setup_secret.emplace();
    for (std::size_t i = 0; i < secret.size(); ++i)
      secret[i] = body[pos + i];
    pos += secret.size();
  }
  if ((flags & flag_softap) != 0) {
    if (n < pos + 1) return truncated(pos + 2, n);
    const std::size_t ssid_len = body[pos++];
    if (ssid_len == 0) return {payload_errc::bad_ssid};
    if (ssid_len > setup_payload::max_ssid_length) return {payload_errc::ssid_too_long, ssid_len};
    if (n < pos + ssid_len) return truncated(pos + ssid_len, n);
    out.softap_ssid.emplace(reinterpret_cast<const char*>(body.data() + pos), ssid_len);
    pos += ssid_len;
  }
  out.needs_provisioning = (flags & flag_needs_provisioning) != 0;
  out.pairing_window_open = (flags & flag_pairing_window_open) != 0;
  if (n > pos) return {payload_errc::trailing_data, n - pos};
  return {};
}

// If `bytes` (a whole payload, checksum included) is a consistent payload cut short, the number
// of bytes missing; else 0. Used only when the checksum fails, to say "truncated" instead of
// "mistyped" when that is what happened.
std::size_t missing_bytes(const std::vector<std::uint8_t>& bytes) {
  setup_payload ignored;
  const layout_result l = read_fields(bytes, ignored);
  if (l.error == payload_errc::truncated) return l.needed + crc_size - bytes.size();
  if (l.error == payload_errc{}) return crc_size; // the fields end exactly where the input does
  if (l.error == payload_errc::trailing_data && l.value < crc_size) return crc_size - l.value;
  return 0;
}

std::uint32_t read_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

} // namespace

const std::error_category& payload_category() noexcept {
  static const payload_category_impl category;
  return category;
}

std::string payload_parse_result::describe() const {
  const std::string p = "setup payload: ";
  if (!code) return "no error";
  if (code.category() != payload_category()) return p + code.message();
  switch (static_cast<payload_errc>(code.value())) {
  case payload_errc::empty:
    return p + "empty; expected \"LNY1:\" followed by the code from the accessory's label";
  case payload_errc::bad_prefix:
    return p + "does not start with \"LNY1:\" (character " + detail::quote_char(character) +
           " at position " + std::to_string(position + 1) +
           "); is this the code from a Lanyard accessory?";
  case payload_errc::bad_character: {
    std::string s = p + "character " + detail::quote_char(character) + " at position " +
                    std::to_string(position + 1) + " is not base32 (A-Z, 2-7)";
    switch (character) {
    case '0':
      s += "; did you mean 'O'?";
      break;
    case '1':
      s += "; did you mean 'I'?";
      break;
    case '8':
      s += "; did you mean 'B'?";
      break;
    case '9':
      s += "; did you mean 'G'?";
      break;
    default:
      break;
    }
    return s;
  }
  case payload_errc::bad_length:
    if (character != '\0')
      return p + "the last character " + detail::quote_char(character) + " (position " +
             std::to_string(position + 1) + ") is impossible there; was it mistyped?";
    return p + "its length is impossible: characters are missing or extra";
  case payload_errc::truncated:
    return p + "truncated: " + std::to_string(position) + " byte" + (position == 1 ? "" : "s") +
           " (about " + std::to_string((position * 8 + 4) / 5) +
           " characters) missing; copy the whole payload";
  case payload_errc::checksum_mismatch:
    return p + "checksum mismatch: a character was mistyped or changed; check it again";
  case payload_errc::unsupported_version: {
    constexpr auto oldest = setup_payload::oldest_version;
    constexpr auto newest = setup_payload::current_version;
    return p + "version " + std::to_string(position) +
           " is not supported (this app reads versions " + std::to_string(oldest) +
           (newest == oldest + 1 ? " and " : " to ") + std::to_string(newest) + "); update the app";
  }
  case payload_errc::bad_device_id:
    if (character == '\0') return p + "the device id is empty";
    return p + "the device id has character " + detail::quote_char(character) + " at position " +
           std::to_string(position + 1) + "; only A-Z a-z 0-9 . _ : - are allowed";
  case payload_errc::device_id_too_long:
    return p + "the device id is " + std::to_string(position) + " bytes long; at most " +
           std::to_string(max_device_id_length) + " are allowed";
  case payload_errc::bad_ssid:
    return p + "the SoftAP flag is set but the SSID is empty";
  case payload_errc::ssid_too_long:
    return p + "the SoftAP SSID is " + std::to_string(position) + " bytes long; at most " +
           std::to_string(setup_payload::max_ssid_length) + " are allowed";
  case payload_errc::trailing_data:
    return p + std::to_string(position) +
           " unexpected bytes after the last field (the accessory's encoder is broken)";
  case payload_errc::no_setup_secret:
    return p + "version 1 has no setup secret, so it cannot prove to the accessory that you hold "
               "it; update the accessory (its new label or QR code has a version-2 payload), or "
               "pair with its 8-digit setup code";
  case payload_errc::missing_setup_secret:
  case payload_errc::unexpected_setup_secret:
    break; // encoding errors, never a parse's: the category's message says it all
  }
  return p + code.message();
}

payload_parse_result parse_setup_payload(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin]))
    ++begin;
  while (end > begin && is_space(text[end - 1]))
    --end;
  if (begin == end) return fail(payload_errc::empty);

  // The prefix, case-insensitively: "lny1:" typed by hand is fine.
  const std::string_view prefix = setup_payload::prefix;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (begin + i >= end) return fail(payload_errc::bad_prefix, begin + i, '\0');
    char c = text[begin + i];
    char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    if (u != prefix[i]) return fail(payload_errc::bad_prefix, begin + i, c);
  }
  begin += prefix.size();

  // Strip separators, remembering where each kept character came from for error positions.
  std::string clean;
  std::vector<std::size_t> origin;
  clean.reserve(end - begin);
  origin.reserve(end - begin);
  for (std::size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (c == '-' || is_space(c)) continue;
    clean.push_back(c);
    origin.push_back(i);
  }

  std::vector<std::uint8_t> bytes;
  const base32_decode_error e = base32_decode(clean, bytes);
  if (e) {
    if (e.code == base32_errc::invalid_character)
      return fail(payload_errc::bad_character, origin[e.position], e.character);
    if (e.code == base32_errc::nonzero_trailing_bits)
      return fail(payload_errc::bad_length, origin[e.position], e.character);
    // invalid_length: if the whole bytes so far are a consistent but short payload, say
    // "truncated" (the usual cause); otherwise a character is missing or extra somewhere.
    const std::size_t rest = clean.size() % 8;
    const std::size_t whole = clean.size() - rest + (rest == 1 ? 0 : rest == 3 ? 2 : 5);
    std::vector<std::uint8_t> head;
    if (!base32_decode(std::string_view(clean).substr(0, whole), head))
      if (const std::size_t missing = missing_bytes(head); missing != 0)
        return fail(payload_errc::truncated, missing);
    return fail(payload_errc::bad_length, text.size(), '\0');
  }

  payload_parse_result result;
  const bool crc_ok =
      bytes.size() >= crc_size &&
      crc32c(std::span<const std::uint8_t>(bytes.data(), bytes.size() - crc_size)) ==
          read_be32(bytes.data() + bytes.size() - crc_size);
  if (!crc_ok) {
    // Tell a cut-short payload from a mistyped one.
    if (const std::size_t missing = missing_bytes(bytes); missing != 0)
      return fail(payload_errc::truncated, missing);
    return fail(payload_errc::checksum_mismatch);
  }
  bytes.resize(bytes.size() - crc_size);
  const layout_result l = read_fields(bytes, result.payload);
  if (l.error != payload_errc{}) return fail(l.error, l.value, l.character);
  return result;
}

std::error_code check_pairable(const setup_payload& payload) noexcept {
  if (!payload.setup_secret) return payload_errc::no_setup_secret;
  return {};
}

std::error_code encode_setup_payload(const setup_payload& payload, std::string& out,
                                     payload_layout layout) {
  if (!is_known_version(payload.version)) return payload_errc::unsupported_version;
  const std::size_t secret_len = secret_size(payload.version);
  if (secret_len != 0 && !payload.setup_secret) return payload_errc::missing_setup_secret;
  if (secret_len == 0 && payload.setup_secret) return payload_errc::unexpected_setup_secret;
  if (payload.device_id.size() > max_device_id_length) return payload_errc::device_id_too_long;
  if (!is_valid_device_id(payload.device_id)) return payload_errc::bad_device_id;
  if (payload.softap_ssid) {
    if (payload.softap_ssid->empty()) return payload_errc::bad_ssid;
    if (payload.softap_ssid->size() > setup_payload::max_ssid_length)
      return payload_errc::ssid_too_long;
  }
  std::vector<std::uint8_t> bytes;
  // The exact size up front: one allocation, and GCC 12 at -O3 no longer reports a false
  // -Wstringop-overflow on the growing vector.
  bytes.reserve(3 + payload.device_id.size() + payload.device_fingerprint.bytes.size() +
                secret_len + (payload.softap_ssid ? 1 + payload.softap_ssid->size() : 0) +
                crc_size);
  bytes.push_back(payload.version);
  std::uint8_t flags = 0;
  if (payload.softap_ssid) flags |= flag_softap;
  if (payload.needs_provisioning) flags |= flag_needs_provisioning;
  if (payload.pairing_window_open) flags |= flag_pairing_window_open;
  bytes.push_back(flags);
  bytes.push_back(static_cast<std::uint8_t>(payload.device_id.size()));
  bytes.insert(bytes.end(), payload.device_id.begin(), payload.device_id.end());
  bytes.insert(bytes.end(), payload.device_fingerprint.bytes.begin(),
               payload.device_fingerprint.bytes.end());
  if (secret_len != 0)
    bytes.insert(bytes.end(), payload.setup_secret->begin(), payload.setup_secret->end());
  if (payload.softap_ssid) {
    bytes.push_back(static_cast<std::uint8_t>(payload.softap_ssid->size()));
    bytes.insert(bytes.end(), payload.softap_ssid->begin(), payload.softap_ssid->end());
  }
  const std::uint32_t crc = crc32c(bytes);
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<std::uint8_t>(crc >> shift));

  const std::string body = base32_encode(bytes);
  std::string text(setup_payload::prefix);
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (layout == payload_layout::grouped && i != 0 && i % 4 == 0) text.push_back('-');
    text.push_back(body[i]);
  }
  out = std::move(text);
  return {};
}

error_detail payload_parse_result::to_error_detail() const {
  if (!code) return {};
  error_detail d{code, describe()};
  if (code == payload_errc::bad_prefix || code == payload_errc::bad_character ||
      code == payload_errc::bad_length)
    d.with(field_key::position, std::uint64_t{position});
  return d;
}

} // namespace lanyard::core
