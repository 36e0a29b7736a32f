#include <lanyard/node/node.hpp>

#include "relay_service.hpp"
#include "service_advertising.hpp"

#include <lanyard/accessory/controller_admin.hpp>
#include <lanyard/channel/error.hpp>
#include <lanyard/core/accessory_txt.hpp>
#include <lanyard/core/admin_request.hpp>
#include <lanyard/core/app_message.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/provisioning_responder.hpp>
#include <lanyard/core/session_event.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/setup_credentials.hpp>
#include <lanyard/trust/window_clock.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <deque>
#include <set>
#include <utility>

namespace lanyard::node {

namespace {

// The pairing window's clock: monotonic while the node runs, so a wall clock set by NTP after
// boot neither closes nor extends the window (trust/window_clock.hpp).
using window_clock = trust::window_clock;

// Events nobody has taken yet; past this the oldest go (a neighbour's failed pairings must
// not grow the node's memory).
constexpr std::size_t max_queued_events = 256;

trust::controller_role role_of(core::paired_role r) {
  return r == core::paired_role::admin ? trust::controller_role::admin
                                       : trust::controller_role::user;
}

core::error_detail make_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return {};
  std::filesystem::create_directories(dir, ec);
  if (!ec)
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  if (!ec) return {};
  return core::error_detail{ec, "cannot create the accessory's state directory " + dir.string() +
                                    ": " + ec.message()}
      .with("path", dir.string());
}

} // namespace

