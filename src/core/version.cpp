#include "lanyard/version.hpp"

namespace lanyard {

std::string_view version() noexcept {
  return LANYARD_VERSION_STRING;
}

} // namespace lanyard
