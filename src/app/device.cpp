#include <lanyard/app/device.hpp>

#include "controller_context.hpp"
#include "event_queue.hpp"
#include "pair_request.hpp"
#include "provisioning_reply.hpp"

#include <lanyard/client/client_channel.hpp>
#include <lanyard/core/channel_error.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include <utility>

namespace lanyard::app {

using client::channel_state;

namespace {

bool over(channel_state s) noexcept {
  return s == channel_state::failed || s == channel_state::cancelled;
}

} // namespace

struct device::impl : std::enable_shared_from_this<impl> {
  impl(std::string device_id, std::shared_ptr<detail::controller_context> c)
      : id(std::move(device_id)), ctx(std::move(c)), events(ctx->options.max_queued_events) {}

  std::string id;
  std::shared_ptr<detail::controller_context> ctx;
  std::unique_ptr<client::client_channel> ch;
  channel_state state = channel_state::setup;
  // The error a failed operation of this layer reported last (a provisioning refusal), when
  // newer than the channel's.
  core::error_detail own_error;

  detail::event_queue events;
  channel::completion<device_event> event_waiter;
  std::uint64_t event_waiter_id = 0;
  bool events_closed = false; // cancel(): a waiter finds the queue empty and ends

  channel::completion<pairing_result> pair_waiter;
  std::uint64_t pair_waiter_id = 0;

  channel::completion<provisioning_outcome> provision_waiter;
  std::uint64_t provision_waiter_id = 0;
  provisioning_progress_handler provision_progress;       // of the running provisioning
  std::optional<std::uint64_t> provision_seq;             // the credentials' CONTROL seq
  std::vector<core::provisioning_progress> early_reports; // before their seq was known
  std::vector<detail::provisioning_reply> early_refusals;

  std::uint64_t next_op_id = 0;
  std::uint64_t channel_generation = 0;

  // --- the channel ------------------------------------------------------------------------

  void make_channel(detail::pair_request pairing) {
    const controller_options& co = ctx->options;
    client::client_options o;
    o.trust.device_id = id;
    o.trust.store = ctx->store;
    // A key no payload names is pinned only after a pairing exchange proved it (the code's
    // SPAKE2+, or the person's confirmation): the channel pairs before it commits any pin.
    // Without credentials nothing new is ever pinned.
    o.trust.mode = pairing.credentials && !pairing.expected ? trust::trust_mode::tofu
                                                            : trust::trust_mode::verified_first_use;
    o.trust.expected_fingerprint = pairing.expected;
    o.trust.pairing = std::move(pairing.credentials);
    o.trust.pair_when_pinned = pairing.prove_again;
    o.trust.confirm = std::move(pairing.confirm);
    o.trust.controller_name = co.name;
    o.receive = client::receive_mode::pull;
    o.session = co.session;
    o.backoff = co.backoff;
    o.connect_timeout = co.connect_timeout;
    o.paths = co.paths;
    o.diagnostics = co.diagnostics;
    // The old channel (if any) ends here: its pending receives complete with operation_aborted.
    // What it reports while it ends (cancelled) is about the old channel, not about the
    // operations now waiting on the new one: its handlers check the generation.
    const std::uint64_t gen = ++channel_generation;
    ch.reset();
    ch = std::make_unique<client::client_channel>(ctx->executor, ctx->tls, std::move(o));
    std::weak_ptr<impl> w = weak_from_this();
    auto current = [w, gen]() -> std::shared_ptr<impl> {
      auto self = w.lock();
      return self && self->channel_generation == gen ? self : nullptr;
    };
    ch->set_state_handler([current](channel_state s, std::error_code why) {
      if (auto self = current()) self->on_state(s, why);
    });
    ch->set_path_handler([current](const client::path_change& c) {
      if (auto self = current()) self->push_event(path_event{c, 0});
    });
    ch->set_session_reset_handler([current](const core::events::session_reset& r) {
      if (auto self = current()) self->push_event(session_reset_event{r.unacked});
    });
    ch->set_control_handler(
        [current](core::message_kind service, std::uint64_t, std::span<const std::byte> payload) {
          if (auto self = current(); self && service == core::message_kind::provisioning)
            self->on_provisioning_message(payload);
        });
    events_closed = false;
    own_error = {};
    ch->start(id, ctx->directory);
  }

  void on_state(channel_state s, std::error_code why) {
    const channel_state from = std::exchange(state, s);
    push_event(state_event{from, s, why, 0});
    if (s == channel_state::ready && pair_waiter) {
      pairing_result r{id, {}, ch ? ch->paired_role() : std::nullopt};
      if (auto rec = ctx->store->find(id)) r.fingerprint = rec->fingerprint;
      pair_waiter.complete({}, std::move(r));
    }
    if (s == channel_state::failed) {
      if (pair_waiter) pair_waiter.complete(why, {});
      if (provision_waiter) provision_waiter.complete(why, {});
    }
    if (s == channel_state::cancelled) {
      if (pair_waiter) pair_waiter.complete(asio::error::operation_aborted, {});
      if (provision_waiter) provision_waiter.complete(asio::error::operation_aborted, {});
      // cancel() or async_close(): event waits end once the queue is empty.
      events_closed = true;
    }
  }

