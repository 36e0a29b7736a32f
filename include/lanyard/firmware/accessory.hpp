/// @file
/// The accessory side of Lanyard for firmware: one object that is the whole accessory protocol
/// — TLS with pinned controller keys (tls::engine over memory), pairing (setup secret or
/// setup code), the sessions of several controllers (core::session under core::session_table:
/// resume, take-over, linger, the cap), provisioning — driven from one poll loop, sans-IO:
/// the firmware owns the sockets and the clock.
///
/// No asio, no Avahi, no threads, no exceptions or RTTI (lanyard::firmware builds with
/// -fno-exceptions -fno-rtti and links lanyard::core, lanyard::crypto and lanyard::tls_engine
/// only). Capacities are accessory_settings, reserved at construction, every block through the
/// non-throwing operator new: if one fails the accessory is empty (false) and start() reports
/// firmware_errc::not_enough_memory (start() itself allocates nothing). Later calls allocate
/// per session (its buffers, reserved when it is made: core::session_memory::reserve) and
/// per connection (the TLS engine, a pairing exchange), never per message: messages reach
/// the application as views of their session's frame buffer, one at a time; the
/// platform seam (platform.hpp) provides entropy, storage, the wall clock and the Wi-Fi
/// driver. The mDNS responder (core::mdns_responder) runs beside it on the same loop.
///
/// Driving it (a poll loop, examples/firmware_lamp/):
///
///     accessory acc(ctx, platform, secrets, settings);   // or accessory::create(..., ec)
///     if (auto ec = acc.start(now)) fail(ec);            // not_enough_memory, or loading
///     loop:
///       new TCP connection   -> acc.accept(id, now); remember socket <-> id
///       bytes read           -> acc.receive(id, bytes, now): keep what it did not take,
///                               offer it again when acc.wants_input(id) (back-pressure)
///       EOF / error          -> acc.closed(id, now)
///       timer                -> acc.handle_deadline(now) at acc.next_deadline()
///       after each call      -> write acc.output(id) for every connection (consume_output()
///                               what the socket took), drain acc.poll_event()
///       events::close_connection{id} -> write what output(id) holds, close, acc.closed(id)
///       events::message       -> the application (a view: use or copy it before the next
///                               call other than poll_event()); answer with acc.send()
///
/// Security (docs/SECURITY.md): a controller's key is checked during the TLS handshake — a
/// paired one goes on to its session; an unknown one only while the pairing window admits it,
/// and then only to a pairing exchange (channel traffic first gets CLOSE(not_paired)); a
/// refused one fails the handshake. Failed proofs are persisted before anything reveals them
/// and slow the next evaluation (pairing_throttle). Connections that are not a session's
/// yet are capped (max_pending, oldest closed first), so a flood of bare connections cannot
/// keep a paired controller out. Only an admin may provision.
///
/// Errors: std::error_code (firmware_errc, and the session's channel_errc for send()). Never
/// throws. Thread-safety: one thread (the loop's); distinct objects are independent.
#pragma once
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/session.hpp>
#include <lanyard/firmware/accessory_event.hpp>
#include <lanyard/firmware/accessory_settings.hpp>
#include <lanyard/firmware/controller_table.hpp>
#include <lanyard/firmware/platform.hpp>
#include <lanyard/tls_engine/context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::firmware {

class accessory {
public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// `ctx`: the accessory's identity and TLS configuration (its verifier is replaced per
  /// connection by the accessory's own check). Reserves every table the settings size
  /// (connection and session slots, TLS buffers, controllers, events). Never throws nor
  /// aborts: if an allocation fails, the accessory is empty (operator bool false), holds no
  /// memory, and start() returns not_enough_memory; every other call then does nothing
  /// (not_started, unknown_connection, nothing to report) except controllers().
  accessory(tls::context ctx, platform p, pairing_secrets secrets,
            accessory_settings s = {}) noexcept;
  /// The same, the failure in `ec` (firmware_errc::not_enough_memory): an empty accessory.
  static accessory create(tls::context ctx, platform p, pairing_secrets secrets,
                          accessory_settings s, std::error_code& ec) noexcept;
  ~accessory();
  accessory(const accessory&) = delete;
  accessory& operator=(const accessory&) = delete;
  /// Moves keep every connection handle valid (the state stays where it is); the moved-from
  /// accessory is empty.
  accessory(accessory&&) noexcept;
  accessory& operator=(accessory&&) noexcept;

