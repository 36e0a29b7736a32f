/// @file
/// The client channel's diagnostic ids and its own field keys (core/diagnostic.hpp explains the
/// hook; docs/diagnostics.md lists every id with its level, code and fields). A program
/// branches on these, never on `text`: the text is the log line of old and may change.
///
/// Every client diagnostic carries field_key::device_id (the channel's device id, as the app
/// gave it). Path fields (field_key::interface, interface_kind, address, port) describe the
/// path the event is about; `interface` is absent for a path through the routing table.
///
/// Thread-safety: constants.
#pragma once

#include "lanyard/core/error_detail.hpp"

#include <string_view>

namespace lanyard::client::diag {

// --- ids ----------------------------------------------------------------------------------------

/// warning · the attempt's error · step; for no_viable_path one rejected-path group
/// per path (rejected_interface, rejected_kind, rejected_address, rejection). An attempt (a race,
/// its pairing or its attach) failed; the channel waits or, on a permanent error, fails.
inline constexpr std::string_view attempt_failed = "channel.attempt_failed";
/// warning · that path's error · path fields; for a refused key also fingerprint_presented,
/// fingerprint_pinned, pinned_since_s, fingerprint_expected (those known). One path of a race
/// failed (TCP, socket, TLS or pin); the race goes on with the others.
inline constexpr std::string_view path_attempt_failed = "channel.path_attempt_failed";
/// warning · the trust decision's code · fingerprint_presented, fingerprint_pinned,
/// fingerprint_expected (those known), pinned_since_s. A race failed because every path
/// presented a key the trust store refused; the verdict of the first refused path.
inline constexpr std::string_view trust_refused = "channel.trust_refused";
/// notice · none · trigger. An attempt starts at once instead of waiting out the backoff.
inline constexpr std::string_view reconnecting_now = "channel.reconnecting_now";
/// warning · the loss's error. The session's connection ended; the channel reconnects.
inline constexpr std::string_view connection_lost = "channel.connection_lost";
/// notice · the loss's error. The old connection ended while a move was under way.
inline constexpr std::string_view lost_while_moving = "channel.lost_while_moving";
/// warning · none · path fields, cause. The active path's interface or address went away.
inline constexpr std::string_view active_path_lost = "channel.active_path_lost";
/// info · none · path fields, awaited, wait_ms. Found over a worse kind than this host has up:
/// waiting for a better answer (path_options::resolution_delay).
inline constexpr std::string_view resolution_wait_started = "channel.resolution_wait_started";
/// info · none · outcome (found: path fields; expired: awaited, delay_ms). The wait ended.
inline constexpr std::string_view resolution_wait_ended = "channel.resolution_wait_ended";
/// info · none · path fields, reason. A make-before-break move starts.
inline constexpr std::string_view move_started = "channel.move_started";
/// warning · the move's error · cause. The move failed; the session stays where it is.
inline constexpr std::string_view move_failed = "channel.move_failed";
/// info · none · path fields, reason, mptcp. The session runs over this path now.
inline constexpr std::string_view path_changed = "channel.path_changed";
/// warning · channel::errc::session_reset · unacked. The accessory lost the session.
inline constexpr std::string_view session_reset = "channel.session_reset";
/// info · none · method. The accessory presented an acceptable key and the pairing exchange
/// starts on this connection (it ends with paired or pairing_failed; pairing::settings bound it).
inline constexpr std::string_view pairing_started = "channel.pairing_started";
/// warning · the pairing error · attempts_left, retry_after_ms (when the accessory said).
inline constexpr std::string_view pairing_failed = "channel.pairing_failed";
/// info · none · role. The pairing exchange on first use succeeded.
inline constexpr std::string_view paired = "channel.paired";
/// error · the store's error · the store's fields. The pin could not be written: the next
/// connection is a first use again. A person must fix the store.
inline constexpr std::string_view pin_not_recorded = "channel.pin_not_recorded";
/// error · std::errc::invalid_argument · problem, trust_device_id. start(device_id, dir) was
/// given bad arguments; the channel fails.
inline constexpr std::string_view start_failed = "channel.start_failed";
/// warning · the link error · its fields. The interfaces are not watched: the channel moves
/// only on connection errors.
inline constexpr std::string_view path_monitor_unavailable = "channel.path_monitor_unavailable";
/// The relay path cannot be used (a ticket that does not decode or cannot be stored, a broker
/// that refuses or cannot be reached; docs/design/relay.md). Warning; the local paths work.
inline constexpr std::string_view relay_unavailable = "channel.relay_unavailable";

// --- field keys of the client (the shared ones are core::field_key) ---------------------------

// attempt_failed uses core::field_key::step for which part failed: "resolve", "race",
// "pairing", "attach", "directory" (not discovered), "policy" (no viable path).

/// reconnecting_now: core::attempt_trigger as its enumerator name: "network_changed",
/// "new_path", "new_viable_path", "path_failed", "move_failed".
inline constexpr std::string_view trigger = "trigger";
/// resolution_wait_ended: "found" or "expired".
inline constexpr std::string_view outcome = "outcome";
/// resolution_wait_*: the kinds waited for, comma-separated interface kind names ("wifi").
inline constexpr std::string_view awaited = "awaited";
/// resolution_wait_started: how long the channel waits at most, in ms.
inline constexpr std::string_view wait_ms = "wait_ms";
/// resolution_wait_ended (expired): the resolution delay, in ms.
inline constexpr std::string_view delay_ms = "delay_ms";
/// path_changed, move_started: core::path_change_reason as its enumerator name
/// ("connected", "path_failed", "preferred_path_available", "lower_rtt").
inline constexpr std::string_view reason = "reason";
/// path_changed: true if the connection runs over MPTCP.
inline constexpr std::string_view mptcp = "mptcp";
/// active_path_lost, move_failed: the phrase saying why ("wlan0 (wifi) is down").
inline constexpr std::string_view cause = "cause";
/// session_reset: how many messages the accessory never acknowledged.
inline constexpr std::string_view unacked = "unacked";
/// paired: "admin" or "user".
inline constexpr std::string_view role = "role";
/// The pairing method: "setup_secret", "setup_code" or "confirmation".
inline constexpr std::string_view method = "method";
/// start_failed: "no_directory", "empty_device_id", "device_id_mismatch", "invalid_policy".
inline constexpr std::string_view problem = core::field_key::problem;
/// start_failed (device_id_mismatch): client_options::trust.device_id.
inline constexpr std::string_view trust_device_id = "trust_device_id";
/// trust_refused: when the pin was made, seconds since the Unix epoch.
inline constexpr std::string_view pinned_since_s = "pinned_since_s";
/// attempt_failed (no_viable_path): one group per rejected path, in the ranking's order.
inline constexpr std::string_view rejected_interface = "rejected_interface";
inline constexpr std::string_view rejected_kind = "rejected_kind";
inline constexpr std::string_view rejected_address = "rejected_address";
/// core::path_rejection_reason as its enumerator name ("prohibited_kind", "not_required_kind",
/// "interface_down", "no_source_address", "unreachable", "link_local_no_scope").
inline constexpr std::string_view rejection = "rejection";

} // namespace lanyard::client::diag
