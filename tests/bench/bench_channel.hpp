// Shared between the parts of `lanyard-bench channel`: the concurrent-idle-channels and
// heap-per-channel measurement (bench_channel_scale.cpp) and its result, used by the report in
// bench_channel.cpp.
#pragma once

#include "cli/json.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lanyard::bench {

struct scale_params {
  std::size_t channels = 200;
  /// Handshakes in progress at once (the accessory does them one at a time anyway; more only
  /// queues them and risks the 10 s handshake timeout).
  std::size_t concurrency = 16;
  double idle_seconds = 10;
};

/// Heap (malloc'd bytes in use, all arenas, from mallinfo2), RSS and CPU of one process.
struct process_sample {
  std::uint64_t heap_bytes = 0;
  std::uint64_t rss_bytes = 0;
  double cpu_seconds = 0; // user + system
};

struct scale_result {
  std::size_t requested = 0;
  std::size_t established = 0;         // app channels that reached ready
  std::size_t accessory_sessions = 0;  // sessions the accessory holds at the end
  std::size_t accessory_connected = 0; // ... with a live connection, after the idle window
  std::size_t app_ready_after_idle = 0;
  std::size_t failed = 0;
  std::size_t waiting_events = 0; // channels that went waiting at least once (retried)
  double identity_seconds = 0;    // generating the controllers' identities
  double store_seconds = 0;       // writing + loading the controller store
  double setup_seconds = 0;       // first start() to the last channel ready
  double idle_seconds = 0;
  process_sample app_before, app_after, app_idle_end;
  process_sample accessory_before, accessory_after, accessory_idle_end;
  double accessory_setup_cpu_seconds = 0;
  std::size_t accessory_log_lines = 0;
  std::vector<std::string> accessory_log_sample;
  std::vector<std::string> app_log_sample;

  double app_heap_per_channel() const;
  double accessory_heap_per_channel() const;
  double accessory_rss_per_channel() const;
  /// CPU use of the accessory process during the idle window, in % of one core.
  double accessory_idle_cpu_percent() const;
  double app_idle_cpu_percent() const;
};

/// Runs the measurement: forks an accessory-server process, generates `channels` controller
/// identities, writes them into its controller store in one go, opens one client_channel per
/// controller from this process, waits until all are ready, samples both processes, keeps
/// them idle for `idle_seconds` and samples again. Returns false with `error` on a setup
/// failure (channels that fail to connect are counted, not an error).
bool run_scale(const scale_params& p, scale_result& r, std::string& error);

/// This process's current sample.
process_sample sample_self();

} // namespace lanyard::bench
