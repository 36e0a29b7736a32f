#include <lanyard/channel/error.hpp>

#include <lanyard/core/error_condition.hpp>

#include <string>

namespace lanyard::channel {
namespace {

class category final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.channel.io"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
    case errc::session_reset:
      return "the accessory lost the session (it restarted or the session expired) before "
             "acknowledging this message; it is listed in the session_reset event, send it again "
             "if it still matters";
    case errc::session_expired:
      return "the controller stayed disconnected longer than the session linger time; its "
             "session and undelivered pushes were dropped";
    case errc::no_session:
      return "the controller has no session on this accessory (not connected since the server "
             "started, or expired); push again once it connects";
    case errc::too_many_waiting_sends:
      return "too many sends are waiting for room in the replay buffer: the peer acknowledges "
             "slower than messages are produced; wait for earlier sends to complete";
    case errc::connection_replaced:
      return "the connection was replaced by a newer connection of the same controller";
    case errc::no_address:
      return "the endpoint's host name resolved to no address; check the host name";
    case errc::not_started:
      return "the channel is not started or has failed; call start() or create a new channel";
    case errc::not_discovered:
      return "the discovery directory has no reachable path to the accessory (not discovered "
             "yet, gone, or every path reported unreachable); waiting for it to appear";
    }
    return "unknown lanyard.channel.io error " + std::to_string(ev);
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<errc>(code)) {
    case errc::session_reset:
    case errc::session_expired:
    case errc::no_session:
    case errc::too_many_waiting_sends:
    case errc::no_address:
    case errc::not_discovered:
      return {transient};
    case errc::connection_replaced:
      return {cancelled};
    case errc::not_started:
      return {permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& error_category() noexcept {
  static const category c;
  return c;
}

} // namespace lanyard::channel
