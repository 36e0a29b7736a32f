// lanyard::firmware::accessory with several controllers, over memory: pairing with the setup
// secret, sessions per controller, resume after a lost connection and after a reboot, the
// window's refusals, a flood of bare connections, provisioning by the admin only, storage
// failures. Real TLS (mbedTLS), real pairing crypto, real sessions; literal timestamps.
#include "firmware_harness.hpp"

#include <lanyard/crypto/pairing_crypto.hpp>

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/firmware/error.hpp>

#include <array>
#include <limits>

using namespace fw_test;

#if defined(ASIO_STANDALONE)
#error "a module that uses asio is linked into the firmware test: link lanyard::firmware only"
#endif

TEST_CASE("firmware accessory: two controllers pair, the first is admin, each has its session") {
  bench b;
  REQUIRE(!b.boot());
  CHECK(b.acc->pairing_window_open()); // first boot: setup mode

  controller phone("phone", b.id.fingerprint());
  controller tablet("tablet", b.id.fingerprint());
  pair(b, phone, t0);
  // One pairing per opening: the window closed behind the phone; the button opens it again.
  CHECK(!b.acc->pairing_window_open());
  // A neighbour who photographed the label: the right secret, but the window is closed.
  controller neighbour("neighbour", b.id.fingerprint());
  neighbour.connect(b, t0 + 1s, secret_of(b));
  run(b, {&neighbour}, t0 + 1s);
  CHECK(!neighbour.connected);
  CHECK(b.closes.back().why == core::pairing_errc::window_closed);
  CHECK(b.paired.size() == 1);
  REQUIRE(!b.acc->open_pairing_window(t0 + 1s));
  pair(b, tablet, t0 + 1s);

  REQUIRE(b.paired.size() == 2);
  CHECK(b.paired[0].controller == phone.key());
  CHECK(b.paired[0].role == core::paired_role::admin);
  CHECK(b.paired[1].role == core::paired_role::user);
  REQUIRE(b.acc->controllers().list().size() == 2);
  CHECK(b.acc->controllers().find(tablet.key())->name() == "tablet");
  CHECK(b.acc->session_count() == 2);

  phone.session.send(text("on"), t0 + 2s);
  phone.flush_session(t0 + 2s);
  tablet.session.send(text("brightness 40"), t0 + 2s);
  tablet.flush_session(t0 + 2s);
  run(b, {&phone, &tablet}, t0 + 2s);
  REQUIRE(b.messages.size() == 2);
  CHECK(b.messages[0].controller == phone.key());
  CHECK(as_string(b.messages[0].payload) == "on");
  CHECK(b.messages[1].controller == tablet.key());
  CHECK(as_string(b.messages[1].payload) == "brightness 40");

  // Each controller hears only what was sent to it.
  REQUIRE(!b.acc->send(tablet.key(), text("state on 40"), t0 + 3s).error);
  run(b, {&phone, &tablet}, t0 + 3s);
  CHECK(tablet.received == std::vector<std::string>{"state on 40"});
  CHECK(phone.received.empty());

  // The controllers were persisted: a fresh table reads the same two.
  fw::controller_table stored(8);
  REQUIRE(!stored.parse(b.plat.storage.at(fw::storage_key::controllers)));
  CHECK(stored.list().size() == 2);
  CHECK(stored.find(phone.key())->role == core::paired_role::admin);
}

TEST_CASE("firmware accessory: a session resumes on a new connection with nothing lost") {
  bench b;
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);

  phone.disconnect(b, t0 + 1s);
  CHECK(!b.acc->connected(phone.key()));
  CHECK(b.acc->session_count() == 1); // lingering
  // Sent while the phone is away: waits in the replay buffer.
  REQUIRE(!b.acc->send(phone.key(), text("reading 1"), t0 + 2s).error);
  REQUIRE(!b.acc->send(phone.key(), text("reading 2"), t0 + 2s).error);

  phone.connect(b, t0 + 3s);
  run(b, {&phone}, t0 + 3s);
  CHECK(b.acc->connected(phone.key()));
  CHECK(phone.received == std::vector<std::string>{"reading 1", "reading 2"});
  CHECK(!phone.reset_seen);
  CHECK(b.resets.empty());
}

