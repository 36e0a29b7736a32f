// core::replay_ring: messages in one circular block, in order, split where they wrap; reserved
// blocks never move, grown ones keep every message's bytes and position when they grow.
#include "lanyard/core/replay_ring.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

using namespace lanyard::core;

namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v;
  for (char c : s)
    v.push_back(std::byte(static_cast<unsigned char>(c)));
  return v;
}

std::string text_of(const replay_ring::entry& e) {
  std::string s;
  for (std::byte b : e.head)
    s.push_back(static_cast<char>(b));
  for (std::byte b : e.tail)
    s.push_back(static_cast<char>(b));
  return s;
}

struct expected {
  std::uint64_t seq;
  message_kind kind;
  std::string text;
};

// Every message of the ring, front to back, against a model.
void check(const replay_ring& r, const std::deque<expected>& model) {
  REQUIRE(r.size() == model.size());
  std::size_t k = 0;
  std::size_t bytes = 0;
  for (auto p = r.begin(); p != r.end(); p = r.next(p), ++k) {
    const replay_ring::entry e = r.at(p);
    CHECK(e.seq == model[k].seq);
    CHECK(e.kind == model[k].kind);
    CHECK(text_of(e) == model[k].text);
    bytes += replay_ring::header_size + model[k].text.size();
  }
  CHECK(k == model.size());
  CHECK(r.bytes() == bytes);
}

} // namespace

TEST_CASE("replay_ring keeps messages in order; a payload that wraps comes in two pieces") {
  replay_ring r;
  REQUIRE(r.reset(100, true));
  CHECK(r.capacity() == 100);
  std::deque<expected> model;
  auto push = [&](std::uint64_t seq, const std::string& text, message_kind kind) {
    REQUIRE(r.push_back(seq, kind, bytes_of(text)));
    model.push_back({seq, kind, text});
  };
  push(0, "0123456789abcdefghij", message_kind::application); // 36 bytes
  push(1, "", message_kind::provisioning);                    // 16
  push(2, "klmnopqrstuvwxyz", message_kind::administration);  // 32: 84 in all
  check(r, model);
  // 16 + 20 more would pass the limit.
  CHECK_FALSE(r.push_back(3, message_kind::application, bytes_of("01234567890123456789")));
  check(r, model);
  r.pop_front();
  model.pop_front();
  // Now it fits, from byte 84: header to 100, payload from the block's start.
  push(3, "ABCDEFGHIJKLMNOPQRST", message_kind::application);
  check(r, model);
  // Its header ended at the block's end, so its payload starts the block, in one piece.
  const replay_ring::entry last = r.at(r.next(r.next(r.begin())));
  CHECK(last.head.size() == 20);
  CHECK(last.tail.empty());
  // Stream bytes 84..120 held; then 120..176 (block 20..76), then 176..220 (header 76..92,
  // payload 92..100 and 0..20: split).
  r.pop_front();
  model.pop_front();
  r.pop_front();
  model.pop_front();
  push(4, "0123456789012345678901234567890123456789", message_kind::application);
  r.pop_front();
  model.pop_front();
  push(5, "abcdefghijklmnopqrstuvwxyz01", message_kind::provisioning);
  CHECK(r.bytes() == 100);
  check(r, model);
  bool split = false;
  for (auto p = r.begin(); p != r.end(); p = r.next(p))
    split = split || (!r.at(p).head.empty() && !r.at(p).tail.empty());
  CHECK(split);
  CHECK(r.capacity() == 100); // reserved: never another block
  r.clear();
  CHECK(r.empty());
  CHECK(r.bytes() == 0);
  CHECK(r.capacity() == 100);
}

TEST_CASE("replay_ring grown: starts empty, doubles up to its limit, keeps positions") {
  replay_ring r;
  REQUIRE(r.reset(64 * 1024, false));
  CHECK(r.capacity() == 0);
  std::deque<expected> model;
  std::uint64_t seq = 0;
  // A sliding window of messages of many sizes: the block grows while the front moves, so
  // the copies into a larger block start anywhere in the old one.
  replay_ring::position marked = 0;
  std::uint64_t marked_seq = 0;
  for (int round = 0; round < 400; ++round) {
    const std::string text(static_cast<std::size_t>((round * 37) % 700), char('a' + round % 26));
    while (r.bytes() + replay_ring::header_size + text.size() > 64 * 1024) {
      r.pop_front();
      model.pop_front();
    }
    if (round == 5) {
      marked = r.end();
      marked_seq = seq;
    }
    REQUIRE(r.push_back(seq, message_kind::application, bytes_of(text)));
    model.push_back({seq++, message_kind::application, text});
    if (round % 3 == 0 && model.size() > 4) {
      r.pop_front();
      model.pop_front();
    }
    if (round == 40) check(r, model);
    // A message's position survives growth while it is held.
    if (round > 5 && !model.empty() && model.front().seq <= marked_seq)
      CHECK(r.at(marked).seq == marked_seq);
  }
  check(r, model);
  CHECK(r.capacity() <= 64 * 1024);
  CHECK(r.capacity() >= 1024);
  // Emptied, a block above 16 KiB goes back.
  while (!r.empty())
    r.pop_front();
  CHECK(r.capacity() <= 16 * 1024);
  CHECK_FALSE(r.push_back(seq, message_kind::application,
                          std::vector<std::byte>(64 * 1024 - replay_ring::header_size + 1)));
  CHECK(r.push_back(seq, message_kind::application,
                    std::vector<std::byte>(64 * 1024 - replay_ring::header_size)));
  CHECK(r.capacity() == 64 * 1024);
}