  // --- events -----------------------------------------------------------------------------

  void push_event(device_event e) {
    events.push(std::move(e));
    if (event_waiter) event_waiter.complete({}, *events.pop());
  }

  void next_event(channel::completion<device_event> c) {
    if (event_waiter) return c.complete(asio::error::in_progress, {});
    if (auto e = events.pop()) return c.complete({}, std::move(*e));
    if (events_closed) return c.complete(asio::error::operation_aborted, {});
    event_waiter = std::move(c);
    const std::uint64_t op = event_waiter_id = ++next_op_id;
    event_waiter.on_cancel([w = weak_from_this(), ex = ctx->executor, op](asio::cancellation_type) {
      asio::post(ex, [w, op] {
        if (auto self = w.lock(); self && self->event_waiter && self->event_waiter_id == op)
          self->event_waiter.complete(asio::error::operation_aborted, {});
      });
    });
  }

  // --- pairing ----------------------------------------------------------------------------

  void pair(detail::pair_request r, channel::completion<pairing_result> c) {
    if (pair_waiter) return c.complete(asio::error::in_progress, {});
    const auto pinned = ctx->store->find(id);
    // A payload naming another key than the one pinned is no pairing to report as done: the
    // accessory was replaced or someone forged the label (trust.md § key changes).
    if (pinned && r.expected && pinned->fingerprint != *r.expected)
      return c.complete(trust::trust_errc::key_changed, {});
    if (ch && state == channel_state::ready && pinned && !r.prove_again)
      return c.complete({}, pairing_result{id, pinned->fingerprint, std::nullopt});
    pair_waiter = std::move(c);
    const std::uint64_t op = pair_waiter_id = ++next_op_id;
    pair_waiter.on_cancel(
        [w = weak_from_this(), ex = ctx->executor, op](asio::cancellation_type t) {
          if ((t & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) ==
              asio::cancellation_type::none)
            return;
          asio::post(ex, [w, op] {
            auto self = w.lock();
            if (!self || !self->pair_waiter || self->pair_waiter_id != op) return;
            self->pair_waiter.complete(asio::error::operation_aborted, {});
            if (self->ch) self->ch->cancel(); // stop trying: the app gave up
          });
        });
    // A channel that is connecting without credentials would be refused (not_paired): a new
    // one pairs on its first connection.
    make_channel(std::move(r));
  }

  // --- provisioning -----------------------------------------------------------------------

  void provision(const core::wifi_credentials& creds, provisioning_progress_handler progress,
                 channel::completion<provisioning_outcome> c) {
    std::string text;
    if (auto ec = core::encode_wifi_credentials(creds, text)) return c.complete(ec, {});
    if (provision_waiter) return c.complete(asio::error::in_progress, {});
    if (!ch || over(state)) make_channel({});
    provision_waiter = std::move(c);
    provision_progress = std::move(progress);
    provision_seq.reset();
    early_reports.clear();
    early_refusals.clear();
    const std::uint64_t op = provision_waiter_id = ++next_op_id;
    provision_waiter.on_cancel([w = weak_from_this(), ex = ctx->executor,
                                op](asio::cancellation_type t) {
      if ((t & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) ==
          asio::cancellation_type::none)
        return;
      asio::post(ex, [w, op] {
        if (auto self = w.lock(); self && self->provision_waiter && self->provision_waiter_id == op)
          self->provision_waiter.complete(asio::error::operation_aborted, {});
      });
    });
    // Acknowledged mode: an error here (a session reset before the accessory took the
    // credentials, a failed channel) ends the provisioning. The accessory's reports may arrive
    // before the acknowledgement; they wait in early_reports until the seq is known.
    auto payload = std::as_bytes(std::span(text.data(), text.size()));
    ch->send_impl(payload, {},
                  channel::send_completion(
                      [w = weak_from_this(), op](std::error_code ec, std::uint64_t seq) {
                        auto self = w.lock();
                        if (!self || !self->provision_waiter || self->provision_waiter_id != op)
                          return;
                        if (ec) return self->provision_waiter.complete(ec, {});
                        self->provision_seq = seq;
                        self->replay_early();
                      },
                      ctx->executor),
                  core::message_kind::provisioning);
  }

  void replay_early() {
    auto reports = std::move(early_reports);
    auto refusals = std::move(early_refusals);
    for (auto& r : refusals)
      on_reply(std::move(r));
    for (auto& p : reports)
      on_reply(detail::provisioning_reply{p, {}});
  }

