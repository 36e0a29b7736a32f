#include "lanyard/core/pairing_error.hpp"

#include "lanyard/core/error_condition.hpp"

#include <string>
#include <string_view>

namespace lanyard::core {
namespace {

class pairing_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.pairing"; }
#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<pairing_errc>(ev)) {
    case pairing_errc::window_closed:
      return "the accessory's pairing window is closed: press its pairing button (or open the "
             "window from an admin controller) and try again";
    case pairing_errc::too_many_attempts:
      return "too many failed pairing attempts: the pairing window is closed until it is "
             "reopened on the accessory (its pairing button) or by an admin controller";
    case pairing_errc::invalid_timeout:
      return "the pairing window timeout must be between 3 and 15 minutes";
    case pairing_errc::wrong_proof:
      return "wrong setup code or payload: check the accessory's label and try again";
    case pairing_errc::accessory_unverified:
      return "the accessory did not prove that it knows the setup secret: the code was "
             "mistyped, or this is not the accessory on the label";
    case pairing_errc::method_not_supported:
      return "the accessory does not offer this way of pairing: use the one on its label or in "
             "its manual (setup payload, 8-digit setup code, or trust on first use for one "
             "without either)";
    case pairing_errc::controllers_full:
      return "the accessory has as many paired controllers as it holds: remove one from an "
             "admin controller first";
    case pairing_errc::timeout:
      return "the pairing exchange did not finish in time: move closer to the accessory and try "
             "again";
    case pairing_errc::protocol_violation:
      return "the peer broke the pairing protocol (malformed or unexpected pairing frame)";
    case pairing_errc::needs_full_handshake:
      return "pairing needs a full TLS handshake, not a resumed session";
    case pairing_errc::accessory_failure:
      return "the accessory could not record the pairing (its storage failed); nothing was "
             "paired: try again";
    case pairing_errc::not_confirmed:
      return "the verification code was not confirmed; nothing was paired";
    }
    return "unknown pairing error";
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<pairing_errc>(code)) {
    case pairing_errc::window_closed:
      return "window_closed";
    case pairing_errc::too_many_attempts:
      return "too_many_attempts";
    case pairing_errc::invalid_timeout:
      return "invalid_timeout";
    case pairing_errc::wrong_proof:
      return "wrong_proof";
    case pairing_errc::accessory_unverified:
      return "accessory_unverified";
    case pairing_errc::method_not_supported:
      return "method_not_supported";
    case pairing_errc::controllers_full:
      return "controllers_full";
    case pairing_errc::timeout:
      return "timeout";
    case pairing_errc::protocol_violation:
      return "protocol_violation";
    case pairing_errc::needs_full_handshake:
      return "needs_full_handshake";
    case pairing_errc::accessory_failure:
      return "accessory_failure";
    case pairing_errc::not_confirmed:
      return "not_confirmed";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<pairing_errc>(code)) {
    case pairing_errc::window_closed:
    case pairing_errc::too_many_attempts:
    case pairing_errc::method_not_supported:
    case pairing_errc::controllers_full:
      return {refused_by_peer, permanent};
    case pairing_errc::accessory_failure:
      // "Try again": the accessory's storage failed, nothing was paired. Transient, so a channel
      // pairing on first use retries with backoff instead of ending — also when a neighbour
      // posing as the accessory sends it, which as permanent would end the owner's channel.
      return {refused_by_peer, transient};
    case pairing_errc::invalid_timeout:
      return {permanent};
    case pairing_errc::wrong_proof:
    case pairing_errc::accessory_unverified:
      return {authentication_failed, permanent};
    case pairing_errc::timeout:
      return {transient};
    case pairing_errc::protocol_violation:
      return {protocol_violation, permanent};
    case pairing_errc::needs_full_handshake:
      return {refused_by_peer, transient};
    case pairing_errc::not_confirmed:
      return {cancelled, permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& pairing_category() noexcept {
  static const pairing_category_impl category;
  return category;
}

} // namespace lanyard::core
