// Private: the firmware accessory's core::pairing_responder_host over its controller table
// (the window and the failure count, persisted through the platform's storage), its pairing
// secrets and the accessory-wide delay after failed proofs. One per pairing connection;
// `known` is set for a paired controller that runs the exchange again (an app that lost its
// pin): admitted whatever the window, it keeps its role.
#pragma once

#include <lanyard/core/pairing_responder.hpp>
#include <lanyard/firmware/accessory.hpp>

#include <optional>

namespace lanyard::firmware::detail {

class table_pairing_host final : public core::pairing_responder_host {
public:
  table_pairing_host(accessory::impl& acc, bool known) : acc_(&acc), known_(known) {}

  std::error_code admit(time_point now) override;
  std::uint32_t attempts_left() override;
  time_point evaluate_not_before() override;
  std::error_code record_failure(time_point now) override;
  std::error_code refund_failure(time_point now) override;
  std::error_code add_controller(const core::fingerprint& fp, std::string_view name,
                                 core::paired_role& role) override;
  std::optional<std::span<const std::uint8_t>> setup_secret() override;
  const core::setup_code_verifier* code_verifier() override;
  bool allows_confirmation() override;
  void show_verification_code(std::uint32_t code) override;

private:
  accessory::impl* acc_;
  bool known_;
  // A SPAKE2+ attempt counted ahead of its confirmation: what the throttle said before.
  std::optional<time_point> throttle_before_;
};

} // namespace lanyard::firmware::detail