TEST_CASE("firmware accessory: a controller that lost its session gets a new one; the "
          "messages it never acknowledged are counted") {
  bench b;
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);
  // Traffic numbers the session on the wire: a session the phone forgets is then reset.
  REQUIRE(!b.acc->send(phone.key(), text("reading 0"), t0 + 500ms).error);
  run(b, {&phone}, t0 + 500ms);
  REQUIRE(phone.received == std::vector<std::string>{"reading 0"});
  phone.disconnect(b, t0 + 1s);
  REQUIRE(!b.acc->send(phone.key(), text("reading 1"), t0 + 2s).error);
  REQUIRE(!b.acc->send(phone.key(), text("reading 2"), t0 + 2s).error);
  const std::size_t unacked = b.acc->session_of(phone.key())->replay_count();
  REQUIRE(unacked >= 2);

  // The app was reinstalled (its key kept): it comes back without a session.
  phone.session = core::session(core::session_role::client);
  phone.received.clear();
  phone.connect(b, t0 + 3s);
  run(b, {&phone}, t0 + 3s);
  CHECK(b.acc->connected(phone.key()));
  REQUIRE(b.resets.size() == 1);
  CHECK(b.resets[0].controller == phone.key());
  CHECK(b.resets[0].unacked == unacked);
  CHECK(phone.received.empty());
}

TEST_CASE("firmware accessory: a new connection takes over; the old one is closed") {
  bench b;
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);
  const fw::connection_id old = phone.conn;
  // The phone moved networks: its old connection is not dead yet to the accessory.
  phone.connected = false;
  phone.tls.reset();
  phone.session.on_disconnected(t0 + 1s);
  phone.connect(b, t0 + 1s);
  run(b, {&phone}, t0 + 1s);
  CHECK(b.acc->connected(phone.key()));
  REQUIRE(!b.closes.empty());
  CHECK(b.closes.back().id == old);
  CHECK(b.closes.back().why == core::channel_errc::connection_replaced);
  b.acc->closed(old, t0 + 1s); // the driver closed it; its session stays with the new one
  CHECK(b.acc->connected(phone.key()));
}

TEST_CASE("firmware accessory: after a reboot paired controllers come back; strangers cannot") {
  bench b;
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);
  phone.session.send(text("before reboot"), t0);
  phone.flush_session(t0);
  run(b, {&phone}, t0);
  REQUIRE(b.messages.size() == 1);
  phone.disconnect(b, t0 + 1s);

  // Reboot: the window a first boot opened has run out meanwhile.
  b.plat.wall += std::chrono::minutes(16);
  REQUIRE(!b.boot(t0 + 2s));
  CHECK(!b.acc->pairing_window_open()); // controllers exist: no setup mode
  CHECK(b.acc->controllers().list().size() == 1);

  // The phone reconnects: the accessory lost its session, so the phone's is reset.
  phone.session.send(text("after reboot"), t0 + 3s);
  phone.connect(b, t0 + 3s);
  run(b, {&phone}, t0 + 3s);
  CHECK(phone.session.state() == core::session_state::established);
  CHECK(phone.reset_seen);

  // A stranger with the right secret: the window is closed, the handshake refuses its key.
  controller stranger("stranger", b.id.fingerprint());
  stranger.connect(b, t0 + 4s, secret_of(b));
  run(b, {&stranger}, t0 + 4s);
  CHECK(!stranger.connected);
  CHECK(b.paired.size() == 1); // the phone's, before the reboot
  CHECK(b.acc->controllers().list().size() == 1);
  REQUIRE(!b.closes.empty());
  CHECK(b.closes.back().why == core::pairing_errc::window_closed);

  // The pairing button opens it again.
  REQUIRE(!b.acc->open_pairing_window(t0 + 5s));
  pair(b, stranger, t0 + 5s);
  CHECK(b.acc->controllers().list().size() == 2);
}

