#include "lab_wifi.hpp"

#include <algorithm>
#include <cstring>

namespace lamp {
namespace {

template <std::size_t N>
bool copy_text(std::string_view from, std::array<char, N>& to) noexcept {
  if (from.empty() || from.size() >= N) return false;
  std::memcpy(to.data(), from.data(), from.size());
  to[from.size()] = '\0';
  return true;
}

} // namespace

bool lab_wifi::add_network(std::string_view spec) noexcept {
  const std::size_t eq = spec.find('=');
  const std::size_t at = spec.rfind('@');
  if (count_ == networks_.size() || eq == std::string_view::npos || at == std::string_view::npos ||
      at < eq)
    return false;
  network n;
  if (!copy_text(spec.substr(0, eq), n.ssid) ||
      !copy_text(spec.substr(eq + 1, at - eq - 1), n.passphrase) ||
      !copy_text(spec.substr(at + 1), n.interface))
    return false;
  networks_[count_++] = n;
  return true;
}

const lab_wifi::network* lab_wifi::find(std::string_view ssid) const noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    if (ssid == networks_[i].ssid.data()) return &networks_[i];
  return nullptr;
}

void lab_wifi::join(const lanyard::core::wifi_credentials_view& request, time_point now,
                    std::chrono::milliseconds timeout) noexcept {
  joining_ = true;
  target_ = find(request.ssid);
  passphrase_ok_ = target_ && request.passphrase == target_->passphrase.data();
  check_at_ = now + std::chrono::milliseconds(300);
  deadline_ = now + std::max(timeout, std::chrono::milliseconds(300));
}

std::optional<lab_wifi::outcome> lab_wifi::poll(time_point now) noexcept {
  using lanyard::core::provisioning_failure;
  if (!joining_ || now < check_at_) return std::nullopt;
  outcome o;
  if (!target_ || !passphrase_ok_) {
    joining_ = false;
    o.failure =
        target_ ? provisioning_failure::auth_error : provisioning_failure::network_not_found;
    return o;
  }
  o.ssid = target_->ssid.data();
  error_sentence why;
  if (!find_network_interface(target_->interface.data(), o.joined, why) &&
      !o.joined.published().empty()) {
    joining_ = false;
    return o;
  }
  if (now >= deadline_) {
    joining_ = false;
    o.failure = provisioning_failure::timeout;
    return o;
  }
  check_at_ = now + std::chrono::milliseconds(100); // the link is not up yet: look again
  return std::nullopt;
}

lab_wifi::time_point lab_wifi::next_deadline() const noexcept {
  return joining_ ? check_at_ : time_point::max();
}

std::string_view lab_wifi::interface_of(std::string_view ssid) const noexcept {
  const network* n = find(ssid);
  return n ? std::string_view(n->interface.data()) : std::string_view{};
}

} // namespace lamp
