// libFuzzer target for the provisioning messages: any bytes parsed as an application message
// and decoded as wifi_set / wifi_status never crash, and what decodes re-encodes to a message
// that decodes to the same value. The same message also goes to an accessory's
// provisioning_responder: every wifi_set is answered with a reply that parses, it starts a join
// only with credentials that validate, and refusals change nothing.
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/provisioning_responder.hpp>

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
  // The accessory's decoder into fixed room says the same as the string one.
  wifi_credentials_buffer fixed;
  const std::error_code fixed_ec = decode_wifi_credentials(view_of(r.message), fixed);
  PROV_FUZZ_CHECK(fixed_ec == decode_wifi_credentials(r.message, c));
  if (!fixed_ec) {
    PROV_FUZZ_CHECK(fixed.view().ssid == c.ssid && fixed.view().passphrase == c.passphrase);
    PROV_FUZZ_CHECK(fixed.view().ssid.data()[c.ssid.size()] == '\0');
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
