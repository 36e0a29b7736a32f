#include "lanyard/core/channel_error.hpp"

#include "lanyard/core/error_condition.hpp"

#include <string>
#include <string_view>

namespace lanyard::core {
namespace {

class channel_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.channel"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int ev) const override {
    switch (static_cast<channel_errc>(ev)) {
    case channel_errc::protocol_violation:
      return "the peer sent a frame that is not allowed in the session's current state; the "
             "connection was closed (the session survives and can be resumed)";
    case channel_errc::frame_too_large:
      return "the peer sent a frame larger than the configured maximum frame size; raise "
             "max_message_size on this side or send smaller messages";
    case channel_errc::unknown_frame_type:
      return "the peer sent a frame of a type this version of Lanyard does not know; update "
             "both ends to the same protocol version";
    case channel_errc::bad_version:
      return "the peer speaks a different channel protocol version; update both ends to the "
             "same Lanyard version";
    case channel_errc::frame_truncated:
      return "the peer sent a frame whose body is shorter than its type requires (corrupt or "
             "incompatible peer)";
    case channel_errc::frame_trailing_bytes:
      return "the peer sent a frame with unexpected bytes after its last field (corrupt or "
             "incompatible peer)";
    case channel_errc::invalid_frame_field:
      return "the peer sent a frame with a field value the protocol forbids (reserved bits "
             "set or a missing session id)";
    case channel_errc::sequence_out_of_window:
      return "the peer sent a sequence number outside the acceptable window (a gap, a "
             "duplicate or an acknowledgement of data never sent); the connection was closed "
             "and the session can be resumed";
    case channel_errc::session_not_owned:
      return "the peer tried to resume a session that belongs to another controller; the "
             "connection was refused";
    case channel_errc::peer_dead:
      return "nothing was received from the peer within the keep-alive timeout; the link is "
             "probably down or the peer stopped (the session will resume on reconnect)";
    case channel_errc::handshake_timeout:
      return "the peer did not complete the session handshake in time; check that it runs a "
             "Lanyard channel on this port";
    case channel_errc::closed_by_peer:
      return "the peer closed the connection with an error";
    case channel_errc::not_paired:
      return "the accessory does not know this controller: pair with it first, with its setup "
             "payload or setup code (lanyard pair)";
    case channel_errc::too_many_sessions:
      return "the accessory serves as many controllers at once as it allows; try again when "
             "another one disconnects";
    case channel_errc::buffer_full:
      return "the replay buffer of unacknowledged messages is full; wait until the peer "
             "acknowledges messages or raise max_replay_bytes";
    case channel_errc::message_too_large:
      return "the message is larger than max_message_size; split it or raise the limit on "
             "both ends";
    case channel_errc::session_closed:
      return "the session has been closed and accepts no more messages; open a new one";
    case channel_errc::session_reset:
      return "the peer lost the session (the accessory restarted or the session expired there) "
             "before acknowledging this message; it is listed in the session_reset event, send "
             "it again if it still matters";
    case channel_errc::no_viable_path:
      return "there is no path to try: discovery knows no address of the accessory, or the "
             "interface policy excludes every interface that has one; check both";
    case channel_errc::invalid_state:
      return "this call is not valid in the session's current state (see the session "
             "documentation for the call order)";
    case channel_errc::session_expired:
      return "the controller stayed disconnected longer than the session linger time; its "
             "session and undelivered pushes were dropped";
    case channel_errc::no_session:
      return "the controller has no session on this accessory (not connected since the server "
             "started, or expired); push again once it connects";
    case channel_errc::too_many_waiting_sends:
      return "too many sends are waiting for room in the replay buffer: the peer acknowledges "
             "slower than messages are produced; wait for earlier sends to complete";
    case channel_errc::connection_replaced:
      return "the connection was replaced by a newer connection of the same controller";
    case channel_errc::host_not_resolved:
      return "the endpoint's host name resolved to no address; check the host name";
    case channel_errc::not_discovered:
      return "the discovery directory has no reachable path to the accessory (not discovered "
             "yet, gone, or every path reported unreachable); waiting for it to appear";
    case channel_errc::relay_unavailable:
      return "the relay cannot be used now (no relay ticket from the accessory yet, or the "
             "broker is unreachable); connect once at home to get a ticket";
    }
    return "unknown lanyard.channel error " + std::to_string(ev);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<channel_errc>(code)) {
    case channel_errc::protocol_violation:
      return "protocol_violation";
    case channel_errc::frame_too_large:
      return "frame_too_large";
    case channel_errc::unknown_frame_type:
      return "unknown_frame_type";
    case channel_errc::bad_version:
      return "bad_version";
    case channel_errc::frame_truncated:
      return "frame_truncated";
    case channel_errc::frame_trailing_bytes:
      return "frame_trailing_bytes";
    case channel_errc::invalid_frame_field:
      return "invalid_frame_field";
    case channel_errc::sequence_out_of_window:
      return "sequence_out_of_window";
    case channel_errc::session_not_owned:
      return "session_not_owned";
    case channel_errc::peer_dead:
      return "peer_dead";
    case channel_errc::handshake_timeout:
      return "handshake_timeout";
    case channel_errc::closed_by_peer:
      return "closed_by_peer";
    case channel_errc::not_paired:
      return "not_paired";
    case channel_errc::too_many_sessions:
      return "too_many_sessions";
    case channel_errc::buffer_full:
      return "buffer_full";
    case channel_errc::message_too_large:
      return "message_too_large";
    case channel_errc::session_closed:
      return "session_closed";
    case channel_errc::session_reset:
      return "session_reset";
    case channel_errc::no_viable_path:
      return "no_viable_path";
    case channel_errc::invalid_state:
      return "invalid_state";
    case channel_errc::session_expired:
      return "session_expired";
    case channel_errc::no_session:
      return "no_session";
    case channel_errc::too_many_waiting_sends:
      return "too_many_waiting_sends";
    case channel_errc::connection_replaced:
      return "connection_replaced";
    case channel_errc::host_not_resolved:
      return "host_not_resolved";
    case channel_errc::not_discovered:
      return "not_discovered";
    case channel_errc::relay_unavailable:
      return "relay_unavailable";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<channel_errc>(code)) {
    case channel_errc::protocol_violation:
    case channel_errc::frame_too_large:
    case channel_errc::unknown_frame_type:
    case channel_errc::bad_version:
    case channel_errc::frame_truncated:
    case channel_errc::frame_trailing_bytes:
    case channel_errc::invalid_frame_field:
    case channel_errc::sequence_out_of_window:
    case channel_errc::session_not_owned:
      return {protocol_violation, transient};
    case channel_errc::peer_dead:
    case channel_errc::handshake_timeout:
    case channel_errc::closed_by_peer:
    case channel_errc::buffer_full:
    case channel_errc::session_reset:
    case channel_errc::no_viable_path:
    case channel_errc::session_expired:
    case channel_errc::no_session:
    case channel_errc::too_many_waiting_sends:
    case channel_errc::host_not_resolved:
    case channel_errc::not_discovered:
    case channel_errc::relay_unavailable:
      return {transient};
    case channel_errc::connection_replaced:
      return {cancelled}; // superseded (make-before-break): neither transient nor permanent
    case channel_errc::not_paired:
      return {refused_by_peer, permanent};
    case channel_errc::too_many_sessions:
      return {refused_by_peer, transient};
    case channel_errc::message_too_large:
    case channel_errc::session_closed:
    case channel_errc::invalid_state:
      return {permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& channel_category() noexcept {
  static const channel_category_impl instance;
  return instance;
}

bool is_connection_error(std::error_code ec) noexcept {
  if (ec.category() != channel_category()) return false;
  const int v = ec.value();
  return v >= static_cast<int>(channel_errc::protocol_violation) &&
         v <= static_cast<int>(channel_errc::too_many_sessions);
}

} // namespace lanyard::core
