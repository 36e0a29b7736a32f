#include "pin_verifier.hpp"

#include <lanyard/trust/error.hpp>

namespace lanyard::client::detail {

tls::peer_verifier pin_verifier(const trust_options& trust,
                                std::optional<trust::trust_decision>& decision) {
  return [t = trust, out = &decision](const core::fingerprint& fp,
                                      const tls::peer_cert_info&) -> std::error_code {
    if (!t.store) {
      if (t.expected_fingerprint && *t.expected_fingerprint == fp) return {};
      return trust::trust_errc::payload_mismatch;
    }
    *out = t.store->check(t.device_id, fp, t.mode, t.expected_fingerprint);
    return (*out)->code;
  };
}

} // namespace lanyard::client::detail
