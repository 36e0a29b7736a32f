#include "lanyard/trust/error.hpp"

#include "lanyard/core/error_condition.hpp"

namespace lanyard::trust {
namespace {

class trust_category_impl final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.trust"; }
  std::string message(int ev) const override {
    switch (static_cast<trust_errc>(ev)) {
    case trust_errc::key_changed:
      return "the device presented a different key than the one pinned for it (possible "
             "impostor); if it was reset or replaced, forget it and pair again";
    case trust_errc::unknown_device:
      return "the device is not in the trust store: pair with it first";
    case trust_errc::payload_mismatch:
      return "the device's key does not match its setup payload (possible impostor, or the "
             "payload belongs to another device)";
    case trust_errc::payload_required:
      return "verified pairing needs the device's setup payload (or use trust-on-first-use)";
    case trust_errc::store_corrupt:
      return "the trust state file is damaged; it was left untouched: repair or remove it";
    case trust_errc::store_unsupported_version:
      return "the trust state file was written by a newer Lanyard: upgrade";
    case trust_errc::store_io:
      return "the trust state file could not be read or written";
    case trust_errc::store_permissions:
      return "the trust state file is writable by other users or not owned by this user: "
             "fix its permissions (chmod 600)";
    case trust_errc::invalid_record:
      return "invalid trust record: the device id must be 1-64 characters [A-Za-z0-9._:-] "
             "and the name at most 256 bytes";
    case trust_errc::not_paired:
      return "the controller is not paired with this accessory and no pairing window is open";
    case trust_errc::not_admin:
      return "this operation needs an admin controller";
    case trust_errc::last_admin:
      return "refusing to remove the accessory's last admin controller";
    case trust_errc::request_not_supported:
      return "the accessory does not offer this request (another product, or an older "
             "version)";
    case trust_errc::request_refused:
      return "the accessory refused the request for a reason this version does not know";
    }
    return "unknown trust error";
  }

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<trust_errc>(code)) {
    case trust_errc::key_changed:
      return "key_changed";
    case trust_errc::unknown_device:
      return "unknown_device";
    case trust_errc::payload_mismatch:
      return "payload_mismatch";
    case trust_errc::payload_required:
      return "payload_required";
    case trust_errc::store_corrupt:
      return "store_corrupt";
    case trust_errc::store_unsupported_version:
      return "store_unsupported_version";
    case trust_errc::store_io:
      return "store_io";
    case trust_errc::store_permissions:
      return "store_permissions";
    case trust_errc::invalid_record:
      return "invalid_record";
    case trust_errc::not_paired:
      return "not_paired";
    case trust_errc::not_admin:
      return "not_admin";
    case trust_errc::last_admin:
      return "last_admin";
    case trust_errc::request_not_supported:
      return "request_not_supported";
    case trust_errc::request_refused:
      return "request_refused";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<trust_errc>(code)) {
    case trust_errc::key_changed:
    case trust_errc::payload_mismatch:
    case trust_errc::not_paired:
      return {authentication_failed, permanent};
    case trust_errc::unknown_device:
    case trust_errc::payload_required:
    case trust_errc::store_permissions:
    case trust_errc::not_admin:
    case trust_errc::last_admin:
      return {policy, permanent};
    case trust_errc::store_corrupt:
    case trust_errc::store_unsupported_version:
    case trust_errc::store_io:
    case trust_errc::invalid_record:
      return {permanent};
    case trust_errc::request_not_supported:
    case trust_errc::request_refused:
      return {refused_by_peer, permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& trust_category() noexcept {
  static const trust_category_impl category;
  return category;
}

} // namespace lanyard::trust