TEST_CASE("firmware accessory: a wrong secret fails, is counted and persisted; channel traffic "
          "from an unpaired key is refused") {
  bench b;
  REQUIRE(!b.boot());
  controller guesser("guesser", b.id.fingerprint());
  core::pairing_credentials wrong = secret_of(b);
  wrong.secret[0] ^= 0xff;
  guesser.connect(b, t0, wrong);
  run(b, {&guesser}, t0);
  REQUIRE(b.pairing_failures.size() == 1);
  CHECK(b.pairing_failures[0].error == core::pairing_errc::wrong_proof);
  CHECK(b.pairing_failures[0].attempts_left == 19);
  CHECK(b.acc->controllers().empty());
  fw::controller_table stored(8);
  REQUIRE(!stored.parse(b.plat.storage.at(fw::storage_key::controllers)));
  CHECK(stored.window().state().failed_attempts == 1);

  // Straight to HELLO without pairing: CLOSE(not_paired), no session.
  controller rude("rude", b.id.fingerprint());
  rude.connect(b, t0 + 1s);
  run(b, {&rude}, t0 + 1s);
  CHECK(!rude.connected);
  CHECK(b.acc->session_count() == 0);
  CHECK(b.closes.back().why == core::channel_errc::not_paired);
}

TEST_CASE("firmware accessory: a flood of bare connections cannot keep a paired controller out") {
  bench b;
  b.settings.max_sessions = 2;
  b.settings.max_pending = 2;
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);
  phone.disconnect(b, t0 + 1s);

  // 21 connections that never say a word (the reviewer's lock-out).
  std::vector<fw::connection_id> bare(21);
  for (auto& id : bare)
    REQUIRE(!b.acc->accept(id, t0 + 2s));
  b.drain();
  CHECK(b.acc->connection_count() <= 4);

  phone.connect(b, t0 + 3s);
  run(b, {&phone}, t0 + 3s);
  CHECK(b.acc->connected(phone.key()));
  CHECK(phone.session.state() == core::session_state::established);

  // The silent ones time out on their own.
  b.acc->handle_deadline(t0 + 2s + b.settings.handshake_timeout);
  b.drain();
  CHECK(b.acc->connected(phone.key()));
  for (const auto& id : bare)
    b.acc->closed(id, t0 + 20s); // stale handles are ignored
  CHECK(b.acc->connected(phone.key()));
}

TEST_CASE("firmware accessory: control events wait for an application that drains late") {
  bench b;
  b.settings.max_sessions = 1;
  b.settings.max_pending = 1;
  b.settings.max_events = 1;
  REQUIRE(!b.boot());
  // 200 bare connections, each evicting the one before, and nobody calls poll_event(): every
  // eviction's close must still be there when the application gets round to it.
  std::vector<fw::connection_id> ids(200);
  for (auto& id : ids)
    REQUIRE(!b.acc->accept(id, t0 + 1s));
  b.drain();
  REQUIRE(b.closes.size() >= 198);
  CHECK(b.closes.front().id == ids.front());
  for (std::size_t k = 1; k < b.closes.size(); ++k)
    CHECK(b.closes[k].id == ids[k]); // in order, none lost
}

TEST_CASE("firmware accessory: only the admin provisions; the driver's verdict reaches it") {
  bench b;
  b.settings.provisioning = true;
  REQUIRE(!b.boot());
  controller admin("admin", b.id.fingerprint());
  controller user("user", b.id.fingerprint());
  pair(b, admin, t0);
  REQUIRE(!b.acc->open_pairing_window(t0));
  pair(b, user, t0);

  core::wifi_credentials home;
  home.ssid = "home";
  home.passphrase = "correct-horse";
  std::string wifi;
  REQUIRE(!core::encode_wifi_credentials(home, wifi));
  user.session.send(text(wifi), t0 + 1s, core::message_kind::provisioning);
  user.flush_session(t0 + 1s);
  run(b, {&admin, &user}, t0 + 1s);
  CHECK(b.plat.joins.empty());
  REQUIRE(user.control_received.size() == 1);
  CHECK(user.control_received[0].find("not_admin") != std::string::npos);

  admin.session.send(text(wifi), t0 + 2s, core::message_kind::provisioning);
  admin.flush_session(t0 + 2s);
  run(b, {&admin, &user}, t0 + 2s);
  REQUIRE(b.plat.joins.size() == 1);
  CHECK(b.plat.joins[0].ssid == "home");
  const std::array<std::string_view, 1> addresses{"198.18.1.20"};
  REQUIRE(!b.acc->wifi_joined(addresses, t0 + 3s));
  run(b, {&admin, &user}, t0 + 3s);
  REQUIRE(!admin.control_received.empty());
  CHECK(admin.control_received.back().find("connected") != std::string::npos);
  CHECK(admin.control_received.back().find("198.18.1.20") != std::string::npos);
  CHECK(b.messages.empty()); // service messages never reach the application
}

