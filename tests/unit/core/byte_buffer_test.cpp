// core::byte_buffer: contents kept across growth, room kept across clear(), and a failed
// reservation reported with the buffer as it was.
#include "lanyard/core/byte_buffer.hpp"

#include <catch2/catch.hpp>

#include "support/counting_new.hpp"

#include <array>
#include <cstddef>
#include <cstring>
#include <vector>

using lanyard::core::byte_buffer;
namespace alloc = lanyard::test::alloc_count;

namespace {
std::vector<std::byte> bytes_of(const byte_buffer& b) {
  return {b.view().begin(), b.view().end()};
}
std::vector<std::byte> run(std::size_t n, unsigned first) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::byte>(first + i);
  return v;
}
} // namespace

TEST_CASE("byte_buffer appends, grows keeping its contents, and keeps its room when cleared") {
  byte_buffer b;
  CHECK(b.empty());
  CHECK(b.capacity() == 0);
  b.append({});
  CHECK(b.empty());
  std::vector<std::byte> expected;
  for (unsigned k = 0; k < 40; ++k) {
    const auto piece = run(k * 7 + 1, k);
    b.append(piece);
    expected.insert(expected.end(), piece.begin(), piece.end());
  }
  CHECK(bytes_of(b) == expected);
  CHECK(b.capacity() >= b.size());
  std::byte* p = b.extend(3);
  p[0] = std::byte{1};
  p[1] = std::byte{2};
  p[2] = std::byte{3};
  CHECK(b.size() == expected.size() + 3);
  CHECK(b[b.size() - 1] == std::byte{3});
  const std::size_t room = b.capacity();
  b.clear();
  CHECK(b.empty());
  CHECK(b.capacity() == room);
  b.release();
  CHECK(b.capacity() == 0);
}

TEST_CASE("byte_buffer: a reserved buffer appends without allocating; moves take the block") {
  byte_buffer b;
  REQUIRE(b.reserve(100));
  CHECK(b.capacity() == 100);
  CHECK(b.reserve(50)); // never shrinks
  CHECK(b.capacity() == 100);
  const auto sixty = run(60, 0);
  alloc::allocations = 0;
  alloc::counting = true;
  b.append(sixty);
  std::memset(b.extend(40), 0x5a, 40);
  alloc::counting = false;
  CHECK(alloc::allocations == 0);
  CHECK(b.size() == 100);
  byte_buffer moved(std::move(b));
  CHECK(moved.size() == 100);
  CHECK(moved.capacity() == 100);
  CHECK(b.capacity() == 0); // NOLINT(bugprone-use-after-move): moved-from is empty
  CHECK(b.empty());
  b = std::move(moved);
  CHECK(b.size() == 100);
  CHECK(b[99] == std::byte{0x5a});
}

TEST_CASE("byte_buffer: a failed reservation is reported and changes nothing") {
  byte_buffer b;
  b.append(run(10, 7));
  const std::size_t room = b.capacity();
  alloc::nothrow_fails = true;
  const bool got = b.reserve(room + 1000);
  alloc::nothrow_fails = false;
  CHECK_FALSE(got);
  CHECK(b.capacity() == room);
  CHECK(bytes_of(b) == run(10, 7));
}
