// Member definitions of client::detail::basic_path_racer (path_racer.hpp): included by
// path_racer.cpp, which instantiates the production racer (socket_connector) once, and by unit
// tests that race over another connector (tests/support/fail_count.hpp).
#pragma once

#include "path_racer.hpp"

#include "pin_verifier.hpp"

#include <lanyard/channel/error.hpp>
#include <lanyard/core/error_condition.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include <type_traits>
#include <utility>

namespace lanyard::client::detail {

template <class Connector>
struct basic_path_racer<Connector>::attempt {
  attempt(asio::any_io_executor ex, typename Connector::next_layer_type next)
      : socket(std::move(next)), timer(ex) {}
  typename Connector::next_layer_type socket;
  asio::steady_timer timer;
  std::unique_ptr<stream_type> stream;
  std::optional<trust::trust_decision> decision;
  bool finished = false;
};

/// "198.18.1.3 port 7443 via wlan0 (wifi)": how a failure names its path.
inline std::string describe_target(const path_target& t) {
  std::string s = t.path.address + " port " + std::to_string(t.endpoint.port());
  if (!t.path.interface_name.empty())
    s += " via " + t.path.interface_name + " (" + std::string(core::to_string(t.path.kind)) + ")";
  return s;
}

template <class Connector>
basic_path_racer<Connector>::basic_path_racer(asio::any_io_executor ex, tls::context ctx,
                                              trust_options trust, race_settings settings,
                                              Connector connector)
    : ex_(ex), ctx_(std::move(ctx)), trust_(std::move(trust)), settings_(settings),
      connector_(std::move(connector)), timer_(ex) {}

template <class Connector>
bool basic_path_racer<Connector>::is_refusal(std::error_code ec) noexcept {
  return ec == core::condition::permanent;
}

template <class Connector>
void basic_path_racer<Connector>::start(std::vector<path_target> targets, handler h) {
  targets_ = std::move(targets);
  handler_ = std::move(h);
  attempts_.assign(targets_.size(), nullptr);
  race_.emplace(targets_.size(), core::connection_race_settings{settings_.attempt_delay});
  // Nothing completes inside the caller's frame.
  asio::post(ex_, [self = this->shared_from_this()] {
    if (self->done_) return;
    self->race_->start(std::chrono::steady_clock::now());
    self->drive();
  });
}

template <class Connector>
void basic_path_racer<Connector>::cancel() {
  if (done_ || !race_) return;
  race_->cancel();
  drive();
  outcome_type o;
  o.error = asio::error::operation_aborted;
  finish(std::move(o));
}

template <class Connector>
void basic_path_racer<Connector>::drive() {
  while (auto a = race_->poll_action()) {
    if (a->what == core::connection_race::action::kind::start)
      launch(a->index);
    else
      abort(a->index);
  }
  if (done_) return;
  using state = core::connection_race::state;
  if (race_->current_state() == state::won) {
    auto& w = attempts_[*race_->winner()];
    outcome_type o;
    o.stream = std::move(w->stream);
    o.decision = std::move(w->decision);
    o.winner = *race_->winner();
    o.failures = std::move(failures_);
    w->timer.cancel();
    return finish(std::move(o));
  }
  if (race_->current_state() == state::lost) {
    outcome_type o;
    o.error = transport_failure_ ? *transport_failure_
              : refusal_         ? *refusal_
              : relay_failure_   ? *relay_failure_
                                 : race_->error();
    o.failures = std::move(failures_);
    return finish(std::move(o));
  }
  const auto deadline = race_->next_deadline();
  if (deadline == core::connection_race::time_point::max()) return;
  timer_.expires_at(deadline);
  timer_.async_wait([w = this->weak_from_this()](std::error_code ec) {
    auto self = w.lock();
    if (!self || ec || self->done_) return;
    self->race_->handle_deadline(std::chrono::steady_clock::now());
    self->drive();
  });
}

template <class Connector>
void basic_path_racer<Connector>::launch(std::size_t i) {
  auto a = std::make_shared<attempt>(ex_, connector_.make(ex_, i));
  attempts_[i] = a;
  const path_target& t = targets_[i];
  if (t.path.kind == core::interface_kind::relay) return launch_relay(i);
  const auto family = t.endpoint.address().is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
  // Failures inside this call are reported from a fresh frame: drive() is on the stack.
  auto fail_later = [this, i](std::error_code ec, std::string_view step, std::string phrase) {
    asio::post(ex_, [w = this->weak_from_this(), i, ec, step, phrase = std::move(phrase)] {
      if (auto self = w.lock()) self->failed(i, ec, step, phrase);
    });
  };
  if (std::error_code ec = connector_.open(a->socket, family, settings_.transport))
    return fail_later(ec, "socket_open", "opening a socket for");
  if (t.bind_to) {
    if (std::error_code ec = connector_.bind(a->socket, *t.bind_to, t.endpoint.address()))
      return fail_later(ec, "bind_to_interface", "binding to the interface for");
  }
  a->timer.expires_after(settings_.attempt_timeout);
  a->timer.async_wait([w = this->weak_from_this(), i, a](std::error_code ec) {
    auto self = w.lock();
    if (!self || ec || a->finished) return;
    self->failed(i, asio::error::timed_out, "attempt_timeout", "connecting to");
  });
  a->socket.async_connect(t.endpoint, [w = this->weak_from_this(), i, a](std::error_code ec) {
    auto self = w.lock();
    if (!self || a->finished) return;
    if (ec) return self->failed(i, ec, "tcp_connect", "TCP connect to");
    self->connected(i);
  });
}

// A relay target: the tunnel replaces the socket the connector made, then the same pinned
// handshake runs through it.
template <class Connector>
void basic_path_racer<Connector>::launch_relay(std::size_t i) {
  using layer = typename Connector::next_layer_type;
  auto a = attempts_[i];
  const auto fail_later = [this, i](std::error_code ec) {
    asio::post(ex_, [w = this->weak_from_this(), i, ec] {
      if (auto self = w.lock()) self->failed(i, ec, "relay_open", "opening a relay tunnel to");
    });
  };
  if constexpr (!std::is_constructible_v<layer, std::unique_ptr<channel::tunnel_io>>) {
    return fail_later(channel::errc::relay_unavailable); // a test connector without tunnels
  } else {
    if (!settings_.open_relay) return fail_later(channel::errc::relay_unavailable);
    a->timer.expires_after(settings_.attempt_timeout);
    a->timer.async_wait([w = this->weak_from_this(), i, a](std::error_code ec) {
      auto self = w.lock();
      if (!self || ec || a->finished) return;
      self->failed(i, asio::error::timed_out, "attempt_timeout", "connecting to");
    });
    settings_.open_relay([w = this->weak_from_this(), i,
                          a](std::error_code ec, std::unique_ptr<channel::tunnel_io> io) {
      auto self = w.lock();
      if (!self || a->finished) {
        if (io) io->close(); // the race is over: the accessory is told at once
        return;
      }
      if (ec) return self->failed(i, ec, "relay_open", "opening a relay tunnel to");
      a->socket = layer(std::move(io));
      self->handshake(i);
    });
  }
}

template <class Connector>
void basic_path_racer<Connector>::connected(std::size_t i) {
  auto a = attempts_[i];
  if (std::error_code ec = connector_.configure(a->socket, settings_.tcp_user_timeout))
    return failed(i, ec, "socket_configure", "configuring the socket to");
  handshake(i);
}

template <class Connector>
void basic_path_racer<Connector>::handshake(std::size_t i) {
  auto a = attempts_[i];
  a->stream = std::make_unique<stream_type>(std::move(a->socket), ctx_);
  a->stream->set_peer_id(trust_.device_id);
  a->stream->set_verifier(detail::pin_verifier(trust_, a->decision));
  a->stream->async_handshake(tls::role::client,
                             [w = this->weak_from_this(), i, a](std::error_code ec) {
                               auto self = w.lock();
                               if (!self || a->finished) return;
                               if (ec) {
                                 std::string step = "TLS handshake with";
                                 if (a->decision && !a->decision->accepted())
                                   step = a->decision->describe() + "; " + step;
                                 return self->failed(i, ec, "tls_handshake", step);
                               }
                               self->succeeded(i);
                             });
}

template <class Connector>
void basic_path_racer<Connector>::succeeded(std::size_t i) {
  attempts_[i]->finished = true;
  race_->on_attempt_succeeded(i, std::chrono::steady_clock::now());
  drive();
}

template <class Connector>
void basic_path_racer<Connector>::failed(std::size_t i, std::error_code ec, std::string_view step,
                                         const std::string& phrase) {
  auto& a = attempts_[i];
  if (!a || a->finished || done_) return;
  abort(i); // ends the attempt: its timer and socket
  std::optional<trust::trust_decision> refused;
  if (a->decision && !a->decision->accepted()) refused = a->decision;
  failures_.push_back({i, ec,
                       phrase + " " + describe_target(targets_[i]) + " failed: " + ec.message(),
                       step, std::move(refused)});
  if (!is_refusal(ec) && targets_[i].path.kind == core::interface_kind::relay)
    relay_failure_ = ec;
  else if (!is_refusal(ec))
    transport_failure_ = ec;
  else if (!refusal_)
    refusal_ = ec;
  race_->on_attempt_failed(i, ec, std::chrono::steady_clock::now());
  drive();
}

template <class Connector>
void basic_path_racer<Connector>::abort(std::size_t i) {
  auto& a = attempts_[i];
  if (!a || a->finished) return;
  a->finished = true;
  a->timer.cancel();
  std::error_code ignored;
  if (a->stream)
    a->stream->next_layer().close(ignored);
  else
    a->socket.close(ignored);
}

template <class Connector>
void basic_path_racer<Connector>::finish(outcome_type o) {
  if (done_) return;
  done_ = true;
  timer_.cancel();
  auto h = std::move(handler_);
  // Never inside a caller's frame (cancel() may be called from anywhere).
  asio::post(ex_, [h = std::move(h), o = std::make_shared<outcome_type>(std::move(o))]() mutable {
    if (h) h(std::move(*o));
  });
}

} // namespace lanyard::client::detail
