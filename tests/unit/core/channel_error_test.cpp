#include "lanyard/core/channel_error.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>

using namespace lanyard::core;

TEST_CASE("channel errors live in category lanyard.channel with actionable messages") {
  std::error_code ec = channel_errc::buffer_full;
  CHECK(std::string(ec.category().name()) == "lanyard.channel");
  CHECK(ec.category() == channel_category());
  CHECK(ec.message().find("max_replay_bytes") != std::string::npos);
  CHECK(std::error_code(channel_errc::frame_too_large).message().find("max_message_size") !=
        std::string::npos);
  // Every defined value: the wire codes 1-14 and the local codes 20-32.
  for (int v = 1; v <= 32; ++v) {
    if (v > 14 && v < 20) continue;
    const std::error_code code(v, channel_category());
    CAPTURE(code.value());
    CHECK(code.message().size() > 30);
    CHECK(code.message().find("unknown") == std::string::npos);
  }
  CHECK(std::error_code(99, channel_category()).message() == "unknown lanyard.channel error 99");
}

TEST_CASE("wire codes are fixed: they travel in CLOSE frames") {
  CHECK(static_cast<int>(channel_errc::protocol_violation) == 1);
  CHECK(static_cast<int>(channel_errc::sequence_out_of_window) == 8);
  CHECK(static_cast<int>(channel_errc::session_not_owned) == 9);
  CHECK(static_cast<int>(channel_errc::closed_by_peer) == 12);
  CHECK(static_cast<int>(channel_errc::buffer_full) == 20);
}

TEST_CASE("the channel runtime's codes sit above the wire range, at fixed values") {
  // Folded in from lanyard.channel.io: local only (a CLOSE never carries them), and numbered
  // once for good, like the wire codes.
  const std::pair<channel_errc, int> folded[] = {
      {channel_errc::session_reset, 24},       {channel_errc::session_expired, 26},
      {channel_errc::no_session, 27},          {channel_errc::too_many_waiting_sends, 28},
      {channel_errc::connection_replaced, 29}, {channel_errc::host_not_resolved, 30},
      {channel_errc::no_address, 30},          {channel_errc::not_discovered, 31},
      {channel_errc::relay_unavailable, 32},
  };
  for (const auto& [code, value] : folded) {
    CAPTURE(value);
    CHECK(static_cast<int>(code) == value);
    CHECK_FALSE(is_connection_error(code));
  }
}

TEST_CASE("is_connection_error separates connection failures from local API errors") {
  CHECK(is_connection_error(channel_errc::peer_dead));
  CHECK(is_connection_error(channel_errc::frame_too_large));
  CHECK(is_connection_error(channel_errc::closed_by_peer));
  CHECK_FALSE(is_connection_error(channel_errc::buffer_full));
  CHECK_FALSE(is_connection_error(channel_errc::invalid_state));
  CHECK_FALSE(is_connection_error(std::error_code{}));
  CHECK_FALSE(is_connection_error(std::make_error_code(std::errc::io_error)));
}
