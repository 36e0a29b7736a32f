#include "pin_verifier.hpp"

#include <lanyard/trust/error.hpp>

namespace lanyard::client::detail {

tls::peer_verifier pin_verifier(const trust_options& trust,
                                std::optional<trust::trust_decision>& decision) {
  return [t = trust, out = &decision](const core::fingerprint& fp,
                                      const tls::peer_cert_info& info) -> std::error_code {
    if (!t.store) {
      if (t.expected_fingerprint && *t.expected_fingerprint == fp) return {};
      return trust::trust_errc::payload_mismatch;
    }
    *out = t.store->check(t.device_id, fp, t.mode, t.expected_fingerprint);
    // A new key that only a pairing exchange will prove (code or confirmation, no payload
    // naming the key): the accessory must at least claim the id the app asked for, or the
    // app would pair with whichever accessory answered at that address.
    if ((*out)->action == trust::trust_action::pin_new && !t.expected_fingerprint && t.pairing &&
        info.subject_cn != t.device_id) {
      (*out)->action = trust::trust_action::refuse;
      (*out)->code = trust::trust_errc::payload_mismatch;
    }
    return (*out)->code;
  };
}

} // namespace lanyard::client::detail