TEST_CASE("firmware accessory: storage failures and damaged state are reported, never reset") {
  bench b;
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);

  SECTION("a damaged blob stops start-up and stays as it was") {
    auto& blob = b.plat.storage.at(fw::storage_key::controllers);
    blob[10] ^= std::byte{0x40};
    const auto kept = blob;
    CHECK(b.boot(t0 + 1s) == fw::firmware_errc::storage_corrupt);
    CHECK(b.plat.storage.at(fw::storage_key::controllers) == kept);
  }
  SECTION("a window that cannot be stored does not open") {
    b.plat.storage_fails = true;
    CHECK(b.acc->open_pairing_window(t0 + 1s) == fw::firmware_errc::storage_failed);
    CHECK(!b.acc->pairing_window_open());
  }
  SECTION("unreadable storage stops start-up") {
    b.plat.storage_fails = true;
    CHECK(b.boot(t0 + 1s) == fw::firmware_errc::storage_failed);
  }
  SECTION("a pairing that cannot be persisted does not pair") {
    REQUIRE(!b.acc->open_pairing_window(t0 + 1s));
    b.plat.storage_fails = true;
    controller tablet("tablet", b.id.fingerprint());
    tablet.connect(b, t0 + 1s, secret_of(b));
    run(b, {&tablet}, t0 + 1s);
    CHECK(b.acc->controllers().list().size() == 1);
    REQUIRE(!b.pairing_failures.empty());
    CHECK(b.pairing_failures.back().error == core::pairing_errc::accessory_failure);
    CHECK(b.acc->pairing_window_open()); // as it was: the failed write closed nothing
  }
}

TEST_CASE("firmware accessory: settings and platform are checked at start") {
  bench b;
  SECTION("no sessions") {
    b.settings.max_sessions = 0;
    CHECK(b.boot() == fw::firmware_errc::bad_settings);
  }
  SECTION("a window too small for one message") {
    b.settings.session.max_replay_bytes = b.settings.session.max_message_size;
    CHECK(b.boot() == fw::firmware_errc::bad_settings);
  }
  SECTION("capacities no heap holds: not enough memory, reported, not aborted") {
    b.settings.tls_output_bytes = std::numeric_limits<std::size_t>::max() / 2;
    CHECK(b.boot() == fw::firmware_errc::not_enough_memory);
    CHECK(!*b.acc);
    b.settings.tls_output_bytes = 0;
    b.settings.max_events = std::numeric_limits<std::size_t>::max() / 8;
    CHECK(b.boot() == fw::firmware_errc::not_enough_memory);
    b.settings.max_events = 16;
    b.settings.max_controllers = 300; // clamped to 255 by the table; start() refuses it
    CHECK(b.boot() == fw::firmware_errc::bad_settings);
  }
  SECTION("more connection slots than a connection_id can name") {
    b.settings.max_sessions = 65'000;
    b.settings.max_pending = 536; // 65,536 slots: one too many for 16 bits
    CHECK(b.boot() == fw::firmware_errc::bad_settings);
  }
  SECTION("no storage") {
    b.acc.emplace(b.context(), fw::platform{}, fw::pairing_secrets{}, b.settings);
    CHECK(b.acc->start(t0) == fw::firmware_errc::platform_incomplete);
    fw::connection_id id;
    CHECK(b.acc->accept(id, t0) == fw::firmware_errc::not_started);
  }
}

