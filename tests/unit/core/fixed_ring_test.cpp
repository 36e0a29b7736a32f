// core::fixed_ring: a FIFO of fixed room, reserved once, that reports full instead of growing.
#include <lanyard/core/fixed_ring.hpp>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

using lanyard::core::fixed_ring;

TEST_CASE("fixed_ring: first in, first out, across the wrap; full refuses without growing") {
  fixed_ring<int> r;
  CHECK(r.capacity() == 0);
  CHECK(r.full()); // no room yet
  CHECK(!r.push_back(1));
  REQUIRE(r.reserve(3));
  CHECK(r.capacity() == 3);
  CHECK(r.empty());
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 10; ++round) { // wraps several times
    while (!r.full())
      REQUIRE(r.push_back(next_in++));
    CHECK(!r.push_back(99));
    CHECK(r.size() == 3);
    CHECK(r[0] == next_out);
    CHECK(r[2] == next_out + 2);
    for (int k = 0; k < 2; ++k) {
      CHECK(r.front() == next_out++);
      r.pop_front();
    }
  }
  CHECK(r.size() == 1);
  r.clear();
  CHECK(r.empty());
  CHECK(r.capacity() == 3);
}

TEST_CASE("fixed_ring: values are constructed on push and destroyed on pop, clear and "
          "destruction") {
  auto counter = std::make_shared<int>(0);
  {
    fixed_ring<std::shared_ptr<int>> r;
    REQUIRE(r.reserve(4));
    for (int i = 0; i < 4; ++i)
      REQUIRE(r.push_back(counter));
    CHECK(counter.use_count() == 5);
    r.pop_front();
    CHECK(counter.use_count() == 4);
    REQUIRE(r.push_back(counter)); // wraps
    r.clear();
    CHECK(counter.use_count() == 1);
    REQUIRE(r.push_back(counter));
    REQUIRE(r.push_back(counter));
  }
  CHECK(counter.use_count() == 1);
}

TEST_CASE("fixed_ring: move-only values, moves of the ring, reserve again") {
  fixed_ring<std::unique_ptr<std::string>> r;
  REQUIRE(r.reserve(2));
  auto a = std::make_unique<std::string>("a");
  REQUIRE(r.push_back(std::move(a)));
  auto b = std::make_unique<std::string>("b");
  REQUIRE(r.push_back(std::move(b)));
  auto c = std::make_unique<std::string>("c");
  CHECK(!r.push_back(std::move(c)));
  CHECK(c != nullptr); // refused: left with the caller

  fixed_ring<std::unique_ptr<std::string>> moved(std::move(r));
  CHECK(r.capacity() == 0);
  CHECK(moved.size() == 2);
  CHECK(*moved.front() == "a");
  r = std::move(moved);
  CHECK(*r.front() == "a");
  CHECK(r[1] != nullptr);
  CHECK(*r[1] == "b");

  // A reserve drops what was held and gives new room.
  REQUIRE(r.reserve(5));
  CHECK(r.empty());
  CHECK(r.capacity() == 5);
  REQUIRE(!r.reserve(static_cast<std::size_t>(-1) / 2)); // cannot be had: reported, not thrown
  CHECK(r.capacity() == 0);
}

TEST_CASE("fixed_ring: grow() keeps the values in order, wrapped or not") {
  lanyard::core::fixed_ring<std::string> q;
  REQUIRE(q.reserve(3));
  REQUIRE(q.push_back(std::string("a")));
  REQUIRE(q.push_back(std::string("b")));
  q.pop_front(); // the head moves: the next values wrap around the end of the block
  REQUIRE(q.push_back(std::string("c")));
  REQUIRE(q.push_back(std::string("d")));
  REQUIRE(q.full());
  CHECK_FALSE(q.grow(2)); // not more than it holds: refused, nothing changed
  CHECK(q.capacity() == 3);
  REQUIRE(q.grow(6));
  CHECK(q.capacity() == 6);
  REQUIRE(q.size() == 3);
  CHECK(q[0] == "b");
  CHECK(q[1] == "c");
  CHECK(q[2] == "d");
  REQUIRE(q.push_back(std::string("e")));
  CHECK(q.size() == 4);
}

TEST_CASE("fixed_ring: grow() gives a ring without room its first block; doubling keeps order") {
  // core::session's replay buffer and event queue start so and double when full.
  fixed_ring<std::string> q;
  CHECK(q.capacity() == 0);
  REQUIRE(q.grow(4));
  CHECK(q.capacity() == 4);
  CHECK(q.empty());
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 6; ++round) {
    for (int k = 0; k < 5 + 3 * round; ++k) {
      if (q.full()) REQUIRE(q.grow(2 * q.capacity()));
      REQUIRE(q.push_back(std::to_string(next_in++)));
    }
    for (int k = 0; k < 4; ++k) { // the head moves: later values wrap, later growths unwrap
      CHECK(q.front() == std::to_string(next_out++));
      q.pop_front();
    }
    for (std::size_t i = 0; i < q.size(); ++i)
      CHECK(q[i] == std::to_string(next_out + static_cast<int>(i)));
  }
  CHECK(q.size() == static_cast<std::size_t>(next_in - next_out));
  // Moving an empty ring in gives the block back (what a caller does to shrink one).
  while (!q.empty())
    q.pop_front();
  q = fixed_ring<std::string>{};
  CHECK(q.capacity() == 0);
  CHECK(q.full());
}
