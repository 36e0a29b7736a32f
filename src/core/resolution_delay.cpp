#include "lanyard/core/resolution_delay.hpp"

namespace lanyard::core {

std::string_view to_string(resolution_verdict verdict) noexcept {
  switch (verdict) {
  case resolution_verdict::no_candidate:
    return "no candidate";
  case resolution_verdict::race_now:
    return "race now";
  case resolution_verdict::wait:
    return "wait";
  }
  return "?";
}

void resolution_delay::observe(kind_set present, time_point now) noexcept {
  if (present.empty()) {
    open_ = false;
    waiting_ = false;
    return;
  }
  if (!open_) {
    open_ = true;
    opened_ = now;
  }
}

resolution_delay::time_point resolution_delay::window_end() const noexcept {
  // Saturate: a huge delay (a test's "forever") must not wrap around.
  if (settings_.delay >= time_point::max() - opened_) return time_point::max();
  return opened_ + std::chrono::duration_cast<clock::duration>(settings_.delay);
}

resolution_decision resolution_delay::decide(kind_set present, kind_set usable,
                                             const interface_policy& policy,
                                             time_point now) noexcept {
  observe(present, now);
  waiting_ = false;
  resolution_decision d;
  if (present.empty()) return d;

  std::size_t best_rank = interface_kind_count;
  for (auto k : default_preference) {
    if (!present.contains(k) || !policy.allows(k)) continue;
    if (const std::size_t r = policy.rank(k); r < best_rank) {
      best_rank = r;
      d.best = k;
    }
  }
  d.verdict = resolution_verdict::race_now;
  if (best_rank == interface_kind_count) return d; // nothing allowed: the ranking says why

  for (auto k : default_preference)
    if (usable.contains(k) && policy.allows(k) && policy.rank(k) < best_rank) d.awaited.insert(k);
  if (d.awaited.empty() || settings_.delay <= std::chrono::nanoseconds::zero()) {
    d.awaited = {};
    return d;
  }
  const time_point end = window_end();
  if (now >= end) {
    d.awaited = {};
    return d;
  }
  d.verdict = resolution_verdict::wait;
  d.deadline = end;
  waiting_ = true;
  return d;
}

} // namespace lanyard::core
