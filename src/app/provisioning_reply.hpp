// Reads what an accessory's provisioning service sends (core/provisioning.hpp): a progress
// report (wifi_status) or a refusal of the credentials (`error re=SEQ reason=WORD`).
//
// Thread-safety: pure functions.
#pragma once

#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/provisioning.hpp>

#include <cstddef>
#include <span>

namespace lanyard::app::detail {

struct provisioning_reply {
  /// A report; for a refusal only `re` is set.
  core::provisioning_progress progress;
  /// A refusal: provisioning_errc::not_admin or credentials_refused, with the accessory's word
  /// (escaped for the sentence) in the field `refusal`. Empty for a report.
  core::error_detail refusal;
};

/// False if `payload` is neither (another service's message, a malformed one): ignore it.
bool read_provisioning_reply(std::span<const std::byte> payload, provisioning_reply& out);

} // namespace lanyard::app::detail
