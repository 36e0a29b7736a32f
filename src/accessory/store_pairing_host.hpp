// Private: the accessory server's core::pairing_responder_host over its controller store (the
// persisted window and attempt count), its setup credentials and the server-wide delay after
// failed proofs. One per pairing connection; `known` is set for a paired controller that runs
// the exchange again (an app that lost its pin): it is admitted whatever the window and keeps
// its role.
#pragma once

#include <lanyard/accessory/server_options.hpp>
#include <lanyard/core/pairing_responder.hpp>
#include <lanyard/core/pairing_throttle.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <memory>
#include <optional>

namespace lanyard::accessory::detail {

class store_pairing_host final : public core::pairing_responder_host {
public:
  store_pairing_host(std::shared_ptr<trust::controller_store> store, const pairing_options& opts,
                     core::pairing_throttle& throttle,
                     std::optional<trust::controller_record> known)
      : store_(std::move(store)), opts_(opts), throttle_(throttle), known_(std::move(known)) {}
  ~store_pairing_host() override;
  store_pairing_host(const store_pairing_host&) = delete;
  store_pairing_host& operator=(const store_pairing_host&) = delete;

  std::error_code admit(time_point now) override;
  std::uint32_t attempts_left() override;
  time_point evaluate_not_before() override { return throttle_.not_before(); }
  std::error_code record_failure(time_point now) override;
  std::error_code refund_failure(time_point now) override;
  std::error_code add_controller(const core::fingerprint& fp, std::string_view name,
                                 core::paired_role& role) override;
  std::optional<std::span<const std::uint8_t>> setup_secret() override;
  const core::setup_code_verifier* code_verifier() override;
  bool allows_confirmation() override { return opts_.allow_confirmation && !opts_.credentials; }
  void show_verification_code(std::uint32_t code) override {
    if (opts_.on_verification_code) opts_.on_verification_code(code);
  }

  /// The last store failure's sentence: server::pairing_report::detail (and the log line).
  const std::string& detail() const noexcept { return detail_; }

private:
  std::error_code note(const trust::store_status& s);

  std::shared_ptr<trust::controller_store> store_;
  const pairing_options& opts_;
  core::pairing_throttle& throttle_;
  std::optional<trust::controller_record> known_;
  std::string detail_;
  // A SPAKE2+ attempt counted ahead of its confirmation: what the throttle said before, and
  // whether the refund is still to be written (with the pairing, in one write).
  std::optional<time_point> throttle_before_;
  bool refund_pending_ = false;
};

} // namespace lanyard::accessory::detail
