// libFuzzer target for the provisioning messages: any bytes parsed as an application message
// and decoded as wifi_set / wifi_status never crash, and what decodes re-encodes to a message
// that decodes to the same value. The same message also goes to an accessory's
// provisioning_responder: every wifi_set is answered with a reply that parses, it starts a join
// only with credentials that validate, and refusals change nothing.
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/provisioning_responder.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace lanyard::core;

#define PROV_FUZZ_CHECK(cond)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

// A reference for the decoders, written apart from them: lowercase hex pairs into bytes.
std::optional<std::string> reference_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    for (const char c : hex.substr(i, 2)) {
      if (c >= '0' && c <= '9')
        v = v * 16 + static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v = v * 16 + static_cast<unsigned>(c - 'a' + 10);
      else
        return std::nullopt;
    }
    out += static_cast<char>(v);
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const app_message_parse_result r =
      parse_app_message(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r) return 0;
  wifi_credentials c;
  if (!decode_wifi_credentials(r.message, c)) {
    std::string text;
    PROV_FUZZ_CHECK(!encode_wifi_credentials(c, text));
    wifi_credentials again;
    PROV_FUZZ_CHECK(!decode_wifi_credentials(parse_app_message(text).message, again));
    PROV_FUZZ_CHECK(again == c);
  }
  // The decoder (the fixed-room one; the string form copies from it) against the reference:
  // what it accepts is the hex of its fields, with the bounds the header states, each
  // followed by a NUL.
  wifi_credentials_buffer fixed;
  if (!decode_wifi_credentials(view_of(r.message), fixed)) {
    const wifi_credentials_view v = fixed.view();
    const auto ssid = reference_hex(r.message.get("ssid_hex").value_or("?"));
    const auto pass = reference_hex(r.message.get("passphrase_hex").value_or("?"));
    PROV_FUZZ_CHECK(ssid && pass && v.ssid == *ssid && v.passphrase == *pass);
    PROV_FUZZ_CHECK(!v.ssid.empty() && v.ssid.size() <= 32 && v.passphrase.size() <= 64);
    PROV_FUZZ_CHECK(v.ssid.data()[v.ssid.size()] == '\0');
    PROV_FUZZ_CHECK(v.passphrase.data()[v.passphrase.size()] == '\0');
  } else if (r.message.verb == "wifi_set" && r.message.fields.size() == 2) {
    // Refused with both fields there and nothing else: the reference must see a fault too.
    const auto ssid = reference_hex(r.message.get("ssid_hex").value_or("?"));
    const auto pass = reference_hex(r.message.get("passphrase_hex").value_or("?"));
    const bool psk =
        pass && pass->size() == 64 && std::all_of(pass->begin(), pass->end(), [](char ch) {
          return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
        });
    PROV_FUZZ_CHECK(!ssid || !pass || ssid->empty() || ssid->size() > 32 ||
                    !(pass->empty() || (pass->size() >= 8 && pass->size() <= 63) || psk));
  }
  provisioning_progress p;
  if (!decode_provisioning_progress(r.message, p)) {
    std::string text;
    PROV_FUZZ_CHECK(!encode_provisioning_progress(p, text));
    provisioning_progress again;
    PROV_FUZZ_CHECK(!decode_provisioning_progress(parse_app_message(text).message, again));
    PROV_FUZZ_CHECK(again == p);
  }
  using sender = provisioning_responder::sender;
  for (const auto [setup_mode, from] :
       {std::pair{true, sender::admin}, std::pair{false, sender::admin},
        std::pair{true, sender::user}}) {
    provisioning_responder responder(setup_mode);
    const auto before = responder.current();
    provisioning_responder::outcome o;
    const std::error_code ec = responder.on_message(r.message, 7, from, o);
    if (ec) {
      PROV_FUZZ_CHECK(ec == provisioning_errc::not_provisioning);
      PROV_FUZZ_CHECK(responder.current() == before);
      continue;
    }
    PROV_FUZZ_CHECK(static_cast<bool>(parse_app_message(o.reply)));
    if (o.join) {
      PROV_FUZZ_CHECK(setup_mode && from == sender::admin);
      PROV_FUZZ_CHECK(!validate({std::string(o.join->ssid), std::string(o.join->passphrase)}));
      PROV_FUZZ_CHECK(responder.current() == provisioning_responder::phase::joining);
      std::string_view report;
      PROV_FUZZ_CHECK(!responder.failed(provisioning_failure::timeout, report));
      PROV_FUZZ_CHECK(static_cast<bool>(parse_app_message(report)));
    } else {
      PROV_FUZZ_CHECK(responder.current() == before);
    }
  }
  return 0;
}
