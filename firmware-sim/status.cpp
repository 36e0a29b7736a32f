#include "status.hpp"

#include "events.hpp"

#include <lanyard/core/display_text.hpp>

namespace lanyard::sim {
namespace {

const char* boolean(bool b) {
  return b ? "true" : "false";
}

std::string controllers_json(const std::vector<controller_status>& list) {
  std::string out = "[";
  for (const auto& c : list) {
    if (out.size() > 1) out += ",";
    out += "{\"fingerprint\":" + json_quote(c.fingerprint) +
           ",\"name\":" + json_quote(core::display_text(c.name)) +
           ",\"role\":" + json_quote(c.role) + ",\"connected\":" + boolean(c.connected) + "}";
  }
  return out + "]";
}

// {"key":"value",...}; a boolean attribute (no `=`) is true.
std::string txt_json(const core::txt_record& txt) {
  std::string out = "{";
  for (const core::txt_entry& e : txt) {
    if (out.size() > 1) out += ",";
    out += json_quote(e.key) + ":" + (e.value ? json_quote(*e.value) : std::string("true"));
  }
  return out + "}";
}

} // namespace

std::string to_json(const device_status& s) {
  std::string out =
      "{\"id\":" + json_quote(s.id) + ",\"kind\":" + json_quote(to_string(s.kind)) +
      ",\"name\":" + json_quote(s.name) +
      ",\"mode\":" + json_quote(s.setup_mode ? "setup" : "operational") +
      ",\"address\":" + json_quote(s.address) + ",\"port\":" + std::to_string(s.port) +
      ",\"fingerprint\":" + json_quote(s.fingerprint) +
      ",\"pairing_method\":" + json_quote(to_string(s.pairing)) +
      ",\"payload\":" + (s.payload.empty() ? std::string("null") : json_quote(s.payload)) +
      ",\"setup_code\":" + (s.setup_code ? json_quote(*s.setup_code) : std::string("null")) +
      ",\"pairing_window\":{\"open\":" + boolean(s.window_open) +
      ",\"describe\":" + json_quote(s.window_describe) + "}" +
      ",\"controllers\":" + controllers_json(s.controllers) +
      ",\"sessions\":" + std::to_string(s.sessions) +
      ",\"messages_in\":" + std::to_string(s.messages_in) +
      ",\"messages_out\":" + std::to_string(s.messages_out) +
      ",\"sends_failed\":" + std::to_string(s.sends_failed) +
      ",\"advertised\":" + boolean(s.advertised) + ",\"txt\":" + txt_json(s.txt) +
      ",\"txt_published\":" + std::to_string(s.txt_published) +
      ",\"slow_ms\":" + std::to_string(s.slow_ms);
  if (s.kind == device_kind::lamp)
    out += ",\"lamp\":{\"on\":" + std::string(boolean(s.lamp_on)) +
           ",\"brightness\":" + std::to_string(s.brightness) + "}";
  else
    out += ",\"sensor\":{\"readings\":" + std::to_string(s.readings) + "}";
  return out + "}";
}

} // namespace lanyard::sim
