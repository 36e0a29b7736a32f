/// @file
/// What a firmware accessory reports to its firmware (accessory::poll_event()).
#pragma once
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/pairing_frame.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <variant>
#include <vector>

namespace lanyard::firmware {

/// A connection's handle: a slot and its generation, so a handle kept after its connection
/// ended names nothing (firmware_errc::unknown_connection) instead of the next connection.
struct connection_id {
  std::uint32_t value = 0;
  friend bool operator==(connection_id, connection_id) = default;
};

namespace events {
/// An application message from a paired controller, exactly once and in order per session.
/// `payload` is a view of the session's frame buffer (no copy, no allocation): valid until
/// the next call to the accessory other than poll_event(); copy what must outlive that.
/// poll_event() returning it counts as the application taking it: the session acknowledges
/// it and reads the next one at the next handle_deadline().
struct message {
  core::fingerprint controller;
  std::uint64_t seq = 0;
  std::span<const std::byte> payload;
};
/// A controller proved the setup secret or code and is paired now (its name:
/// accessory::controllers().find()).
struct paired {
  core::fingerprint controller;
  core::paired_role role = core::paired_role::user;
  core::pairing_method method = core::pairing_method::setup_secret;
};
/// A pairing exchange failed (a wrong proof, a refusal, an abandoned exchange).
struct pairing_failed {
  core::fingerprint controller;
  std::error_code error;
  std::uint32_t attempts_left = 0;
};
/// The controller's app no longer knew the session: the messages this side sent that it never
/// acknowledged (`unacked` of them) were not delivered.
struct session_reset {
  core::fingerprint controller;
  std::size_t unacked = 0;
};
/// The accessory forgot a controller's session (its linger ran out, it made room for another,
/// or it was closed).
struct session_ended {
  core::fingerprint controller;
  std::error_code why;
};
/// The accessory is done with a connection: write what output(id) still holds (best effort),
/// close the socket, then call closed(id). `why` is empty for a normal end.
struct close_connection {
  connection_id id;
  std::error_code why;
};
} // namespace events

using accessory_event =
    std::variant<events::message, events::paired, events::pairing_failed, events::session_reset,
                 events::session_ended, events::close_connection>;

} // namespace lanyard::firmware
