// The two ends of lanyard-bench failover's message stream (the bench binary run with --peer on
// a lab host). Plain blocking sockets: the peers only stream and time, the contender under test
// is the transport (kernel MPTCP) or the channel.
#pragma once

#include "cli/args.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace lanyard::bench {

/// What both servers report about message arrivals: "gap MS end NS" for every pause over 3 ms
/// (1.5x the 2 ms send interval; NS: steady_clock nanoseconds at the end of the pause) and a
/// heartbeat "alive NS" every 500 ms of delivery, so the bench knows delivery goes on (pauses
/// alone say nothing about that). Prints to stdout, flushed.
class arrival_reporter {
public:
  void arrived();

private:
  std::optional<std::chrono::steady_clock::time_point> last_;
  std::chrono::steady_clock::time_point last_alive_{};
};

/// Runs peer `role`:
///  - "mptcp-server" (--port P): accepts one MPTCP connection on P, reads 16-byte messages and
///    prints "listening", then "gap MS end NS" (NS: steady_clock nanoseconds at the end of the
///    gap) for every pause longer than 50 ms between two arrivals;
///  - "mptcp-client" (--connect ADDR:PORT): connects over MPTCP and writes a 16-byte message
///    every 2 ms, printing "subflows N" whenever the number of additional subflows changes.
/// Returns the process exit status.
int run_failover_peer(const std::string& role, const cli::parsed_args& args);

/// Lanyard's contender (failover_lanyard_peer.cpp): "lanyard-server" (--dir D --port P) and
/// "lanyard-client" (--dir D --port P), with identities and the paired controller prepared in
/// D by prepare_lanyard_peers(). Same output as the MPTCP peers ("listening", "gap MS end NS";
/// the client prints "path IFACE" on every path change).
int lanyard_server(const cli::parsed_args& args);
int lanyard_client(const cli::parsed_args& args);
bool prepare_lanyard_peers(const std::string& dir, std::string& error);

} // namespace lanyard::bench
