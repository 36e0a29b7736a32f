#include <lanyard/core/accessory_txt.hpp>

namespace lanyard::core {

bool accessory_txt_offers_pairing(const accessory_txt_state& state) noexcept {
  const bool room = state.controllers < state.max_controllers;
  return state.pairing_window_open && !state.pairing_in_progress && room;
}

std::error_code set_accessory_txt(const accessory_txt_state& state, txt_record& txt) {
  if (auto ec = txt.set("id", state.device_id)) return ec;
  if (auto ec = txt.set("pv", "1")) return ec;
  return txt.set("sf", accessory_txt_offers_pairing(state) ? "1" : "0");
}

std::size_t encode_accessory_txt(const accessory_txt_state& state,
                                 std::span<std::uint8_t> out) noexcept {
  const std::string_view id = state.device_id;
  if (3 + id.size() > txt_max_string_size) return 0;
  const std::size_t size = (1 + 3 + id.size()) + 5 + 5;
  if (out.size() < size) return 0;
  std::size_t at = 0;
  const auto put = [&](std::string_view s) {
    for (const char c : s)
      out[at++] = static_cast<std::uint8_t>(c);
  };
  out[at++] = static_cast<std::uint8_t>(3 + id.size());
  put("id=");
  put(id);
  out[at++] = 4;
  put("pv=1");
  out[at++] = 4;
  put(accessory_txt_offers_pairing(state) ? "sf=1" : "sf=0");
  return at;
}

} // namespace lanyard::core
