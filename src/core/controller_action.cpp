#include "lanyard/core/controller_action.hpp"

namespace lanyard::core {

std::string_view to_string(attempt_trigger t) noexcept {
  switch (t) {
  case attempt_trigger::network_changed:
    return "network changed";
  case attempt_trigger::new_path:
    return "new path in the directory";
  case attempt_trigger::new_viable_path:
    return "a new path may work";
  case attempt_trigger::path_failed:
    return "moving to another path";
  case attempt_trigger::move_failed:
    return "the move failed";
  }
  return "?";
}

} // namespace lanyard::core
