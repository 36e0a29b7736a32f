#include "lanyard/core/channel_error.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace lanyard::core;

TEST_CASE("channel errors live in category lanyard.channel with actionable messages") {
  std::error_code ec = channel_errc::buffer_full;
  CHECK(std::string(ec.category().name()) == "lanyard.channel");
  CHECK(ec.category() == channel_category());
  CHECK(ec.message().find("max_replay_bytes") != std::string::npos);
  CHECK(std::error_code(channel_errc::frame_too_large).message().find("max_message_size") !=
        std::string::npos);
  const channel_errc all[] = {
      channel_errc::protocol_violation,  channel_errc::frame_too_large,
      channel_errc::unknown_frame_type,  channel_errc::bad_version,
      channel_errc::frame_truncated,     channel_errc::frame_trailing_bytes,
      channel_errc::invalid_frame_field, channel_errc::sequence_out_of_window,
      channel_errc::session_not_owned,   channel_errc::peer_dead,
      channel_errc::handshake_timeout,   channel_errc::closed_by_peer,
      channel_errc::buffer_full,         channel_errc::message_too_large,
      channel_errc::session_closed,      channel_errc::invalid_state,
      channel_errc::session_reset};
  for (channel_errc e : all) {
    std::error_code code = e;
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

TEST_CASE("is_connection_error separates connection failures from local API errors") {
  CHECK(is_connection_error(channel_errc::peer_dead));
  CHECK(is_connection_error(channel_errc::frame_too_large));
  CHECK(is_connection_error(channel_errc::closed_by_peer));
  CHECK_FALSE(is_connection_error(channel_errc::buffer_full));
  CHECK_FALSE(is_connection_error(channel_errc::invalid_state));
  CHECK_FALSE(is_connection_error(std::error_code{}));
  CHECK_FALSE(is_connection_error(std::make_error_code(std::errc::io_error)));
}
