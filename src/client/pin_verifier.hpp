// The client's certificate check, the one place it is written: with a trust store, the store
// decides (pinned key, first use by the channel's trust mode, the setup payload's key) and the
// decision is kept so the pin is committed only once the connection is admitted (after pairing,
// if it must pair); without a store, the accessory must present exactly the expected key.
#pragma once

#include <lanyard/client/client_options.hpp>
#include <lanyard/tls_engine/peer_verifier.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <optional>

namespace lanyard::client::detail {

/// A verifier for one TLS handshake; `decision` receives the store's decision and must outlive
/// the handshake (it lives in the attempt that owns the stream).
tls::peer_verifier pin_verifier(const trust_options& trust,
                                std::optional<trust::trust_decision>& decision);

} // namespace lanyard::client::detail