struct node::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor e, node_options o)
      : ex(std::move(e)), opts(std::move(o)), window_timer(ex), setup_grace_timer(ex),
        relay_off_timer(ex), responder(opts.setup_mode) {}

  asio::any_io_executor ex;
  node_options opts;
  tls::identity me;
  std::optional<core::setup_code> new_code;
  std::shared_ptr<trust::controller_store> store;
  std::unique_ptr<accessory::server> srv;
  std::unique_ptr<service_advertising> adv; // avahi-daemon or the embedded responder
  std::unique_ptr<detail::relay_service> relay;
  core::setup_payload payload;
  core::txt_record txt;
  bool window_open = false;
  asio::steady_timer window_timer;
  asio::steady_timer setup_grace_timer; // leave_setup_mode(): the old listeners' last moments
  asio::steady_timer relay_off_timer;   // the relay switched off: the broker's last moments
  std::uint64_t relay_off_generation = 0;
  std::set<controller_id> live;
  core::provisioning_responder responder;
  controller_id joining_for{}; // the admin whose credentials the driver is trying

  std::deque<node_event> events;
  channel::completion<node_event> waiter;
  std::uint64_t waiter_id = 0;
  std::size_t dropped = 0;
  bool closed = false;

  void emit(core::diagnostic_level level, std::string_view id, std::error_code code,
            const std::string& text) {
    if (opts.diagnostics) opts.diagnostics(core::diagnostic{level, id, code, text, {}});
  }

  // --- events -----------------------------------------------------------------------------

  void push(node_event e) {
    if (waiter) return waiter.complete({}, std::move(e));
    if (events.size() >= max_queued_events) {
      events.pop_front();
      ++dropped;
    }
    events.push_back(std::move(e));
  }

  void next(channel::completion<node_event> c) {
    if (waiter) return c.complete(asio::error::in_progress, {});
    if (!events.empty()) {
      node_event e = std::move(events.front());
      events.pop_front();
      return c.complete({}, std::move(e));
    }
    if (closed) return c.complete(asio::error::operation_aborted, {});
    waiter = std::move(c);
    const std::uint64_t op = ++waiter_id;
    waiter.on_cancel([w = weak_from_this(), ex = ex, op](asio::cancellation_type) {
      asio::post(ex, [w, op] {
        if (auto self = w.lock(); self && self->waiter && self->waiter_id == op)
          self->waiter.complete(asio::error::operation_aborted, {});
      });
    });
  }

  // --- the state the TXT record follows ----------------------------------------------------

  // Runs after everything that can change the window or the controllers: reports a window
  // change, re-arms the expiry timer and publishes a changed TXT record. Nothing polls.
  void refresh() {
    if (closed) return;
    const core::pairing_window_state w = store->window();
    const auto now = window_clock::now();
    const bool open_now = w.open && now < w.deadline;
    if (open_now != window_open) {
      window_open = open_now;
      push(window_event{open_now, w.deadline, w.close_reason});
    }
    window_timer.cancel();
    if (open_now) {
      window_timer.expires_after(w.deadline - now);
      window_timer.async_wait([wk = weak_from_this()](std::error_code ec) {
        auto self = wk.lock();
        if (ec || !self) return;
        (void)self->store->expire_window(window_clock::now());
        self->refresh();
      });
    }
    core::txt_record next = opts.txt;
    // sf drops while a pairing exchange runs: the server reports its start and its end (at
    // the latest at its timeout, or when its connection ends), and both come through here.
    const core::accessory_txt_state state{opts.device_id, open_now, store->list().size(),
                                          store->max_controllers(),
                                          srv->pairings_in_progress() != 0};
    if (auto ec = build_txt(state, next)) {
      emit(core::diagnostic_level::error, "node.txt_failed", ec,
           "cannot build the TXT record: " + ec.message());
      return;
    }
    if (next == txt) return;
    txt = std::move(next);
    if (adv) {
      if (auto ec = adv->update_txt(txt)) push(advertising_event{txt, ec, {}, false});
    }
    push(advertising_event{txt, {}, {}, false});
  }

  // The record for `state`: the node's keys, then the product's derived ones (derive_txt) in
  // the same update, then the node's keys again (the product's hook may not change them).
  std::error_code build_txt(const core::accessory_txt_state& state, core::txt_record& next) {
    if (auto ec = core::set_accessory_txt(state, next)) return ec;
    if (!opts.derive_txt) return {};
    opts.derive_txt(txt, next);
    return core::set_accessory_txt(state, next);
  }

  // --- the server's reports ---------------------------------------------------------------

  void on_pairing(const accessory::server::pairing_report& r) {
    push(pairing_event{r.controller, r.name, r.error, role_of(r.role), r.attempts_left, r.method});
    if (!r.error && opts.close_window_after_pairing) {
      if (auto s = store->close_window(); s.failed())
        emit(core::diagnostic_level::error, "node.window_close_failed", s.code, s.message());
    }
    refresh();
  }

  void on_session(const controller_id& c, const core::session_event& ev) {
    if (auto* est = std::get_if<core::events::established>(&ev)) {
      // A new session gets the ticket; a resumed one has it (the session delivered it exactly
      // once), and settings changed since were pushed to it then.
      if (!est->resumed) send_ticket(c);
      if (live.insert(c).second)
        push(session_event{c, true, {}});
      else
        push(reconnect_event{c, est->resumed});
    } else if (auto* cl = std::get_if<core::events::closed>(&ev)) {
      if (live.erase(c) != 0) push(session_event{c, false, cl->error});
    }
  }

  void on_control(const controller_id& from, core::message_kind service, std::uint64_t seq,
                  std::span<const std::byte> message) {
    // Relay settings carry the broker passwords: they never reach the product's observer.
    if (service == core::message_kind::relay) return on_relay_message(from, seq, message);
    if (opts.on_control) opts.on_control(from, service, seq, message);
    const auto parsed = core::parse_app_message(message);
    std::vector<std::string> replies;
    std::optional<controller_id> removed;
    if (!parsed) {
      // Answered, so the app does not wait for a report that never comes.
      replies.push_back(error_text(seq, "bad_message", parsed.code.message()));
    } else if (service == core::message_kind::administration) {
      if (!accessory::handle_admin_message(*store, from, seq, parsed.message, window_clock::now(),
                                           replies))
        replies.push_back(error_text(seq, "unknown_verb", parsed.message.verb));
      // Only controller_remove removes: its fingerprint, if the store no longer has it.
      if (parsed.message.verb == "controller_remove") {
        const core::admin_parse_result r = core::parse_admin_request(parsed.message);
        const auto* rm = std::get_if<core::admin_requests::remove>(&r.request);
        if (r.ok && rm && !store->find(rm->controller)) removed = rm->controller;
      }
    } else if (service == core::message_kind::provisioning && opts.wifi) {
      if (!provision(from, seq, parsed.message))
        replies.push_back(error_text(seq, "unknown_verb", parsed.message.verb));
    } else if (service == core::message_kind::provisioning) {
      // No Wi-Fi driver: say so, so the app does not wait for a report that never comes.
      core::app_message m("error");
      m.set("re", seq).set("reason", "not_supported");
      if (std::string text; !core::encode_app_message(m, text)) replies.push_back(text);
    }
    for (const std::string& text : replies)
      send_control(from, service, text);
    // A removed controller loses its session now, not only its next connection (which the
    // store refuses). An admin that removed itself may not see its ok: its connection ends.
    if (removed) srv->end_session(*removed);
    refresh(); // an admin may have removed a controller or opened the window
  }

  // Service 3: an admin's relay settings (answered with its ticket); every connected
  // controller gets its ticket for the new settings at once.
  void on_relay_message(const controller_id& from, std::uint64_t seq,
                        std::span<const std::byte> message) {
    const auto rec = store->find(from);
    const bool admin = rec && rec->role == trust::controller_role::admin;
    const detail::relay_service::answer a = relay->on_message(from, admin, seq, message);
    if (a.failure.failed())
      emit(core::diagnostic_level::error, "node.relay_failed", a.failure.code, a.failure.message());
    if (a.switched_off) return switched_off(from, a);
    for (const auto& reply : a.replies)
      send_control(from, core::message_kind::relay, reply);
    if (!a.stored) return;
    push(relay_event{relay::mqtt_state::stopped, a.failure.code, from});
    for (const controller_id& c : live)
      if (c != from) send_ticket(c);
  }

  // The settings are gone; the broker connection goes once the admin acknowledged the answer,
  // which may be travelling through the relay itself, or after 10 s (an app that went away).
  void switched_off(const controller_id& from, const detail::relay_service::answer& a) {
    // Only this off's acknowledgement or timer finishes it: an earlier one's must not close
    // the connection before this answer got through.
    auto finish = [w = weak_from_this(), generation = ++relay_off_generation] {
      auto self = w.lock();
      if (!self || !self->relay || generation != self->relay_off_generation) return;
      self->relay_off_timer.cancel();
      self->relay->finish_switching_off();
    };
    for (const auto& reply : a.replies)
      srv->async_send_control(from, core::message_kind::relay, std::as_bytes(std::span(reply)), {},
                              [finish](std::error_code, std::uint64_t) { finish(); });
    relay_off_timer.expires_after(std::chrono::seconds(10));
    relay_off_timer.async_wait([finish](std::error_code ec) {
      if (!ec) finish();
    });
    relay_event off{relay::mqtt_state::stopped, {}, from};
    off.switched_off = true;
    push(std::move(off));
  }

  void send_ticket(const controller_id& to) {
    if (!relay) return;
    if (auto ticket = relay->ticket_for(to)) send_control(to, core::message_kind::relay, *ticket);
  }

  // "v1 error re=SEQ reason=REASON detail=..." (detail percent-encoded, at most 40 bytes).
  static std::string error_text(std::uint64_t seq, const char* reason, const std::string& detail) {
    core::app_message m("error");
    m.set("re", seq)
        .set("reason", reason)
        .set("detail", core::percent_encode(detail.substr(0, 40)));
    std::string text;
    (void)core::encode_app_message(m, text); // fits by construction
    return text;
  }

  void send_control(const controller_id& to, core::message_kind service, std::string_view text) {
    srv->async_send_control(to, service, std::as_bytes(std::span(text.data(), text.size())), {},
                            [](std::error_code, std::uint64_t) {});
  }
  void send_control(const controller_id& to, core::message_kind service,
                    std::span<const std::uint8_t> bytes) {
    srv->async_send_control(to, service, std::as_bytes(bytes), {},
                            [](std::error_code, std::uint64_t) {});
  }

  // The responder decides (only an admin, only in setup mode, one join at a time); the driver
  // joins; every step is answered to the admin that asked and reported as an event.
  // False: not a provisioning verb.
  bool provision(const controller_id& from, std::uint64_t seq, const core::app_message& m) {
    const auto rec = store->find(from);
    const auto role = rec && rec->role == trust::controller_role::admin
                          ? core::provisioning_responder::sender::admin
                          : core::provisioning_responder::sender::user;
    core::provisioning_responder::outcome out;
    if (responder.on_message(m, seq, role, out)) return false;
    if (!out.reply.empty()) send_control(from, core::message_kind::provisioning, out.reply);
    if (!out.join) return true;
    joining_for = from;
    push(provisioning_event{from, core::provisioning_state::connecting, {}, {}});
    const core::wifi_credentials network{std::string(out.join->ssid),
                                         std::string(out.join->passphrase)};
    opts.wifi->join(network, [w = weak_from_this()](join_result r) {
      if (auto self = w.lock()) self->joined(std::move(r));
    });
    return true;
  }

  void joined(join_result r) {
    if (closed) return;
    std::string_view reply;
    provisioning_event ev{joining_for, core::provisioning_state::connected, r.addresses, {}};
    std::error_code ec;
    if (r.failure) {
      ev.state = core::provisioning_state::failed;
      ev.reason = *r.failure;
      ec = responder.failed(*r.failure, reply);
    } else {
      const std::vector<std::string_view> addresses(r.addresses.begin(), r.addresses.end());
      ec = responder.joined(addresses, reply);
    }
    if (ec) { // a driver bug (no addresses, a second verdict): the app is told it timed out
      emit(core::diagnostic_level::error, "node.wifi_driver_verdict_invalid", ec,
           "the Wi-Fi driver's verdict is invalid: " + ec.message());
      if (responder.current() != core::provisioning_responder::phase::joining) return;
      ev = {joining_for, core::provisioning_state::failed, {}, core::provisioning_failure::timeout};
      (void)responder.failed(core::provisioning_failure::timeout, reply);
    }
    send_control(joining_for, core::message_kind::provisioning, reply);
    push(std::move(ev));
  }

  void shut() {
    if (closed) return;
    closed = true;
    window_timer.cancel();
    setup_grace_timer.cancel();
    relay_off_timer.cancel();
    if (adv) adv->withdraw(); // goodbye packets: browsers see it leave at once
    if (relay) relay->close();
    if (srv) srv->close();
    if (waiter && events.empty()) waiter.complete(asio::error::operation_aborted, {});
  }

  // (Re)publishes the service: the first listener's port, on opts.advertise_interface.
  std::error_code publish() {
    discovery::service_description d;
    d.name = opts.name.empty() ? opts.device_id : opts.name;
    d.type = opts.service_type;
    d.port = srv->local_endpoints().front().port();
    d.txt = txt;
    d.interface = opts.advertise_interface;
    return adv->publish(std::move(d));
  }
};

