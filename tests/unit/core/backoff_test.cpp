#include "lanyard/core/backoff.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using namespace lanyard::core;
using namespace std::chrono_literals;

TEST_CASE("backoff ceilings double from initial up to the cap") {
  backoff b({100ms, 1000ms});
  CHECK(b.ceiling() == 100ms);
  CHECK(b.next_delay(UINT64_MAX) <= 100ms);
  CHECK(b.ceiling() == 200ms);
  b.next_delay(0);
  CHECK(b.ceiling() == 400ms);
  b.next_delay(0);
  CHECK(b.ceiling() == 800ms);
  b.next_delay(0);
  CHECK(b.ceiling() == 1000ms); // capped, not 1600
  for (int i = 0; i < 200; ++i)
    b.next_delay(0);
  CHECK(b.ceiling() == 1000ms); // no overflow after many attempts
  CHECK(b.attempts() == 64);
}

TEST_CASE("full jitter: the delay is the caller's random value reduced to [0, ceiling]") {
  backoff b({100ms, 1000ms});
  const auto ceiling_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(100ms).count());
  CHECK(b.next_delay(0) == 0ns);
  b.reset();
  CHECK(b.next_delay(ceiling_ns) == 100ms); // the bound itself is reachable
  b.reset();
  CHECK(b.next_delay(ceiling_ns + 1) == 0ns); // wraps: uniform over ceiling + 1 values
  b.reset();
  CHECK(b.next_delay(12345) == 12345ns);
  // Many draws stay in range and are spread over it.
  b.reset();
  std::uint64_t x = 88172645463325252ull; // xorshift64
  bool low = false, high = false;
  for (int i = 0; i < 1000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b.reset();
    auto d = b.next_delay(x);
    REQUIRE(d >= 0ns);
    REQUIRE(d <= 100ms);
    low = low || d < 10ms;
    high = high || d > 90ms;
  }
  CHECK(low);
  CHECK(high);
}

TEST_CASE("reset after success starts again from initial") {
  backoff b({250ms, 30s});
  for (int i = 0; i < 10; ++i)
    b.next_delay(0);
  CHECK(b.ceiling() == 30s);
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.ceiling() == 250ms);
}

TEST_CASE("degenerate settings never produce a negative or overflowing delay") {
  backoff zero({0ms, 0ms});
  CHECK(zero.next_delay(UINT64_MAX) == 0ns);
  backoff inverted({5s, 1s}); // initial above the cap: the cap wins
  CHECK(inverted.ceiling() == 1s);
  backoff huge({1ns, std::chrono::nanoseconds(INT64_MAX)});
  for (int i = 0; i < 100; ++i)
    REQUIRE(huge.next_delay(UINT64_MAX) >= 0ns);
}
