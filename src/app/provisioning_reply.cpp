#include "provisioning_reply.hpp"

#include <lanyard/core/app_message.hpp>
#include <lanyard/core/display_text.hpp>

#include <string>

namespace lanyard::app::detail {

bool read_provisioning_reply(std::span<const std::byte> payload, provisioning_reply& out) {
  const auto parsed = core::parse_app_message(payload);
  if (!parsed) return false;
  const core::app_message& m = parsed.message;
  if (m.verb == "error") {
    const std::string word(m.get("reason").value_or(""));
    if (word.empty()) return false;
    out.progress = {};
    out.progress.re = m.get_uint("re", 0, UINT64_MAX).value_or(0);
    // The accessory's word stays a field as sent: an app sees what it said, whatever it was.
    out.refusal = word == "not_admin"
                      ? core::error_detail{core::provisioning_errc::not_admin,
                                           "the accessory refused: only its admin (the first app "
                                           "paired with it) may provision it"}
                      : core::error_detail{core::provisioning_errc::credentials_refused,
                                           "the accessory refused the credentials: " +
                                               core::display_text(word)};
    out.refusal.with("refusal", word);
    return true;
  }
  out.refusal = {};
  return !core::decode_provisioning_progress(m, out.progress);
}

} // namespace lanyard::app::detail