core::error_detail node::open(executor_type ex, node_options options, std::unique_ptr<node>& out) {
  if (options.state_dir.empty() || options.device_id.empty())
    return {std::make_error_code(std::errc::invalid_argument),
            "node_options: state_dir and device_id are required"};
  if (auto e = make_private_dir(options.state_dir)) return e;
  auto i = std::make_shared<impl>(ex, std::move(options));
  const node_options& o = i->opts;

  core::error_detail error;
  i->me = tls::identity_files::load_or_create(o.state_dir / "identity", o.device_id, error);
  if (error) return error;
  // Confirmation pairing: no setup secret exists, so none is made or loaded.
  std::optional<trust::setup_credentials> creds;
  if (o.pairing == pairing_mode::setup_secret) {
    creds.emplace();
    if (trust::store_status s = trust::load_or_create_setup_credentials(
            o.state_dir / "setup-credentials", *creds, i->new_code);
        s.failed())
      return s;
  }
  i->store = std::make_shared<trust::controller_store>(o.state_dir / "controllers");
  if (trust::store_status s = i->store->load(); s.failed()) return s;
  (void)i->store->expire_window(window_clock::now()); // one that ran out while it was off
  // In setup mode an accessory that has controllers opens it again only when pairing needs
  // the setup secret: by confirmation alone (no secret), a window at every boot of an
  // unprovisioned accessory would be an invitation to whoever is near; the button opens it.
  const bool reopen_for_setup = o.setup_mode && o.pairing == pairing_mode::setup_secret;
  if (o.open_window_when_unpaired && (i->store->list().empty() || reopen_for_setup) &&
      !i->store->window().open) {
    // Locked after 20 wrong proofs (a neighbour guessing): a reboot must not reopen it, and
    // must not keep the accessory from starting either. It runs with the window closed; the
    // pairing button (open_pairing_window()) reopens it.
    if (trust::store_status s = i->store->open_window(window_clock::now(), o.pairing_window);
        s.code == core::pairing_errc::too_many_attempts)
      i->emit(core::diagnostic_level::warning, "node.window_locked", s.code,
              "the pairing window stays closed after too many wrong attempts: press the "
              "pairing button (node::open_pairing_window()) to open it");
    else if (s.failed())
      return s;
  }

  i->payload.device_id = o.device_id;
  i->payload.device_fingerprint = i->me.fingerprint();
  if (creds) i->payload.setup_secret = creds->secret;
  i->payload.needs_provisioning = o.setup_mode;
  if (o.setup_mode && !o.softap_ssid.empty()) i->payload.softap_ssid = o.softap_ssid;

  accessory::server_options so = o.server;
  so.receive = channel::receive_mode::pull;
  so.pairing.credentials = creds;
  so.pairing.allow_confirmation = o.pairing == pairing_mode::confirmation;
  if (!so.diagnostics) so.diagnostics = o.diagnostics;
  tls::context ctx = tls::context::create(i->me, {}, error);
  if (error) return error;
  i->srv = std::make_unique<accessory::server>(ex, std::move(ctx), i->store, std::move(so));
  std::weak_ptr<impl> w = i;
  i->srv->set_pairing_handler([w](const accessory::server::pairing_report& r) {
    if (auto self = w.lock()) self->on_pairing(r);
  });
  // An exchange under way is reported, and takes sf down (refresh() asks the server how many
  // run).
  i->srv->set_pairing_start_handler([w](const accessory::server::pairing_start& s) {
    auto self = w.lock();
    if (!self) return;
    self->push(pairing_started_event{s.controller, s.name, s.method, s.peer});
    self->refresh();
  });
  i->srv->set_event_handler([w](const controller_id& c, const core::session_event& ev) {
    if (auto self = w.lock()) self->on_session(c, ev);
  });
  i->srv->set_control_handler([w](const controller_id& c, core::message_kind k, std::uint64_t seq,
                                  std::span<const std::byte> p) {
    if (auto self = w.lock()) self->on_control(c, k, seq, p);
  });
  detail::relay_service::hooks relay_hooks;
  relay_hooks.adopt = [w](channel::transport t, const controller_id& opener, std::string peer) {
    if (auto self = w.lock(); self && !self->closed)
      self->srv->adopt_tunnel(std::move(t), opener, std::move(peer));
  };
  relay_hooks.on_state = [w](relay::mqtt_state st, std::error_code why) {
    if (auto self = w.lock()) self->push(relay_event{st, why, std::nullopt});
  };
  i->relay = std::make_unique<detail::relay_service>(ex, o.state_dir, i->me.fingerprint(), i->store,
                                                     std::move(relay_hooks));
  // Without its relay state the accessory still works at home: reported, not fatal.
  if (trust::store_status s = i->relay->open(); s.failed()) {
    i->emit(core::diagnostic_level::error, "node.relay_failed", s.code,
            "the relay is off: " + s.message());
    i->push(relay_event{relay::mqtt_state::stopped, s.code, std::nullopt});
  }
  for (const auto& ep : o.listen)
    if (auto ec = i->srv->listen(ep)) {
      i->srv->close();
      return core::error_detail{ec, "cannot listen on " + ep.address().to_string() + " port " +
                                        std::to_string(ep.port()) + ": " + ec.message()}
          .with("port", std::uint64_t{ep.port()});
    }

  i->refresh(); // the first TXT record and the window's timer
  if (o.advertise) {
    // The embedded responder's host name is the device id ("lamp-lab.local").
    i->adv = service_advertising::make(ex, o.mdns, o.device_id);
    i->adv->on_event([w](const discovery::advertiser_event& e) {
      auto self = w.lock();
      if (!self) return;
      using kind = discovery::advertiser_event_kind;
      if (e.kind == kind::registered || e.kind == kind::renamed)
        self->push(advertising_event{self->txt, {}, e.name, e.kind == kind::renamed});
      else
        self->push(advertising_event{self->txt, e.error, {}, false});
    });
    if (auto ec = i->publish()) {
      i->shut();
      std::string where = o.advertise_interface.empty()
                              ? std::string()
                              : " on interface '" + o.advertise_interface + "'";
      return core::error_detail{ec, "cannot advertise '" + o.service_type + "'" + where + " (" +
                                        to_string(o.mdns) + " mDNS): " + ec.message()}
          .with("mdns", std::string(to_string(o.mdns)));
    }
  }
  out.reset(new node(std::move(i)));
  return {};
}