TEST_CASE(
    "firmware accessory: a flood evicts bare connections, not an owner's pairing in progress") {
  bench b;
  b.settings.max_sessions = 1;
  b.settings.max_pending = 2;
  b.settings.failure_delay_first = 10s; // after a failure the next proof waits 10 s
  b.settings.failure_delay_max = 10s;
  REQUIRE(!b.boot());
  controller guesser("guesser", b.id.fingerprint());
  core::pairing_credentials wrong = secret_of(b);
  wrong.secret[3] ^= 0x01;
  guesser.connect(b, t0, wrong);
  run(b, {&guesser}, t0);
  REQUIRE(b.pairing_failures.size() == 1);

  // The owner's proof is held through the delay: its connection is past TLS, pairing.
  CHECK(b.acc->pairings_in_progress() == 0);
  controller owner("owner", b.id.fingerprint());
  owner.connect(b, t0 + 1s, secret_of(b));
  run(b, {&owner}, t0 + 1s);
  REQUIRE(owner.connected);
  REQUIRE(b.paired.empty());
  CHECK(b.acc->pairings_in_progress() == 1); // TXT sf drops meanwhile

  // 21 bare connections, all newer than the owner's: they evict each other.
  for (int k = 0; k < 21; ++k) {
    fw::connection_id id;
    REQUIRE(!b.acc->accept(id, t0 + 2s));
  }
  b.drain();
  for (const auto& c : b.closes)
    CHECK(c.id != owner.conn);

  b.acc->handle_deadline(t0 + 11s);
  run(b, {&owner}, t0 + 11s);
  REQUIRE(b.paired.size() == 1);
  CHECK(b.paired[0].controller == owner.key());
  CHECK(b.acc->pairings_in_progress() == 0);
  CHECK(owner.session.state() == core::session_state::established);
}

TEST_CASE("firmware accessory: a burst arrives one message at a time; the rest waits unread") {
  bench b;
  b.settings.max_events = 2;
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);
  // Six messages in six TLS records in one read, more than the TLS input buffer (512 B)
  // holds. The accessory hands out one, as a view of its session's buffer, and takes no more
  // than its input buffer holds until the application took it (mbedTLS reads a record whole:
  // the first message's): the phone's window holds the rest, the accessory queues nothing.
  std::vector<std::string> sent;
  for (const char* word : {"one", "two", "three", "four", "five", "six"})
    sent.push_back(word + std::string(200, '.'));
  for (const std::string& m : sent) {
    REQUIRE(!phone.session.send(text(m), t0 + 1s).error);
    phone.flush_session(t0 + 1s); // a record each
  }
  const auto out = phone.tls->output();
  std::vector<std::byte> wire(reinterpret_cast<const std::byte*>(out.data()),
                              reinterpret_cast<const std::byte*>(out.data()) + out.size());
  phone.tls->consume_output(out.size());
  const auto r = b.acc->receive(phone.conn, wire, t0 + 1s);
  REQUIRE(!r.error);
  CHECK(r.taken < wire.size());
  CHECK(b.acc->session_of(phone.key())->holding_message());
  CHECK_FALSE(b.acc->wants_input(phone.conn));
  CHECK(b.acc->receive(phone.conn, std::span(wire).subspan(r.taken), t0 + 1s).taken == 0);
  auto ev = b.acc->poll_event();
  REQUIRE(ev);
  const auto* m = std::get_if<fw::events::message>(&*ev);
  REQUIRE(m);
  CHECK(as_string(std::vector<std::byte>(m->payload.begin(), m->payload.end())) == sent[0]);
  // The view is valid until the next call that reads: copied now, as the application would.
  b.messages.push_back({m->controller, m->seq, {m->payload.begin(), m->payload.end()}});
  CHECK_FALSE(b.acc->poll_event()); // the others are not read yet
  // Taken: the accessory reads on at once (its deadline is now).
  CHECK(b.acc->next_deadline() <= t0 + 1s);
  b.acc->handle_deadline(t0 + 1s);
  CHECK(b.acc->wants_input(phone.conn));
  phone.unread.assign(wire.begin() + static_cast<std::ptrdiff_t>(r.taken), wire.end());
  run(b, {&phone}, t0 + 1s);
  REQUIRE(b.messages.size() == sent.size());
  for (std::size_t k = 0; k < sent.size(); ++k)
    CHECK(as_string(b.messages[k].payload) == sent[k]);
  for (const auto& c : b.closes)
    CHECK(c.why != fw::firmware_errc::event_queue_full);
  CHECK(phone.connected);
  REQUIRE(!phone.session.send(text("seven"), t0 + 2s).error);
  phone.flush_session(t0 + 2s);
  run(b, {&phone}, t0 + 2s);
  CHECK(as_string(b.messages.back().payload) == "seven");
  // Every message was taken, so every one is acknowledged.
  b.acc->handle_deadline(t0 + 3s);
  run(b, {&phone}, t0 + 3s);
  CHECK(phone.session.next_unacked_seq() == 7);
}

