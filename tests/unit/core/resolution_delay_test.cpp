// resolution_delay under a fake clock: start on the best kind at once, wait for a better kind
// only within the window after the first candidate, never when nothing better can come.
#include "lanyard/core/resolution_delay.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using namespace lanyard::core;

namespace {

const resolution_delay::time_point t0 = resolution_delay::time_point{} + 1h;
const interface_policy default_policy{};
// The lab phone: Wi-Fi, p2p and cellular links up, the SoftAP link not joined.
const kind_set phone_links{interface_kind::wifi, interface_kind::p2p, interface_kind::cellular};

} // namespace

TEST_CASE("resolution_delay: the best kind found first is raced at once") {
  resolution_delay r;
  auto d = r.decide({interface_kind::wifi}, phone_links, default_policy, t0);
  CHECK(d.verdict == resolution_verdict::race_now);
  CHECK(d.best == interface_kind::wifi);
  CHECK(d.awaited.empty());
  CHECK(r.next_deadline() == resolution_delay::time_point::max());
  // Both at once (a cached answer): Wi-Fi is the best, no wait either.
  resolution_delay both;
  d = both.decide({interface_kind::p2p, interface_kind::wifi}, phone_links, default_policy, t0);
  CHECK(d.verdict == resolution_verdict::race_now);
  CHECK(d.best == interface_kind::wifi);
}

TEST_CASE("resolution_delay: p2p first waits for Wi-Fi, which ends the wait when it comes") {
  resolution_delay r; // default 100 ms
  auto d = r.decide({interface_kind::p2p}, phone_links, default_policy, t0);
  CHECK(d.verdict == resolution_verdict::wait);
  CHECK(d.best == interface_kind::p2p);
  CHECK(d.awaited == kind_set{interface_kind::wifi});
  CHECK(d.deadline == t0 + 100ms);
  CHECK(r.next_deadline() == t0 + 100ms);
  // p2p's IPv6 answer 10 ms later: the window still counts from the first candidate.
  d = r.decide({interface_kind::p2p}, phone_links, default_policy, t0 + 10ms);
  CHECK(d.verdict == resolution_verdict::wait);
  CHECK(d.deadline == t0 + 100ms);
  // Wi-Fi's answer 40 ms after p2p's: race now, Wi-Fi first.
  d = r.decide({interface_kind::p2p, interface_kind::wifi}, phone_links, default_policy, t0 + 40ms);
  CHECK(d.verdict == resolution_verdict::race_now);
  CHECK(d.best == interface_kind::wifi);
  CHECK(r.next_deadline() == resolution_delay::time_point::max());
}

TEST_CASE("resolution_delay: when the better kind never comes, the race starts at the deadline") {
  resolution_delay r({50ms});
  CHECK(r.decide({interface_kind::p2p}, phone_links, default_policy, t0).verdict ==
        resolution_verdict::wait);
  auto d = r.decide({interface_kind::p2p}, phone_links, default_policy, t0 + 49ms);
  CHECK(d.verdict == resolution_verdict::wait);
  CHECK(d.deadline == t0 + 50ms);
  d = r.decide({interface_kind::p2p}, phone_links, default_policy, t0 + 50ms);
  CHECK(d.verdict == resolution_verdict::race_now);
  CHECK(d.best == interface_kind::p2p);
  CHECK(d.awaited.empty());
  CHECK(r.next_deadline() == resolution_delay::time_point::max());
  // A reconnect much later (the p2p connection broke): discovery settled long ago, no wait.
  d = r.decide({interface_kind::p2p}, phone_links, default_policy, t0 + 30s);
  CHECK(d.verdict == resolution_verdict::race_now);
}

TEST_CASE("resolution_delay: nothing is waited for that this host could not use") {
  resolution_delay r;
  // No Wi-Fi link up on the phone: p2p is the best there can be.
  auto d = r.decide({interface_kind::p2p}, {interface_kind::p2p, interface_kind::cellular},
                    default_policy, t0);
  CHECK(d.verdict == resolution_verdict::race_now);
  CHECK(d.awaited.empty());
  // Cellular found first, p2p and Wi-Fi up: both are better, both awaited.
  resolution_delay c;
  d = c.decide({interface_kind::cellular}, phone_links, default_policy, t0);
  CHECK(d.verdict == resolution_verdict::wait);
  CHECK(d.awaited == kind_set{interface_kind::wifi, interface_kind::p2p});
  // p2p arrives: Wi-Fi is still better and still possible, so the wait goes on.
  d = c.decide({interface_kind::cellular, interface_kind::p2p}, phone_links, default_policy,
               t0 + 20ms);
  CHECK(d.verdict == resolution_verdict::wait);
  CHECK(d.best == interface_kind::p2p);
  CHECK(d.awaited == kind_set{interface_kind::wifi});
  CHECK(d.deadline == t0 + 100ms);
  // The Wi-Fi link goes down meanwhile: nothing better can come, race now.
  d = c.decide({interface_kind::cellular, interface_kind::p2p},
               {interface_kind::p2p, interface_kind::cellular}, default_policy, t0 + 30ms);
  CHECK(d.verdict == resolution_verdict::race_now);
  CHECK(d.best == interface_kind::p2p);
}

