// Scripts for core::channel_controller's tests: errors with the classes the channel gives
// them, scripted jitter, snapshots, the actions as text (a failed comparison prints what the
// controller did), and the steps most tests start with.
#pragma once

#include "lanyard/core/channel_controller.hpp"
#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/pairing_error.hpp"

#include "support/tracked_paths.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

namespace lanyard::test {

// The tests name the controller's types unqualified, as its own code does.
using namespace lanyard::core;
using namespace std::chrono_literals;

using lines = std::vector<std::string>;
using time_point = channel_controller::time_point;
namespace act = core::controller_actions;

inline const std::error_code peer_dead = make_error_code(channel_errc::peer_dead);
inline const std::error_code not_paired = make_error_code(channel_errc::not_paired);
inline const std::error_code busy = make_error_code(channel_errc::too_many_sessions);
inline const std::error_code no_viable = make_error_code(channel_errc::no_viable_path);
inline const std::error_code wrong_proof = make_error_code(pairing_errc::wrong_proof);
inline const std::error_code pairing_timeout = make_error_code(pairing_errc::timeout);
inline const std::error_code reset = std::make_error_code(std::errc::connection_reset);
inline const std::error_code network_down = std::make_error_code(std::errc::network_down);
inline const std::error_code aborted = std::make_error_code(std::errc::operation_canceled);
// Stands in for channel::errc::not_discovered (a code above the core).
inline const std::error_code not_discovered = std::make_error_code(std::errc::host_unreachable);

inline const std::string no_path_worked = "no path to the accessory worked";

// Jitter values in turn; the last one repeats.
inline channel_controller_settings jitter(std::vector<std::chrono::nanoseconds> values) {
  channel_controller_settings s;
  auto next = std::make_shared<std::size_t>(0);
  s.random = [values, next] {
    const auto v = values[std::min(*next, values.size() - 1)];
    ++*next;
    return static_cast<std::uint64_t>(v.count());
  };
  return s;
}

// 100 ms of jitter: below the first ceiling (250 ms), so every retry is exactly 100 ms later.
inline channel_controller_settings defaults() {
  return jitter({100ms});
}

// A retry only after an hour: what happens before comes from the inputs alone.
inline channel_controller_settings hourly_retries() {
  channel_controller_settings s = jitter({1h});
  s.backoff = {1h, 1h};
  return s;
}

inline path_snapshot snap(std::vector<tracked_path> paths, kind_set usable = {},
                          std::error_code nothing_known = {}) {
  return {std::move(paths), usable, nothing_known};
}

inline std::string label(const tracked_path& p) {
  return p.facts.interface_name.empty() ? p.facts.address : p.facts.interface_name;
}

inline std::string show(const act::notice& n) {
  switch (n.kind) {
  case notice_kind::reconnect_now:
    return std::string(to_string(n.trigger)) + ", reconnecting now";
  case notice_kind::attempt_failed:
    return n.what + ": " + n.error.message();
  case notice_kind::connection_lost:
    return "connection lost: " + n.error.message();
  case notice_kind::lost_while_moving:
    return "old connection closed while moving: " + n.error.message();
  case notice_kind::active_path_lost:
    return "active path lost: " + n.what;
  case notice_kind::resolution_wait:
    return "found on " + label(*n.path) + " first; waiting up to " +
           std::to_string(n.duration.count()) + " ms for a " + n.kinds.describe() + " path";
  case notice_kind::resolution_found:
    return "found on " + label(*n.path) + " within the resolution delay";
  case notice_kind::resolution_over:
    return "no " + n.kinds.describe() + " path within the resolution delay (" +
           std::to_string(n.duration.count()) + " ms)";
  case notice_kind::moving:
    return "moving to " + label(*n.path) + " (" + std::string(to_string(n.reason)) + ")";
  case notice_kind::move_failed:
    return "move failed, staying: " + n.what;
  }
  return "?";
}

struct action_text {
  std::string operator()(const act::report_state& a) const {
    return "state " + std::string(to_string(a.state)) + (a.reason ? ": " + a.reason.message() : "");
  }
  std::string operator()(const act::race& a) const {
    std::string s = "race " + std::to_string(a.id) + " [";
    for (std::size_t i = 0; i < a.targets.size(); ++i)
      s += (i ? " " : "") + std::to_string(a.targets[i]);
    return s + "] " + std::string(to_string(a.on_success));
  }
  std::string operator()(const act::move& a) const {
    return "move " + std::to_string(a.id) + " to " + std::to_string(a.target) + " (" +
           std::string(to_string(a.reason)) + ")";
  }
  std::string operator()(const act::abort& a) const { return "abort " + std::to_string(a.id); }
  std::string operator()(const act::drop_connection&) const { return "drop connection"; }
  std::string operator()(const act::give_up& a) const { return "give up: " + a.error.message(); }
  std::string operator()(const act::path_changed& a) const {
    return "path " + (a.from ? label(*a.from) : "-") + " -> " + label(a.to) + " (" +
           std::string(to_string(a.reason)) + (a.detail.empty() ? "" : ": " + a.detail) + ")";
  }
  std::string operator()(const act::notice& n) const { return "notice " + show(n); }
};

inline lines drain(channel_controller& c) {
  lines out;
  while (auto a = c.poll_action())
    out.push_back(std::visit(action_text{}, *a));
  return out;
}

inline std::string state(channel_state s, std::error_code why = {}) {
  return action_text{}(act::report_state{s, why});
}
inline std::string notice_reconnect(attempt_trigger why) {
  return "notice " + std::string(to_string(why)) + ", reconnecting now";
}
inline std::string notice_lost(std::error_code why) {
  return "notice connection lost: " + why.message();
}
inline std::string notice_failed(const std::string& what, std::error_code why) {
  return "notice " + what + ": " + why.message();
}

// The lab phone's usable links: Wi-Fi and p2p.
inline const kind_set phone_links{interface_kind::wifi, interface_kind::p2p};

// Started at t0 with the accessory found on p2p only, on a host that has a Wi-Fi link.
inline void found_on_p2p_first(channel_controller& c) {
  c.paths_changed(snap({p2p()}, phone_links), paths_trigger::new_path, t0);
  c.start(t0);
  c.handle_deadline(t0);
}

// Started at `at` on `paths`: race 1 runs.
inline void start_racing(channel_controller& c, std::vector<tracked_path> paths,
                         time_point at = t0) {
  c.paths_changed(snap(std::move(paths)), paths_trigger::refresh, at);
  c.start(at);
  c.handle_deadline(at);
}

// Started at `at` on `paths`; race 1 won over `target`, attached and established at `at`.
inline void ready_on(channel_controller& c, std::vector<tracked_path> paths, std::size_t target,
                     time_point at) {
  start_racing(c, std::move(paths), at);
  c.race_won(1, target, at);
  c.attached(1, at);
  c.established(at);
  drain(c);
  REQUIRE(c.state() == channel_state::ready);
}

// A move (id 2) from p2p0 back to wlan0 is in flight: on p2p since t0, Wi-Fi viable from
// t0 + 10 s, moved at t0 + 15 s.
inline void moving_back_to_wifi(channel_controller& c) {
  ready_on(c, {p2p()}, 0, t0);
  c.paths_changed(snap({p2p(), wifi()}), paths_trigger::interfaces, t0 + 10s);
  c.handle_deadline(t0 + 15s);
  REQUIRE(drain(c) == lines{"notice moving to wlan0 (preferred path available)",
                            "move 2 to 1 (preferred path available)"});
}

} // namespace lanyard::test