TEST_CASE("firmware accessory: pairing exchanges share a pool of max_pending; a new one displaces "
          "a stranger's, never a paired controller's for a stranger") {
  bench b;
  b.settings.max_sessions = 4; // 6 connection slots: room for every connection below
  b.settings.max_pending = 2;  // 2 pairing exchanges at once
  b.settings.close_window_after_pairing = false;
  // Exchanges by setup code (SPAKE2+) take several round trips: a controller that stops
  // reading keeps its exchange in progress at the accessory.
  b.code_verifier.emplace();
  REQUIRE_FALSE(lanyard::crypto::make_setup_code_verifier(
      "12345679", lanyard::crypto::system_random(), 1000, *b.code_verifier));
  core::pairing_credentials by_code;
  by_code.method = core::pairing_method::setup_code;
  by_code.code = "12345679";
  REQUIRE(!b.boot());
  controller phone("phone", b.id.fingerprint());
  pair(b, phone, t0);
  phone.disconnect(b, t0 + 1s);
  REQUIRE(b.paired.size() == 1);

  // The paired phone runs an exchange again and stalls, then a stranger does: the pool is full.
  controller stranger("stranger", b.id.fingerprint());
  phone.deaf_while_pairing = stranger.deaf_while_pairing = true;
  phone.ctx.clear_sessions(); // a pairing needs a full TLS handshake (its exporter)
  phone.connect(b, t0 + 2s, by_code);
  run(b, {&phone}, t0 + 2s);
  CHECK(b.acc->pairings_in_progress() == 1);
  CHECK(b.pairing_failures.empty());
  stranger.connect(b, t0 + 3s, by_code);
  run(b, {&stranger}, t0 + 3s);
  REQUIRE(b.acc->pairings_in_progress() == 2);
  REQUIRE(b.closes.empty());

  // A third exchange (the owner's tablet): the stranger's gives way, though the phone's is
  // older, and its connection closes; the tablet pairs.
  controller tablet("tablet", b.id.fingerprint());
  pair(b, tablet, t0 + 4s);
  REQUIRE(b.closes.size() == 1);
  CHECK(b.closes[0].id == stranger.conn);
  CHECK(b.closes[0].why == fw::firmware_errc::too_many_connections);
  REQUIRE(b.paired.size() == 2);
  CHECK(b.paired[1].controller == tablet.key());
  CHECK(b.acc->pairings_in_progress() == 1); // the phone's
  b.acc->closed(stranger.conn, t0 + 4s);

  // The tablet (paired now) stalls an exchange too: two paired controllers' exchanges hold the
  // pool. A stranger's exchange displaces neither: the stranger is refused.
  tablet.disconnect(b, t0 + 5s);
  tablet.ctx.clear_sessions();
  tablet.deaf_while_pairing = true;
  tablet.connect(b, t0 + 5s, by_code);
  run(b, {&tablet}, t0 + 5s);
  REQUIRE(b.acc->pairings_in_progress() == 2);
  controller laptop("laptop", b.id.fingerprint());
  laptop.connect(b, t0 + 5s, secret_of(b));
  run(b, {&laptop}, t0 + 5s);
  REQUIRE(b.closes.size() == 2);
  CHECK(b.closes[1].id == laptop.conn);
  CHECK(b.closes[1].why == fw::firmware_errc::too_many_connections);
  CHECK(!laptop.connected);
  CHECK(b.acc->pairings_in_progress() == 2);
  CHECK(b.paired.size() == 2);
  // The phone gives up its exchange: the laptop pairs, and the phone comes back on a new
  // connection as the paired controller it is, its session resumed.
  phone.disconnect(b, t0 + 6s);
  CHECK(b.acc->pairings_in_progress() == 1);
  laptop.disconnect(b, t0 + 6s);
  laptop.ctx.clear_sessions(); // its refused connection's TLS session: a pairing needs a full one
  pair(b, laptop, t0 + 6s);
  CHECK(b.paired.size() == 3);
  phone.deaf_while_pairing = false;
  phone.connect(b, t0 + 7s);
  run(b, {&phone}, t0 + 7s);
  CHECK(phone.session.state() == core::session_state::established);
  CHECK(b.acc->connected(phone.key()));
}