TEST_CASE("resolution_delay: the policy decides what is better and what is allowed") {
  SECTION("Wi-Fi prohibited: p2p is the best allowed") {
    interface_policy p;
    p.prohibited.insert(interface_kind::wifi);
    resolution_delay r;
    CHECK(r.decide({interface_kind::p2p}, phone_links, p, t0).verdict ==
          resolution_verdict::race_now);
  }
  SECTION("cellular required: nothing else counts") {
    interface_policy p;
    p.required.insert(interface_kind::cellular);
    resolution_delay r;
    CHECK(r.decide({interface_kind::cellular}, phone_links, p, t0).verdict ==
          resolution_verdict::race_now);
  }
  SECTION("p2p preferred over Wi-Fi: p2p first is the best") {
    interface_policy p;
    p.preference = {interface_kind::p2p, interface_kind::wifi};
    resolution_delay r;
    CHECK(r.decide({interface_kind::p2p}, phone_links, p, t0).verdict ==
          resolution_verdict::race_now);
    // ... and Wi-Fi first waits for p2p.
    resolution_delay w;
    auto d = w.decide({interface_kind::wifi}, phone_links, p, t0);
    CHECK(d.verdict == resolution_verdict::wait);
    CHECK(d.awaited == kind_set{interface_kind::p2p});
  }
  SECTION("a wired link up: Wi-Fi found first waits for it (default order wired, wifi, ...)") {
    resolution_delay r;
    auto d = r.decide({interface_kind::wifi}, {interface_kind::wired, interface_kind::wifi},
                      default_policy, t0);
    CHECK(d.verdict == resolution_verdict::wait);
    CHECK(d.awaited == kind_set{interface_kind::wired});
  }
  SECTION("no allowed kind among the candidates: race now, the ranking explains") {
    interface_policy p;
    p.prohibited.insert(interface_kind::p2p);
    resolution_delay r;
    auto d = r.decide({interface_kind::p2p}, phone_links, p, t0);
    CHECK(d.verdict == resolution_verdict::race_now);
    CHECK(d.awaited.empty());
  }
}

TEST_CASE("resolution_delay: candidates that vanish close the window; the next one opens anew") {
  resolution_delay r;
  CHECK(r.decide({interface_kind::p2p}, phone_links, default_policy, t0).verdict ==
        resolution_verdict::wait);
  CHECK(r.decide({interface_kind::p2p}, phone_links, default_policy, t0 + 100ms).verdict ==
        resolution_verdict::race_now);
  // The accessory leaves (goodbye on every link) and reboots 10 s later.
  r.observe({}, t0 + 5s);
  CHECK_FALSE(r.window_open());
  auto d = r.decide({}, phone_links, default_policy, t0 + 6s);
  CHECK(d.verdict == resolution_verdict::no_candidate);
  CHECK(r.next_deadline() == resolution_delay::time_point::max());
  // Seen on p2p first again: a fresh window from this moment.
  r.observe({interface_kind::p2p}, t0 + 10s);
  CHECK(r.window_open());
  d = r.decide({interface_kind::p2p}, phone_links, default_policy, t0 + 10s + 30ms);
  CHECK(d.verdict == resolution_verdict::wait);
  CHECK(d.deadline == t0 + 10s + 100ms);
}

TEST_CASE("resolution_delay: a zero delay never waits, a huge one does not overflow") {
  resolution_delay off({0ms});
  CHECK(off.decide({interface_kind::p2p}, phone_links, default_policy, t0).verdict ==
        resolution_verdict::race_now);
  resolution_delay forever({std::chrono::nanoseconds::max()});
  auto d = forever.decide({interface_kind::p2p}, phone_links, default_policy, t0);
  CHECK(d.verdict == resolution_verdict::wait);
  CHECK(d.deadline == resolution_delay::time_point::max());
  CHECK(to_string(resolution_verdict::wait) == "wait");
  CHECK(to_string(resolution_verdict::race_now) == "race now");
  CHECK(to_string(resolution_verdict::no_candidate) == "no candidate");
}