node::node(std::shared_ptr<impl> i) : impl_(std::move(i)) {}

node::~node() {
  impl_->shut();
}

node::executor_type node::get_executor() const noexcept {
  return impl_->ex;
}

const std::string& node::device_id() const noexcept {
  return impl_->opts.device_id;
}

const core::fingerprint& node::fingerprint() const noexcept {
  return impl_->me.fingerprint();
}

const core::setup_payload& node::setup_payload() const noexcept {
  return impl_->payload;
}

std::string node::setup_payload_text() const {
  std::string text;
  (void)core::encode_setup_payload(impl_->payload, text); // valid by construction
  return text;
}

const std::optional<core::setup_code>& node::new_setup_code() const noexcept {
  return impl_->new_code;
}

const core::txt_record& node::txt() const noexcept {
  return impl_->txt;
}

std::vector<std::uint16_t> node::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& ep : impl_->srv->local_endpoints())
    out.push_back(ep.port());
  return out;
}

core::error_detail node::open_pairing_window() {
  trust::store_status s = impl_->store->open_window(window_clock::now(), impl_->opts.pairing_window,
                                                    core::window_opener::local);
  impl_->refresh();
  if (s.failed()) return s;
  return {};
}

core::error_detail node::close_pairing_window() {
  trust::store_status s = impl_->store->close_window();
  impl_->refresh();
  if (s.failed()) return s;
  return {};
}