  void on_provisioning_message(std::span<const std::byte> payload) {
    detail::provisioning_reply reply;
    if (!detail::read_provisioning_reply(payload, reply)) return; // not a report: ignored
    if (!provision_waiter) {
      // Unsolicited, or after the operation ended: still news for the app.
      if (!reply.refusal) push_event(provisioning_event{reply.progress});
      return;
    }
    if (!provision_seq) {
      if (reply.refusal)
        early_refusals.push_back(std::move(reply));
      else
        early_reports.push_back(reply.progress);
      return;
    }
    on_reply(std::move(reply));
  }

  void on_reply(detail::provisioning_reply reply) {
    if (!provision_waiter) return;
    // Answers to another request (re is the CONTROL seq of the credentials they answer; 0:
    // unsolicited) are reported but do not end this one.
    const bool ours = reply.progress.re == *provision_seq;
    if (reply.refusal) {
      if (!ours && reply.progress.re != 0) return;
      own_error = std::move(reply.refusal);
      return provision_waiter.complete(own_error.code, {});
    }
    push_event(provisioning_event{reply.progress});
    if (!ours) return;
    if (provision_progress) provision_progress(reply.progress);
    if (!provision_waiter) return; // the progress handler cancelled the device
    switch (reply.progress.state) {
    case core::provisioning_state::connecting:
      return;
    case core::provisioning_state::connected:
      return provision_waiter.complete({}, provisioning_outcome{reply.progress.addresses});
    case core::provisioning_state::failed:
      own_error =
          core::error_detail{core::to_error_code(reply.progress.reason),
                             "the accessory could not join the network: " +
                                 std::string(core::to_string(reply.progress.reason)) +
                                 "; it stays in setup mode"}
              .with("provisioning_failure", std::string(core::to_string(reply.progress.reason)));
      return provision_waiter.complete(own_error.code, {});
    }
  }

  // --- ending -----------------------------------------------------------------------------

  void cancel() {
    if (ch) ch->cancel(); // state cancelled: the pairing and provisioning waiters end there
    if (pair_waiter) pair_waiter.complete(asio::error::operation_aborted, {});
    if (provision_waiter) provision_waiter.complete(asio::error::operation_aborted, {});
    events_closed = true;
    if (event_waiter && events.empty()) event_waiter.complete(asio::error::operation_aborted, {});
  }
};

device::device(passkey, std::string id, std::shared_ptr<detail::controller_context> ctx)
    : impl_(std::make_shared<impl>(std::move(id), std::move(ctx))) {}

device::~device() {
  impl_->cancel();
  impl_->ch.reset();
}

const std::string& device::id() const noexcept {
  return impl_->id;
}

device::executor_type device::get_executor() const noexcept {
  return impl_->ctx->executor;
}

channel_state device::state() const noexcept {
  return impl_->state;
}

core::error_detail device::last_error() const {
  if (impl_->own_error) return impl_->own_error;
  return impl_->ch ? impl_->ch->last_error_detail() : core::error_detail{};
}

std::optional<client::path_info> device::current_path() const {
  return impl_->ch ? impl_->ch->current_path() : std::nullopt;
}

void device::start() {
  if (impl_->ch && !over(impl_->state)) return;
  impl_->make_channel({});
}

void device::cancel() {
  impl_->cancel();
}

void device::send_impl(std::span<const std::byte> payload, channel::send_options options,
                       channel::send_completion c) {
  if (!impl_->ch) return c.complete(core::channel_errc::invalid_state, 0);
  impl_->ch->send_impl(payload, options, std::move(c));
}

void device::close_impl(channel::completion<> c) {
  if (!impl_->ch) return c.complete({});
  impl_->ch->close_impl(std::move(c));
}

void device::receive_impl(channel::receive_completion c) {
  if (!impl_->ch) return c.complete(core::channel_errc::invalid_state, {});
  impl_->ch->receive_impl(std::move(c));
}

std::optional<core::message> device::try_receive() {
  return impl_->ch ? impl_->ch->try_receive() : std::nullopt;
}

void device::next_event_impl(channel::completion<device_event> c) {
  impl_->next_event(std::move(c));
}

void device::provision_impl(core::wifi_credentials credentials,
                            provisioning_progress_handler progress,
                            channel::completion<provisioning_outcome> c) {
  impl_->provision(credentials, std::move(progress), std::move(c));
}

void device::pair_impl(detail::pair_request request, channel::completion<pairing_result> done) {
  impl_->pair(std::move(request), std::move(done));
}

void device::directory_changed(std::span<const discovery::directory_event> events) {
  if (impl_->ch) impl_->ch->directory_changed(events);
}

} // namespace lanyard::app