  /// False if construction could not reserve its tables (or after a move from it).
  explicit operator bool() const noexcept { return impl_ != nullptr; }

  /// Checks the settings and the platform, loads the controllers from storage and, on a first
  /// boot (none paired), opens the pairing window for setup mode. Errors: not_enough_memory
  /// (an empty accessory), bad_settings,
  /// platform_incomplete, storage_failed, storage_corrupt, storage_over_capacity, and
  /// core::pairing_errc::too_many_attempts when setup mode cannot reopen (20 failed proofs:
  /// the accessory still starts; its pairing button reopens the window).
  std::error_code start(time_point now);

  // --- Connections (the driver's sockets). ---
  /// A new TCP connection: its handle in `id`. When every slot is taken the oldest connection
  /// that is not a session's is closed for it (events::close_connection). Errors: not_started,
  /// too_many_connections (close the socket).
  std::error_code accept(connection_id& id, time_point now);
  /// What receive() did: an error, and how many of the bytes it took.
  struct receive_result {
    std::error_code error;
    std::size_t taken = 0;
  };
  /// Bytes read from the connection's socket. It may take fewer than all of them (`taken`):
  /// while a message of this connection's session waits for the application (between the
  /// events::message and the poll_event() after it) the accessory reads no further, so that
  /// a message needs no copy and the controller's window, not the accessory's memory, holds
  /// what follows. Keep the rest, stop reading that socket, and offer the rest again once
  /// wants_input(id) says so (after poll_event() took the message and handle_deadline() ran,
  /// which next_deadline() makes due at once). Errors: unknown_connection (close the socket).
  [[nodiscard]] receive_result receive(connection_id id, std::span<const std::byte> bytes,
                                       time_point now);
  /// True if receive() would take bytes for this connection now (false for unknown handles).
  bool wants_input(connection_id id) const noexcept;
  /// Bytes to write to the connection's socket (empty if none, or unknown).
  std::span<const std::uint8_t> output(connection_id id) const noexcept;
  /// The socket took the first `n` bytes of output(id). With room made, what waited for it
  /// goes on (a session's next frames): write output(id) again.
  void consume_output(connection_id id, std::size_t n, time_point now) noexcept;
  /// The connection's socket is closed (EOF, error, or after events::close_connection). Its
  /// session, if any, lingers for its controller to resume. Unknown handles are ignored.
  void closed(connection_id id, time_point now);
  /// When handle_deadline() must run next (time_point::max() if nothing is scheduled).
  time_point next_deadline() const noexcept;
  void handle_deadline(time_point now);
  /// The next event; drain after every call.
  std::optional<accessory_event> poll_event();

  // --- The application. ---
  /// Sends a message to a controller's session (queued while it has no connection). Errors:
  /// no_session, and the session's (message_too_large, buffer_full, ...).
  core::session::send_result send(const core::fingerprint& controller,
                                  std::span<const std::byte> payload, time_point now);
  /// The Wi-Fi driver joined the network platform::join_wifi named: tells the admin that sent
  /// it, with the accessory's addresses there (1..8 IP literals, read during the call).
  std::error_code wifi_joined(std::span<const std::string_view> addresses, time_point now);
  /// The Wi-Fi driver could not join: the admin is told why; setup mode goes on.
  std::error_code wifi_failed(core::provisioning_failure why, time_point now);
  /// The pairing button: opens the window (window_opener::local, which resets the failure
  /// count: someone is standing at the accessory) for accessory_settings::setup_window.
  /// Errors: not_started, the window's own, storage_failed (the window stays as it was: one a
  /// reboot would forget does not open).
  std::error_code open_pairing_window(time_point now);

  // --- State. ---
  /// Precondition: the accessory is not empty.
  const controller_table& controllers() const noexcept;
  /// True while an unknown controller may pair (for TXT sf and the setup LED).
  bool pairing_window_open() const;
  /// Pairing exchanges under way (PAIR_START read, no result yet): TXT sf drops while one runs
  /// (core::accessory_txt_state::pairing_in_progress), so other apps stop offering to pair.
  std::size_t pairings_in_progress() const noexcept;
  std::size_t session_count() const noexcept;
  /// Connections held (every stage, closing ones included).
  std::size_t connection_count() const noexcept;
  bool connected(const core::fingerprint& controller) const noexcept;
  /// The session with `controller`, if any (read-only: counters, limits, state).
  const core::session* session_of(const core::fingerprint& controller) const noexcept;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace lanyard::firmware