std::vector<controller_id> node::sessions() const {
  return {impl_->live.begin(), impl_->live.end()};
}

std::size_t node::dropped_events() const noexcept {
  return impl_->dropped;
}

std::size_t node::broadcast(std::span<const std::byte> payload) {
  std::size_t n = 0;
  for (const controller_id& c : impl_->live) {
    impl_->srv->async_send(
        c, payload,
        channel::send_options{channel::send_mode::wait, channel::send_completion_mode::queued},
        [](std::error_code, std::uint64_t) {});
    ++n;
  }
  return n;
}

core::error_detail node::set_txt(core::txt_record product_keys) {
  // Checked on a copy first: a record that cannot be built leaves the advertised one as it is.
  core::txt_record probe = product_keys;
  const core::accessory_txt_state state{impl_->opts.device_id, false, 0, 0};
  if (auto ec = core::set_accessory_txt(state, probe))
    return {ec, "the TXT record does not fit with these keys: " + ec.message()};
  impl_->opts.txt = std::move(product_keys);
  impl_->refresh(); // publishes only if the record changed
  return {};
}

bool node::setup_mode() const noexcept {
  return impl_->payload.needs_provisioning;
}

core::error_detail node::leave_setup_mode(std::vector<asio::ip::tcp::endpoint> listen,
                                          std::chrono::milliseconds grace) {
  impl& i = *impl_;
  if (i.closed) return {asio::error::operation_aborted, "the node is closed"};
  if (listen.empty())
    return {std::make_error_code(std::errc::invalid_argument), "leave_setup_mode: no listener"};
  const std::vector<asio::ip::tcp::endpoint> old = i.srv->local_endpoints();
  // The old listeners stop accepting first: Linux refuses a wildcard listener on a port that a
  // specific address already listens on. Their connections stay up through the grace period.
  for (const auto& ep : old)
    (void)i.srv->stop_listening(ep);
  for (const auto& ep : listen)
    if (auto ec = i.srv->listen(ep)) {
      // Back to how it was (best effort): still in setup mode, reachable where it was.
      for (const auto& now : i.srv->local_endpoints())
        (void)i.srv->stop_listening(now);
      for (const auto& ep_old : old)
        (void)i.srv->listen(ep_old);
      return core::error_detail{ec, "cannot listen on " + ep.address().to_string() + " port " +
                                        std::to_string(ep.port()) + ": " + ec.message()}
          .with("port", std::uint64_t{ep.port()});
    }
  i.opts.setup_mode = false;
  i.payload.needs_provisioning = false;
  i.payload.softap_ssid.reset();
  i.responder = core::provisioning_responder(false); // provisioning refused from now on
  i.opts.advertise_interface.clear();
  if (i.adv) {
    if (auto ec = i.publish()) i.push(advertising_event{i.txt, ec, {}, false});
  }
  i.setup_grace_timer.expires_after(grace);
  i.setup_grace_timer.async_wait([w = i.weak_from_this(), old](std::error_code ec) {
    auto self = w.lock();
    if (ec || !self || self->closed) return;
    std::size_t ended = 0;
    for (const auto& ep : old)
      ended += self->srv->end_connections_through(ep);
    self->push(setup_listeners_closed_event{old, ended});
  });
  return {};
}

std::vector<asio::ip::tcp::endpoint> node::local_endpoints() const {
  return impl_->srv->local_endpoints();
}

bool node::advertised() const noexcept {
  return impl_->adv && impl_->adv->registered();
}

void node::close() {
  impl_->shut();
}

accessory::server& node::server() noexcept {
  return *impl_->srv;
}

trust::controller_store& node::controllers() noexcept {
  return *impl_->store;
}

void node::next_event_impl(channel::completion<node_event> c) {
  impl_->next(std::move(c));
}

} // namespace lanyard::node
