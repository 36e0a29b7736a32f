// The processes of lanyard-bench failover that run on the lab's hosts (the bench binary run with
// --peer): the two ends of the message stream for each contender, and the delay line that adds
// link delay. Plain blocking sockets for the MPTCP peers: the peers only stream and time, the
// contender under test is the transport (kernel MPTCP) or the channel.
#pragma once

#include "cli/args.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace lanyard::bench {

/// Every message of the stream is 16 bytes: the sequence number and the time the sender's
/// schedule gives it (steady_clock nanoseconds; one message every 2 ms from the first), both
/// little-endian. Sender and receiver are on the same machine, so the receiver knows how long
/// each message took, counting from when it was due: a sender held up by its own transport
/// (a blocking write, a reconnect running on the same thread) is charged for it.
inline constexpr std::size_t failover_message_size = 16;
void encode_failover_message(std::byte (&out)[failover_message_size], std::uint64_t seq,
                             std::chrono::steady_clock::time_point due);

/// What all receivers report about message arrivals, on stdout, one line each, flushed:
///  - "gap MS end NS": every pause over 3 ms between two arrivals (1.5x the 2 ms send
///    interval; NS: steady_clock nanoseconds at the end of the pause);
///  - "late MS sent NS": a message that took MS ms from its due time NS to arrival, more than
///    `late_threshold` (the one-way link delay plus 3 ms); within a run of late messages only
///    a new maximum is printed, so a stalled stream prints one line, not one per message;
///  - "alive NS": a heartbeat every 250 ms of delivery, so the bench knows that delivery goes
///    on (pauses alone say nothing about that).
class arrival_reporter {
public:
  explicit arrival_reporter(std::chrono::nanoseconds late_threshold)
      : late_threshold_(late_threshold) {}
  void arrived(std::span<const std::byte> message);

private:
  std::chrono::nanoseconds late_threshold_;
  std::optional<std::chrono::steady_clock::time_point> last_;
  std::chrono::steady_clock::time_point last_alive_{};
  std::chrono::nanoseconds late_run_max_{0}; // 0: not in a run of late messages
};

/// The receivers' threshold for "late" lines from their --late-ms option (default 3).
std::chrono::nanoseconds late_threshold(const cli::parsed_args& args);

/// Runs peer `role`:
///  - "mptcp-server" (--port P, --late-ms L): accepts one MPTCP connection on P, prints
///    "listening", then reports arrivals (arrival_reporter);
///  - "mptcp-client" (--connect ADDR:PORT, optional --user-timeout-ms T): connects over MPTCP
///    and writes a message every 2 ms, printing "subflows N" whenever the number of additional
///    subflows changes; with --user-timeout-ms it first tries TCP_USER_TIMEOUT on the socket
///    and prints "knob TCP_USER_TIMEOUT ok" or "knob TCP_USER_TIMEOUT refused: REASON";
///  - "lanyard-server", "lanyard-client": below;
///  - "delay-line": below.
/// Returns the process exit status.
int run_failover_peer(const std::string& role, const cli::parsed_args& args);

/// Lanyard's contender (failover_lanyard_peer.cpp): "lanyard-server" (--dir D --port P
/// --late-ms L) and "lanyard-client" (--dir D --port P), with identities and the paired
/// controller prepared in D by prepare_lanyard_peers(). Both use core::session_settings{}
/// unless given --keepalive-ms and --peer-timeout-ms. Same output as the MPTCP peers
/// ("listening", arrivals; the client prints "path IFACE" on every path change).
int lanyard_server(const cli::parsed_args& args);
int lanyard_client(const cli::parsed_args& args);
bool prepare_lanyard_peers(const std::string& dir, std::string& error);

/// The delay line (failover_delay_line.cpp): "delay-line" (--delay-ms D --interfaces A,B).
/// For each interface IF it creates a tap device "dly-IF" and a packet socket on IF; the bench
/// then redirects everything IF sends to the tap (tc clsact egress, u32 match-all, mirred
/// redirect), and the delay line sends each frame out on IF, bypassing the qdisc, D ms after it
/// arrived, in order, at a real-time priority where it may. Prints "ready" once the taps are up;
/// on SIGTERM prints "stats IF forwarded N send_failed F queue_full Q late_us_p50 A late_us_p99
/// B late_us_max C late_over_5ms N sched fifo|other" per interface (late: how long after its due
/// time each frame left; send_failed: IF was down) and exits.
int delay_line(const cli::parsed_args& args);

} // namespace lanyard::bench
