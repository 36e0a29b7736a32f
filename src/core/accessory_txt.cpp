#include <lanyard/core/accessory_txt.hpp>

namespace lanyard::core {

std::error_code set_accessory_txt(const accessory_txt_state& state, txt_record& txt) {
  const bool room = state.controllers < state.max_controllers;
  if (auto ec = txt.set("id", state.device_id)) return ec;
  if (auto ec = txt.set("pv", "1")) return ec;
  const bool offer = state.pairing_window_open && !state.pairing_in_progress && room;
  return txt.set("sf", offer ? "1" : "0");
}

} // namespace lanyard::core
