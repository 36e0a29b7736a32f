// The app's discovery without Avahi: browse events in, accessories merged by id and their
// changes out, pulled by one taker. An app::accessory_browser feeds it from its
// discovery::browser; an app::controller takes it from its browser (or makes a bare one with
// discovery off: forget() still reports pairing changes) and lets its devices follow the
// directory. Kept apart from Avahi so that tests drive it with made-up browse events.
//
// Changes wait in a queue until taken, at most `bound` (the oldest go first: accessories()
// has the present). A waiting taker's completion is posted, never run inside apply() or push().
//
// Thread-safety: one executor, not thread-safe. Made with std::make_shared (a cancellation
// reaches it through a weak pointer).
#pragma once

#include <lanyard/app/accessory_info.hpp>
#include <lanyard/channel/completion.hpp>
#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::app::detail {

class discovery_feed : public std::enable_shared_from_this<discovery_feed> {
public:
  using directory_handler = std::function<void(std::span<const discovery::directory_event>)>;

  /// `store` may be null (nothing is paired).
  discovery_feed(asio::any_io_executor ex, std::shared_ptr<const trust::trust_store> store,
                 std::size_t bound);
  /// A waiting taker completes with asio::error::operation_aborted.
  ~discovery_feed();
  discovery_feed(const discovery_feed&) = delete;
  discovery_feed& operator=(const discovery_feed&) = delete;

  /// The directory apply() writes; shared with the client channels that read it.
  const std::shared_ptr<discovery::directory>& directory() const noexcept { return directory_; }

  /// Called with the directory's changes of every apply() that changed something, before the
  /// changes are queued (a controller's devices follow the directory with it).
  void on_directory_changes(directory_handler h) { on_changes_ = std::move(h); }

  /// One browse event: into the directory, its changes queued as discovery events (one per
  /// accessory).
  void apply(const discovery::browse_event& e);
  /// Queues `e` (or hands it to a waiting taker).
  void push(discovery_event e);

  /// The next change: at once if one is queued, else when one comes. Errors: in_progress
  /// (another taker waits), operation_aborted (abort(), a per-operation cancellation, the
  /// end of the feed).
  void next(channel::completion<discovery_event> c);
  /// Browsing's status as it is when the feed starts (the daemon answered or not): later
  /// reports that do not change it are not events.
  void set_status(std::error_code ec) noexcept { status_ = ec; }
  /// Browsing stopped (`ec`: the daemon went away) or runs again (empty): queued as a
  /// discovery_status event when it differs from the last one.
  void report_status(std::error_code ec);
  /// A waiting taker completes with operation_aborted, and so does every later one that
  /// finds the queue empty, until resume().
  void abort();
  void resume() noexcept { aborted_ = false; }

  std::vector<accessory_info> accessories() const;
  /// One accessory by id (discovered, paired, or neither: then only `id` is set).
  accessory_info describe(std::string_view id) const;
  std::size_t queued() const noexcept { return events_.size(); }

private:
  asio::any_io_executor executor_;
  std::shared_ptr<const trust::trust_store> store_;
  std::shared_ptr<discovery::directory> directory_ = std::make_shared<discovery::directory>();
  std::size_t bound_;
  directory_handler on_changes_;
  std::deque<discovery_event> events_;
  channel::completion<discovery_event> waiter_;
  std::uint64_t waiter_id_ = 0; // which next() the waiter is (a late cancellation is dropped)
  bool aborted_ = false;
  std::error_code status_; // the last status reported (or set)
};

} // namespace lanyard::app::detail
