#include "lanyard/trust/controller_store.hpp"

#include "atomic_file.hpp"
#include "slot_file.hpp"
#include "state_file.hpp"

#include <algorithm>
#include <cstdint>

namespace lanyard::trust {
namespace {

constexpr std::string_view magic = "lanyard-controller-store";

using core::window_close_reason;

std::string_view reason_name(window_close_reason r) noexcept {
  switch (r) {
  case window_close_reason::never_opened:
    return "never-opened";
  case window_close_reason::timed_out:
    return "timed-out";
  case window_close_reason::too_many_attempts:
    return "too-many-attempts";
  case window_close_reason::closed:
    return "closed";
  }
  return "closed";
}

bool parse_reason(std::string_view s, window_close_reason& out) {
  for (auto r : {window_close_reason::never_opened, window_close_reason::timed_out,
                 window_close_reason::too_many_attempts, window_close_reason::closed})
    if (s == reason_name(r)) {
      out = r;
      return true;
    }
  return false;
}

bool parse_hex_fingerprint(std::string_view text, core::fingerprint& out) {
  if (text.size() != 2 * core::fingerprint::size) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  const auto r = core::parse_fingerprint(text);
  if (!r) return false;
  out = r.value;
  return true;
}

std::chrono::system_clock::time_point floor_s(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

// window-boot's times: signed milliseconds since the boot, 13 digits at most (317 years: the
// file's times span 1970-2200), so that all arithmetic on them fits in 64 bits.
constexpr std::int64_t boot_ms_limit = 9'999'999'999'999;

bool parse_boot_ms(std::string_view s, std::int64_t& out) {
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty() || s.size() > 13 || (s.size() > 1 && s[0] == '0')) return false;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (negative && v == 0) return false; // one spelling per value: "-0" is never written
  out = negative ? -v : v;
  return true;
}

bool valid_boot_id(std::string_view s) {
  if (s.size() != 36) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  return true;
}

std::int64_t ms_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A window time as milliseconds since `at`'s boot, through the two clocks read together.
std::int64_t to_boot_ms(std::chrono::system_clock::time_point t, const window_time& at) {
  const std::int64_t v = at.boot.since_boot.count() - (ms_since_epoch(at.now) - ms_since_epoch(t));
  return std::clamp(v, -boot_ms_limit, boot_ms_limit);
}

// t + shift, kept within the file's time range (1970-2200) without overflowing on the way.
std::chrono::system_clock::time_point shifted(std::chrono::system_clock::time_point t,
                                              std::chrono::seconds shift) {
  using namespace std::chrono;
  const auto lowest = detail::clamp_time(system_clock::time_point::min());
  const auto highest = detail::clamp_time(system_clock::time_point::max());
  t = detail::clamp_time(t);
  // Both distances fit: the range is 231 years, a 64-bit count of nanoseconds 292.
  if (shift >= highest - t) return highest;
  if (shift <= lowest - t) return lowest;
  return t + shift;
}

store_status invalid_name(std::size_t size) {
  return {make_error_code(trust_errc::invalid_record),
          "controller name is " + std::to_string(size) + " bytes; at most " +
              std::to_string(controller_store::max_name_length)};
}

} // namespace

std::string_view to_string(controller_role r) noexcept {
  return r == controller_role::admin ? "admin" : "user";
}

std::string controller_decision::describe() const {
  const std::string who = "controller " + core::to_string(presented);
  switch (action) {
  case controller_action::accept:
    return who + " is paired (" + std::string(to_string(controller->role)) + ")";
  case controller_action::pair:
    return who + " is not paired; the pairing window is open, so it may pair";
  case controller_action::refuse:
    break;
  }
  return who + " refused: " + code.message();
}

controller_store::controller_store(std::filesystem::path path, std::size_t max_controllers)
    : path_(std::move(path)), max_controllers_(max_controllers == 0 ? 1 : max_controllers) {}

void controller_store::set_time_source(std::function<window_time()> source) {
  std::lock_guard guard(mutex_);
  time_source_ = source ? std::move(source) : &window_time::sample;
}

store_status controller_store::parse(std::string_view text, std::string_view file,
                                     core::pairing_window_state& window,
                                     std::vector<controller_record>& controllers,
                                     const window_time* at) {
  controllers.clear();
  window = {};
  bool have_window = false;
  bool have_boot = false;
  std::string_view boot_id;
  std::int64_t opened_ms = 0, deadline_ms = 0;
  std::map<core::fingerprint, std::size_t> seen;
  store_status s = detail::parse_state_file(
      text, file, magic,
      [&](std::size_t line, const std::vector<std::string_view>& f) -> store_status {
        if (f[0] == "window") {
          if (have_window)
            return detail::corrupt(file, line, "duplicate_window", "a second \"window\" line");
          if (f.size() != 6)
            return detail::corrupt(file, line, "field_count",
                                   "expected 6 fields (window open|closed OPENED-AT DEADLINE "
                                   "FAILED-ATTEMPTS REASON), found " +
                                       std::to_string(f.size()));
          if (f[1] == "open")
            window.open = true;
          else if (f[1] != "closed")
            return detail::corrupt(file, line, "invalid_window_state",
                                   "invalid window state " + detail::excerpt(f[1]) +
                                       " (expected \"open\" or \"closed\")");
          if (!detail::parse_time(f[2], window.opened_at))
            return detail::corrupt(file, line, "invalid_opened_at",
                                   "invalid opened-at time " + detail::excerpt(f[2]));
          if (!detail::parse_time(f[3], window.deadline))
            return detail::corrupt(file, line, "invalid_deadline",
                                   "invalid deadline " + detail::excerpt(f[3]));
          unsigned long v = 0;
          bool ok = !f[4].empty() && f[4].size() <= 3 && (f[4].size() == 1 || f[4][0] != '0');
          for (char c : f[4])
            ok =
                ok && c >= '0' && c <= '9' && ((v = v * 10 + static_cast<unsigned>(c - '0')), true);
          if (!ok || v > core::pairing_window::max_failed_attempts)
            return detail::corrupt(file, line, "invalid_failed_attempts",
                                   "invalid failed-attempt count " + detail::excerpt(f[4]) +
                                       " (expected 0-20)");
          window.failed_attempts = static_cast<std::uint32_t>(v);
          if (!parse_reason(f[5], window.close_reason))
            return detail::corrupt(file, line, "invalid_close_reason",
                                   "invalid close reason " + detail::excerpt(f[5]));
          have_window = true;
          return {};
        }
        if (f[0] == "window-boot") {
          if (!have_window)
            return detail::corrupt(file, line, "window_boot_before_window",
                                   "\"window-boot\" before the \"window\" line");
          if (have_boot)
            return detail::corrupt(file, line, "duplicate_window_boot",
                                   "a second \"window-boot\" line");
          if (f.size() != 4)
            return detail::corrupt(file, line, "field_count",
                                   "expected 4 fields (window-boot BOOT-ID OPENED-AT-MS "
                                   "DEADLINE-MS), found " +
                                       std::to_string(f.size()));
          if (!valid_boot_id(f[1]))
            return detail::corrupt(file, line, "invalid_boot_id",
                                   "invalid boot id " + detail::excerpt(f[1]));
          if (!parse_boot_ms(f[2], opened_ms) || !parse_boot_ms(f[3], deadline_ms))
            return detail::corrupt(file, line, "invalid_boot_times",
                                   "invalid boot-clock times " + detail::excerpt(f[2]) + " " +
                                       detail::excerpt(f[3]) + " (expected signed milliseconds)");
          boot_id = f[1];
          have_boot = true;
          return {};
        }
        if (f[0] != "controller")
          return detail::corrupt(file, line, "unknown_record",
                                 "unknown record " + detail::excerpt(f[0]) +
                                     " (expected \"window\", \"window-boot\" or \"controller\")");
        if (!have_window)
          return detail::corrupt(file, line, "controller_before_window",
                                 "a controller before the \"window\" line");
        if (f.size() != 5)
          return detail::corrupt(file, line, "field_count",
                                 "expected 5 fields (controller FINGERPRINT ROLE PAIRED-AT "
                                 "NAME), found " +
                                     std::to_string(f.size()));
        controller_record r;
        if (!parse_hex_fingerprint(f[1], r.fingerprint))
          return detail::corrupt(file, line, "invalid_fingerprint",
                                 "invalid fingerprint " + detail::excerpt(f[1]) +
                                     " (expected 64 lowercase hex digits)");
        if (auto it = seen.find(r.fingerprint); it != seen.end())
          return detail::corrupt(file, line, "duplicate_controller",
                                 "controller paired twice (first on line " +
                                     std::to_string(it->second) + ")");
        seen.emplace(r.fingerprint, line);
        if (f[2] == "admin")
          r.role = controller_role::admin;
        else if (f[2] == "user")
          r.role = controller_role::user;
        else
          return detail::corrupt(file, line, "invalid_role",
                                 "invalid role " + detail::excerpt(f[2]) +
                                     " (expected \"admin\" or \"user\")");
        if (!detail::parse_time(f[3], r.paired_at))
          return detail::corrupt(file, line, "invalid_paired_at",
                                 "invalid paired-at time " + detail::excerpt(f[3]));
        if (!detail::decode_text(f[4], r.name) || r.name.size() > max_name_length)
          return detail::corrupt(file, line, "invalid_name",
                                 "invalid name " + detail::excerpt(f[4]));
        controllers.push_back(std::move(r));
        return {};
      });
  if (s.failed()) return s;
  if (!have_window)
    return detail::corrupt(file, 2, "missing_window", "missing the \"window\" line");
  // Written in this boot: its monotonic clock says how old the window is, whatever the wall
  // clock did between two runs of the accessory.
  // The correction is how far this process's window clock is from the writer's, in whole
  // seconds like the wall-clock fields: reading the two clocks is never exactly simultaneous,
  // and that noise (microseconds) must not move a window by a hair either way.
  if (have_boot && at != nullptr && !at->boot.boot_id.empty() && at->boot.boot_id == boot_id) {
    (void)opened_ms; // both times move by the same correction: the window keeps its length
    const std::int64_t since =
        std::clamp<std::int64_t>(at->boot.since_boot.count(), 0, boot_ms_limit);
    const std::int64_t deadline_here = ms_since_epoch(at->now) - since + deadline_ms;
    const auto shift = std::chrono::round<std::chrono::seconds>(
        std::chrono::milliseconds(deadline_here - ms_since_epoch(window.deadline)));
    window.opened_at = shifted(window.opened_at, shift);
    window.deadline = shifted(window.deadline, shift);
  }
  return {};
}

std::string controller_store::serialize(const core::pairing_window_state& window,
                                        const std::vector<controller_record>& controllers,
                                        const window_time* at) {
  std::string text = std::string(magic) + " 1\n";
  text += "window " + std::string(window.open ? "open" : "closed") + " " +
          detail::format_time(window.opened_at) + " " + detail::format_time(window.deadline) + " " +
          std::to_string(window.failed_attempts) + " " +
          std::string(reason_name(window.close_reason)) + "\n";
  // Only an open window's times matter: a closed one stays closed whatever the clocks say.
  const bool boot = at != nullptr && window.open && valid_boot_id(at->boot.boot_id);
  if (boot)
    text += "window-boot " + at->boot.boot_id + " " +
            std::to_string(to_boot_ms(window.opened_at, *at)) + " " +
            std::to_string(to_boot_ms(window.deadline, *at)) + "\n";
  std::map<core::fingerprint, const controller_record*> sorted;
  for (const auto& c : controllers)
    sorted.emplace(c.fingerprint, &c);
  for (const auto& [fp, c] : sorted)
    text += "controller " + core::to_string(fp, core::fingerprint_format::hex) + " " +
            std::string(to_string(c->role)) + " " + detail::format_time(c->paired_at) + " " +
            detail::encode_text(c->name) + "\n";
  detail::finish_state_file(text, 1 + (boot ? 1 : 0) + sorted.size());
  return text;
}

store_status controller_store::read_locked(state& out, detail::slot_file_state* file) const {
  std::string text;
  bool exists = false;
  detail::slot_file_state unused;
  if (store_status s = detail::read_slot_file(path_, text, exists, file ? *file : unused);
      s.failed())
    return s;
  out = state{};
  out.existed = exists;
  if (!exists) return {};
  std::vector<controller_record> list;
  const window_time at = time_source_();
  if (store_status s = parse(text, path_.string(), out.window, list, &at); s.failed()) return s;
  for (auto& c : list)
    out.controllers.emplace(c.fingerprint, std::move(c));
  return {};
}

store_status controller_store::load() {
  std::lock_guard guard(mutex_);
  state fresh;
  if (store_status s = read_locked(fresh); s.failed()) return s;
  state_ = std::move(fresh);
  return {};
}

template <class Change>
store_status controller_store::modify(Change change) {
  std::lock_guard guard(mutex_);
  detail::file_lock lock;
  if (store_status s = detail::file_lock::acquire(path_, lock); s.failed()) return s;
  state current;
  detail::slot_file_state file;
  if (store_status s = read_locked(current, &file); s.failed()) return s;
  // first_boot() keeps describing the last load(), not whether anything was written since.
  current.existed = state_.existed;
  bool changed = true;
  if (store_status s = change(current, changed); s.failed() || !changed) {
    state_ = std::move(current);
    return s;
  }
  current.window.opened_at = floor_s(current.window.opened_at);
  current.window.deadline = floor_s(current.window.deadline);
  std::vector<controller_record> list;
  for (const auto& [fp, c] : current.controllers)
    list.push_back(c);
  const window_time at = time_source_();
  // Written in place (one fdatasync): the accessory persists a pairing or a failed attempt
  // before it answers, so this write is on the paired app's clock (trust/slot_file.hpp).
  if (store_status s = detail::write_slot_file(path_, file, serialize(current.window, list, &at));
      s.failed())
    return s;
  state_ = std::move(current);
  return {};
}

bool controller_store::first_boot() const {
  std::lock_guard guard(mutex_);
  return !state_.existed;
}

std::vector<controller_record> controller_store::list() const {
  std::lock_guard guard(mutex_);
  std::vector<controller_record> out;
  for (const auto& [fp, c] : state_.controllers)
    out.push_back(c);
  return out;
}

std::optional<controller_record> controller_store::find(const core::fingerprint& fp) const {
  std::lock_guard guard(mutex_);
  auto it = state_.controllers.find(fp);
  if (it == state_.controllers.end()) return std::nullopt;
  return it->second;
}

core::pairing_window_state controller_store::window() const {
  std::lock_guard guard(mutex_);
  return state_.window;
}

controller_decision controller_store::check(const core::fingerprint& fp, time_point now) const {
  std::lock_guard guard(mutex_);
  controller_decision d;
  d.presented = fp;
  if (auto it = state_.controllers.find(fp); it != state_.controllers.end()) {
    d.action = controller_action::accept;
    d.controller = it->second;
    return d;
  }
  const std::error_code admit = core::pairing_window(state_.window).admit(now);
  if (!admit) {
    d.action = controller_action::pair;
    return d;
  }
  // Closed window: to this controller, "not paired" is the whole story. Too many attempts is
  // the window's own code: nobody may pair until it is reopened.
  d.code = admit == core::pairing_errc::too_many_attempts ? admit
                                                          : make_error_code(trust_errc::not_paired);
  return d;
}

store_status controller_store::pair_into(state& st, const core::fingerprint& fp,
                                         std::string_view name, controller_role role,
                                         time_point now) const {
  if (std::error_code ec = core::pairing_window(st.window).admit(now))
    return store_status{ec, "cannot pair controller " + core::to_string(fp) + ": " +
                                core::pairing_window(st.window).describe(now)}
        .with(core::field_key::controller, core::to_string(fp));
  const bool known = st.controllers.count(fp) != 0;
  if (!known && st.controllers.size() >= max_controllers_)
    return store_status{make_error_code(core::pairing_errc::controllers_full),
                        "cannot pair controller " + core::to_string(fp) + ": " +
                            std::to_string(max_controllers_) + " controllers are paired already"}
        .with(core::field_key::controller, core::to_string(fp));
  controller_role effective = role;
  bool has_admin = false;
  for (const auto& [k, c] : st.controllers)
    has_admin = has_admin || (c.role == controller_role::admin && k != fp);
  if (!has_admin) effective = controller_role::admin; // never leave the accessory adminless
  // Re-pairing (an app that lost its pin proves the secret again) never demotes an admin.
  if (known && st.controllers[fp].role == controller_role::admin)
    effective = controller_role::admin;
  controller_record& r = st.controllers[fp];
  if (r.paired_at == time_point{}) r.paired_at = floor_s(now);
  r.fingerprint = fp;
  r.name = std::string(name);
  r.role = effective;
  return {};
}

store_status controller_store::pair(const core::fingerprint& fp, std::string_view name,
                                    controller_role role, time_point now) {
  if (name.size() > max_name_length) return invalid_name(name.size());
  return modify([&](state& st, bool&) -> store_status {
    state trial = st;
    if (store_status p = pair_into(trial, fp, name, role, now); p.failed()) return p;
    st = std::move(trial);
    return {};
  });
}

store_status controller_store::refund_and_pair(const core::fingerprint& fp, std::string_view name,
                                               controller_role role, time_point now) {
  if (name.size() > max_name_length) return invalid_name(name.size());
  store_status s = modify([&](state& st, bool&) -> store_status {
    state trial = st;
    core::pairing_window w(trial.window);
    w.refund_failure(now);
    trial.window = w.state();
    if (store_status p = pair_into(trial, fp, name, role, now); p.failed()) return p;
    st = std::move(trial);
    return {};
  });
  // Not paired (window, cap): the proof was right all the same, so the refund stands.
  if (s.failed() && s.code != trust_errc::store_io && s.code != trust_errc::store_corrupt)
    refund_failure(now);
  return s;
}

store_status controller_store::add_by_admin(const core::fingerprint& by,
                                            const core::fingerprint& fp, std::string_view name,
                                            controller_role role, time_point now) {
  if (name.size() > max_name_length) return invalid_name(name.size());
  return modify([&](state& st, bool&) -> store_status {
    auto admin = st.controllers.find(by);
    if (admin == st.controllers.end()) return {make_error_code(trust_errc::not_paired), {}};
    if (admin->second.role != controller_role::admin)
      return {make_error_code(trust_errc::not_admin), {}};
    if (st.controllers.count(fp) == 0 && st.controllers.size() >= max_controllers_)
      return {make_error_code(core::pairing_errc::controllers_full), {}};
    controller_record& r = st.controllers[fp];
    if (r.paired_at == time_point{}) r.paired_at = floor_s(now);
    r.fingerprint = fp;
    r.name = std::string(name);
    r.role = role;
    return {};
  });
}

store_status controller_store::remove(const core::fingerprint& fp) {
  return modify([&](state& st, bool&) -> store_status {
    auto it = st.controllers.find(fp);
    if (it == st.controllers.end())
      return {make_error_code(trust_errc::not_paired),
              "controller " + core::to_string(fp) + " is not paired"};
    if (it->second.role == controller_role::admin && st.controllers.size() > 1) {
      bool other_admin = false;
      for (const auto& [k, c] : st.controllers)
        other_admin = other_admin || (k != fp && c.role == controller_role::admin);
      if (!other_admin) return {make_error_code(trust_errc::last_admin), {}};
    }
    st.controllers.erase(it);
    return {};
  });
}

store_status controller_store::open_window(time_point now, core::pairing_window::duration timeout,
                                           core::window_opener opener) {
  return modify([&](state& st, bool&) -> store_status {
    core::pairing_window w(st.window);
    if (std::error_code ec = w.open(floor_s(now), timeout, opener)) return {ec, w.describe(now)};
    st.window = w.state();
    return {};
  });
}

store_status controller_store::open_window_by(const core::fingerprint& by, time_point now,
                                              core::pairing_window::duration timeout) {
  return modify([&](state& st, bool&) -> store_status {
    auto admin = st.controllers.find(by);
    if (admin == st.controllers.end()) return {make_error_code(trust_errc::not_paired), {}};
    if (admin->second.role != controller_role::admin)
      return {make_error_code(trust_errc::not_admin), {}};
    core::pairing_window w(st.window);
    if (std::error_code ec = w.open(floor_s(now), timeout, core::window_opener::admin))
      return {ec, {}};
    st.window = w.state();
    return {};
  });
}

store_status controller_store::close_window() {
  return modify([&](state& st, bool& changed) -> store_status {
    core::pairing_window w(st.window);
    w.close();
    changed = !(w.state() == st.window);
    st.window = w.state();
    return {};
  });
}

store_status controller_store::record_failure(time_point now) {
  return modify([&](state& st, bool&) -> store_status {
    core::pairing_window w(st.window);
    w.expire(now);
    w.record_failure();
    st.window = w.state();
    return {};
  });
}

store_status controller_store::refund_failure(time_point now) {
  return modify([&](state& st, bool&) -> store_status {
    core::pairing_window w(st.window);
    w.refund_failure(now);
    st.window = w.state();
    return {};
  });
}

store_status controller_store::set_role(const core::fingerprint& by, const core::fingerprint& fp,
                                        controller_role role) {
  return modify([&](state& st, bool&) -> store_status {
    auto admin = st.controllers.find(by);
    if (admin == st.controllers.end()) return {make_error_code(trust_errc::not_paired), {}};
    if (admin->second.role != controller_role::admin)
      return {make_error_code(trust_errc::not_admin), {}};
    auto it = st.controllers.find(fp);
    if (it == st.controllers.end())
      return {make_error_code(trust_errc::not_paired),
              "controller " + core::to_string(fp) + " is not paired"};
    if (role != controller_role::admin && it->second.role == controller_role::admin) {
      bool other_admin = false;
      for (const auto& [k, c] : st.controllers)
        other_admin = other_admin || (k != fp && c.role == controller_role::admin);
      if (!other_admin) return {make_error_code(trust_errc::last_admin), {}};
    }
    it->second.role = role;
    return {};
  });
}

store_status controller_store::expire_window(time_point now) {
  {
    // Fast path: nothing to persist unless an open window's deadline has passed.
    std::lock_guard guard(mutex_);
    if (!state_.window.open || (now < state_.window.deadline && now >= state_.window.opened_at))
      return {};
  }
  return modify([&](state& st, bool& changed) -> store_status {
    core::pairing_window w(st.window);
    changed = w.expire(now);
    st.window = w.state();
    return {};
  });
}

} // namespace lanyard::trust
