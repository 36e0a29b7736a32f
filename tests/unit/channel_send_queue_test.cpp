// The send queue between async_send and the session (both ends use it): completions in order,
// withdrawal of waiting sends, and no storage held while nothing waits — an idle channel (the
// common case: thousands of them on an accessory) must not pay for two empty std::deques.
// The session runner has no connection here: the session takes messages while disconnected,
// and acknowledgements are fed to the queue directly.
#include <lanyard/channel/send_queue.hpp>
#include <lanyard/channel/session_runner.hpp>
#include <lanyard/core/channel_error.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

using namespace lanyard;
using channel::detail::send_queue;
using channel::detail::session_runner;

namespace {

struct outcome {
  std::optional<std::error_code> ec;
  std::uint64_t seq = 0;
};

struct fixture {
  asio::io_context io;
  std::shared_ptr<session_runner> runner;
  send_queue q{io.get_executor(), 2};
  std::vector<std::byte> payload = std::vector<std::byte>(100, std::byte{7});

  explicit fixture(std::size_t replay_bytes = 1024 * 1024) {
    core::session_settings s;
    s.max_message_size = 128; // the replay buffer holds at least one message of this size
    s.max_replay_bytes = replay_bytes;
    runner = std::make_shared<session_runner>(io.get_executor(), core::session_role::client, s);
  }
  ~fixture() { runner->stop(); }

  template <class Handler>
  void submit(Handler&& h, channel::send_options o = {}) {
    q.submit(*runner, payload, o,
             channel::send_completion(std::forward<Handler>(h), io.get_executor()));
  }
  auto recorder(outcome& out) {
    return [&out](std::error_code ec, std::uint64_t seq) {
      out.ec = ec;
      out.seq = seq;
    };
  }
};

} // namespace

TEST_CASE("send_queue: storage is held only while a send waits for its acknowledgement",
          "[channel][send_queue]") {
  fixture f;
  REQUIRE_FALSE(f.q.holds_storage());
  outcome a, b;
  f.submit(f.recorder(a));
  f.submit(f.recorder(b));
  CHECK(f.q.holds_storage());
  f.q.on_acked(*f.runner, 1); // the first message (seq 0) is acknowledged
  f.io.poll();
  REQUIRE(a.ec);
  CHECK_FALSE(*a.ec);
  CHECK(a.seq == 0);
  CHECK_FALSE(b.ec);
  CHECK(f.q.holds_storage()); // the second still waits
  f.q.on_acked(*f.runner, 2);
  f.io.poll();
  REQUIRE(b.ec);
  CHECK(b.seq == 1);
  CHECK_FALSE(f.q.holds_storage());
}

TEST_CASE("send_queue: a send completed at once holds nothing", "[channel][send_queue]") {
  fixture f;
  outcome a;
  channel::send_options o;
  o.completion = channel::send_completion_mode::queued;
  f.submit(f.recorder(a), o);
  CHECK_FALSE(f.q.holds_storage());
  f.io.poll();
  REQUIRE(a.ec);
  CHECK_FALSE(*a.ec);
}

TEST_CASE("send_queue: sends waiting for room, withdrawn or failed, leave nothing behind",
          "[channel][send_queue]") {
  fixture f(150); // room for one 100-byte message in the replay buffer
  outcome first, waiting, cancelled, rejected;
  asio::cancellation_signal sig;
  f.submit(f.recorder(first));
  f.submit(f.recorder(waiting));
  f.submit(asio::bind_cancellation_slot(sig.slot(), f.recorder(cancelled)));
  CHECK(f.q.waiting() == 2);
  f.submit(f.recorder(rejected)); // max_waiting is 2
  f.io.poll();
  REQUIRE(rejected.ec);
  CHECK(*rejected.ec == core::channel_errc::too_many_waiting_sends);

  // Waiting for room: never handed to the session, so it is withdrawn.
  sig.emit(asio::cancellation_type::terminal);
  f.io.poll();
  REQUIRE(cancelled.ec);
  CHECK(*cancelled.ec == asio::error::operation_aborted);
  CHECK(f.q.waiting() == 1);

  // The first one's acknowledgement completes it; the other still waits for room (only the
  // peer's ACK, which this session never gets, frees the replay buffer).
  f.q.on_acked(*f.runner, 1);
  f.io.poll();
  REQUIRE(first.ec);
  CHECK_FALSE(*first.ec);
  CHECK(f.q.waiting() == 1);
  CHECK_FALSE(waiting.ec);
  CHECK(f.q.holds_storage());

  f.q.fail_all(core::channel_errc::session_closed);
  f.io.poll();
  REQUIRE(waiting.ec);
  CHECK(*waiting.ec == core::channel_errc::session_closed);
  CHECK_FALSE(f.q.holds_storage());
}
