// Private: the path monitor's engine. One NETLINK_ROUTE socket, the interface table it keeps
// current (initial dump, notifications, re-dumps after an overrun), the debounce timer, and the
// event queues of its consumers: every event goes into every queue at the moment the table
// changes, so a consumer that attaches late and replays the table (attach(q, true)) sees
// exactly the table's state followed by every later change, nothing twice and nothing missed.
//
// path_monitor is an engine with one consumer; shared_path_monitor shares one engine among
// every subscriber of an execution context.
//
// Lifetime: shared_ptr (its pending socket wait and timer hold it). Thread-safety: every
// member locks one mutex, so consumers may call from different threads (strands of one
// io_context); the socket and timer handlers run on the engine's executor.
#pragma once

#include "event_queue.hpp"
#include "interface_table.hpp"
#include "lanyard/link/path_monitor.hpp"

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace lanyard::link::detail {

class monitor_engine : public std::enable_shared_from_this<monitor_engine> {
public:
  using clock = std::chrono::steady_clock;

  monitor_engine(asio::any_io_executor ex, path_monitor_settings settings);

  asio::any_io_executor get_executor() const { return ex_; }

  /// Opens the socket, subscribes and requests the initial dump (see path_monitor::start()).
  link_error start();
  /// Closes the socket; every consumer's stream ends with operation_aborted after what it
  /// has queued. The table stays as it was.
  void stop();
  /// True once the socket failed (every consumer's stream ends with the error).
  bool failed() const;

  /// `q` receives every event from now on (it must be detached before it is destroyed).
  /// With `replay`, first the events that describe the table as it is now: interface_added,
  /// address_added and default_route_added for everything known, then snapshot_complete if
  /// the initial dump is complete; so a late consumer sees what an early one saw.
  void attach(event_queue& q, bool replay);
  void detach(event_queue& q);
  /// A consumer's async_next_event, cancel() and end of stream, under the lock.
  void wait(event_queue& q, std::unique_ptr<path_event_op> op);
  void cancel(event_queue& q, std::uint64_t only = 0);
  void finish(event_queue& q, std::error_code why);

  bool ready() const;
  std::vector<network_interface> interfaces() const;
  std::optional<network_interface> find(std::uint32_t index) const;
  std::optional<network_interface> find(std::string_view name) const;
  bool available(std::uint32_t index) const;
  std::vector<default_route> default_routes() const;

private:
  void push(std::vector<path_event>& events);
  void fail(std::error_code ec);
  void close();
  void queue_dump(interface_table::dump d);
  void start_next_dump();
  void read();
  void on_readable(std::error_code ec);
  void finish_dump(bool interrupted, int error, clock::time_point now,
                   std::vector<path_event>& events);
  void arm_timer();
  void on_timer(clock::time_point deadline, std::error_code ec);

  mutable std::mutex mutex_;
  asio::any_io_executor ex_;
  path_monitor_settings settings_;
  interface_table table_;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer timer_;
  clock::time_point armed_ = clock::time_point::max();
  std::vector<event_queue*> consumers_;
  std::vector<std::byte> rx_ = std::vector<std::byte>(64 * 1024);
  std::deque<interface_table::dump> dumps_; // pending; front is running when dump_seq_ != 0
  std::uint32_t dump_seq_ = 0;
  std::uint32_t next_seq_ = 1;
  bool started_ = false;
  bool stopped_ = false;
  bool initial_ = true;
  std::error_code failure_;
};

} // namespace lanyard::link::detail
