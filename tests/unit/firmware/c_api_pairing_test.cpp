// The C interface of lanyard::firmware (include/lanyard/firmware.h) end to end: the accessory
// side is driven only through the C functions (a C platform of callbacks, uint32 connection
// handles, millisecond clocks, tagged events), the controllers are firmware_harness.hpp's real
// app side (TLS client pinning the accessory's key, pairing_initiator, client session). A wrong
// secret fails, the right one pairs, messages go both ways, a closed window refuses.
#include "firmware_harness.hpp"

#include <lanyard/firmware.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

using namespace fw_test;

#if defined(ASIO_STANDALONE)
#error "a module that uses asio is linked into the firmware test: link lanyard::firmware only"
#endif

namespace {

constexpr const char* device_id = "lamp-c";

std::uint64_t ms(time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

// The firmware's platform in memory, as a C driver fills it.
struct c_platform {
  std::map<std::string, std::vector<std::uint8_t>> storage;
  std::int64_t wall = 1'800'000'000;

  lanyard_platform seam() {
    lanyard_platform p{};
    p.user = this;
    p.random = [](void*, std::uint8_t* out, std::size_t len) {
      const auto r = lanyard::crypto::system_random();
      return r.fill(r.ctx, out, len);
    };
    p.load = [](void* u, const char* key, std::uint8_t* out, std::size_t cap, std::size_t* size) {
      auto& self = *static_cast<c_platform*>(u);
      auto it = self.storage.find(key);
      if (it == self.storage.end()) return 1;
      if (it->second.size() > cap) return -1;
      std::memcpy(out, it->second.data(), it->second.size());
      *size = it->second.size();
      return 0;
    };
    p.save = [](void* u, const char* key, const std::uint8_t* data, std::size_t size) {
      static_cast<c_platform*>(u)->storage[key].assign(data, data + size);
      return 0;
    };
    p.wall_clock = [](void* u) { return static_cast<c_platform*>(u)->wall; };
    return p;
  }
};

// An event as the C interface gave it, kept (its payload copied: the pointer dies at the next
// poll).
struct c_event {
  lanyard_event_kind kind = LANYARD_EVENT_NONE;
  core::fingerprint controller;
  std::string payload;
  int error = 0;
  std::uint32_t connection = 0;
  std::uint32_t attempts_left = 0;
  int role = -1;
  int method = -1;
};

// bench, for the C handle.
struct c_bench {
  c_platform plat;
  std::filesystem::path dir;
  std::array<std::uint8_t, 16> secret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  lanyard_accessory* acc = nullptr;
  core::fingerprint key;
  std::vector<c_event> events;

  c_bench() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lanyard-c-api-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
  }
  ~c_bench() {
    lanyard_accessory_destroy(acc);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  int boot(time_point now) {
    lanyard_accessory_destroy(acc);
    acc = nullptr;
    lanyard_accessory_config cfg;
    lanyard_accessory_config_default(&cfg);
    cfg.platform = plat.seam();
    cfg.setup_secret = secret.data();
    cfg.settings.failure_delay_first_ms = 0;
    cfg.settings.failure_delay_max_ms = 0;
    const int rc = lanyard_accessory_create_with_identity_dir(&cfg, dir.c_str(), device_id, &acc);
    REQUIRE(rc == LANYARD_OK);
    REQUIRE(lanyard_accessory_fingerprint(acc, key.bytes.data()) == LANYARD_OK);
    return lanyard_accessory_start(acc, ms(now));
  }

  void drain() {
    lanyard_event ev;
    while (lanyard_accessory_poll_event(acc, &ev) == 1) {
      c_event e;
      e.kind = ev.kind;
      std::memcpy(e.controller.bytes.data(), ev.controller, 32);
      if (ev.payload) e.payload.assign(reinterpret_cast<const char*>(ev.payload), ev.payload_len);
      e.error = ev.error;
      e.connection = ev.connection;
      e.attempts_left = ev.attempts_left;
      e.role = ev.role;
      e.method = ev.method;
      events.push_back(std::move(e));
    }
  }

  std::vector<c_event> of(lanyard_event_kind kind) const {
    std::vector<c_event> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
};

// controller::connect / disconnect, over the C handle.
void connect(c_bench& b, controller& c, time_point now,
             std::optional<core::pairing_credentials> credentials = {}) {
  std::uint32_t id = 0;
  REQUIRE(lanyard_accessory_accept(b.acc, ms(now), &id) == LANYARD_OK);
  c.conn = fw::connection_id{id};
  c.tls.emplace(c.ctx);
  c.tls->set_peer_id(device_id);
  c.pair_with = std::move(credentials);
  c.pairing.reset();
  c.connected = true;
  c.tls_error = {};
  c.advance(now);
}

void disconnect(c_bench& b, controller& c, time_point now) {
  if (!c.connected) return;
  c.connected = false;
  c.unread.clear();
  lanyard_accessory_closed(b.acc, c.conn.value, ms(now));
  c.session.on_disconnected(now);
  c.tls.reset();
}

void deliver(c_bench& b, controller& c, time_point now, bool consume) {
  std::size_t len = 0;
  const std::uint8_t* out = lanyard_accessory_output(b.acc, c.conn.value, &len);
  if (len == 0) return;
  auto in = c.tls->prepare_input(len);
  std::memcpy(in.data(), out, len);
  c.tls->commit_input(len);
  if (consume) lanyard_accessory_consume_output(b.acc, c.conn.value, len, ms(now));
  c.advance(now);
}

// run() for the C handle: moves bytes both ways until nothing moves, and carries out the
// close_connection events as a driver does.
void run(c_bench& b, std::vector<controller*> cs, time_point now) {
  for (int round = 0; round < 1000; ++round) {
    bool moved = false;
    for (controller* c : cs) {
      if (!c->connected) continue;
      std::size_t len = 0;
      if (lanyard_accessory_output(b.acc, c->conn.value, &len) != nullptr) {
        deliver(b, *c, now, true);
        moved = true;
      }
      auto back = c->tls->output();
      if (!back.empty()) {
        const auto* p = reinterpret_cast<const std::byte*>(back.data());
        c->unread.insert(c->unread.end(), p, p + back.size());
        c->tls->consume_output(back.size());
        moved = true;
      }
      // What the accessory does not take yet (it holds a message) is offered again later.
      if (!c->unread.empty() && lanyard_accessory_wants_input(b.acc, c->conn.value) == 1) {
        std::size_t taken = 0;
        CHECK(lanyard_accessory_receive(b.acc, c->conn.value,
                                        reinterpret_cast<const std::uint8_t*>(c->unread.data()),
                                        c->unread.size(), ms(now), &taken) == LANYARD_OK);
        c->unread.erase(c->unread.begin(), c->unread.begin() + static_cast<std::ptrdiff_t>(taken));
        moved = moved || taken > 0;
      }
    }
    const std::size_t before = b.events.size();
    b.drain();
    if (lanyard_accessory_next_deadline(b.acc) <= ms(now)) {
      lanyard_accessory_handle_deadline(b.acc, ms(now));
      moved = true;
    }
    for (std::size_t k = before; k < b.events.size(); ++k) {
      if (b.events[k].kind != LANYARD_EVENT_CLOSE_CONNECTION) continue;
      for (controller* c : cs)
        if (c->connected && c->conn.value == b.events[k].connection) {
          deliver(b, *c, now, false); // the driver writes what is left, then closes
          disconnect(b, *c, now);
          moved = true;
        }
    }
    if (!moved) return;
  }
  FAIL("the accessory and its controllers never went quiet");
}

core::pairing_credentials secret_of(const c_bench& b) {
  core::pairing_credentials c;
  c.method = core::pairing_method::setup_secret;
  c.secret = b.secret;
  return c;
}

} // namespace

TEST_CASE("firmware C API: a controller pairs through the C interface and messages go both ways") {
  c_bench b;
  REQUIRE(b.boot(t0) == LANYARD_OK);
  CHECK(lanyard_accessory_pairing_window_open(b.acc)); // first boot: setup mode

  // A wrong secret: refused, counted.
  controller guesser("guesser", b.key);
  core::pairing_credentials wrong = secret_of(b);
  wrong.secret[0] ^= 0xff;
  connect(b, guesser, t0, wrong);
  run(b, {&guesser}, t0);
  auto failed = b.of(LANYARD_EVENT_PAIRING_FAILED);
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].error == LANYARD_E_PAIRING_WRONG_PROOF);
  CHECK(std::string(lanyard_error_name(failed[0].error)) == "pairing.wrong_proof");
  CHECK(failed[0].attempts_left == 19);
  CHECK(failed[0].controller == guesser.key());
  disconnect(b, guesser, t0);

  // The right one.
  controller phone("phone", b.key);
  connect(b, phone, t0 + 1s, secret_of(b));
  run(b, {&phone}, t0 + 1s);
  REQUIRE(phone.pairing);
  REQUIRE(phone.pairing->done());
  REQUIRE(!phone.pairing->outcome().error);
  REQUIRE(phone.session.state() == core::session_state::established);
  auto paired = b.of(LANYARD_EVENT_PAIRED);
  REQUIRE(paired.size() == 1);
  CHECK(paired[0].controller == phone.key());
  CHECK(paired[0].role == LANYARD_ROLE_ADMIN);
  CHECK(paired[0].method == LANYARD_PAIRING_SETUP_SECRET);
  CHECK(lanyard_accessory_controller_count(b.acc) == 1);
  CHECK(lanyard_accessory_session_count(b.acc) == 1);
  CHECK(lanyard_accessory_connected(b.acc, phone.key().bytes.data()));
  CHECK(!lanyard_accessory_pairing_window_open(b.acc)); // one pairing per opening
  CHECK(b.plat.storage.count(LANYARD_STORAGE_KEY_CONTROLLERS) == 1);

  // Controller -> accessory.
  phone.session.send(text("on"), t0 + 2s);
  phone.flush_session(t0 + 2s);
  run(b, {&phone}, t0 + 2s);
  auto messages = b.of(LANYARD_EVENT_MESSAGE);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].controller == phone.key());
  CHECK(messages[0].payload == "on");

  // Accessory -> controller.
  std::uint64_t seq = 0;
  const std::string answer = "state on 40";
  REQUIRE(lanyard_accessory_send(b.acc, phone.key().bytes.data(),
                                 reinterpret_cast<const std::uint8_t*>(answer.data()),
                                 answer.size(), ms(t0 + 3s), &seq) == LANYARD_OK);
  std::uint64_t seq2 = 0;
  const std::string second = "state on 41";
  REQUIRE(lanyard_accessory_send(b.acc, phone.key().bytes.data(),
                                 reinterpret_cast<const std::uint8_t*>(second.data()),
                                 second.size(), ms(t0 + 3s), &seq2) == LANYARD_OK);
  CHECK(seq2 == seq + 1);
  run(b, {&phone}, t0 + 3s);
  CHECK(phone.received == std::vector<std::string>{"state on 40", "state on 41"});

  // Too large for the firmware profile (4 KiB): refused, nothing queued.
  const std::vector<std::uint8_t> big(8192, 0x55);
  CHECK(lanyard_accessory_send(b.acc, phone.key().bytes.data(), big.data(), big.size(), ms(t0 + 3s),
                               nullptr) == LANYARD_E_CHANNEL_MESSAGE_TOO_LARGE);

  // A neighbour with the right secret: the window closed behind the phone.
  controller neighbour("neighbour", b.key);
  connect(b, neighbour, t0 + 4s, secret_of(b));
  run(b, {&neighbour}, t0 + 4s);
  CHECK(!neighbour.connected);
  auto closes = b.of(LANYARD_EVENT_CLOSE_CONNECTION);
  REQUIRE(!closes.empty());
  CHECK(closes.back().error == LANYARD_E_PAIRING_WINDOW_CLOSED);
  CHECK(lanyard_accessory_controller_count(b.acc) == 1);

  // A deadline is scheduled (the phone's keep-alive) and can be run.
  const std::uint64_t next = lanyard_accessory_next_deadline(b.acc);
  CHECK(next != UINT64_MAX);
  CHECK(next >= ms(t0 + 3s));

  // Reboot over the same storage and identity: the phone is still paired and resumes.
  disconnect(b, phone, t0 + 5s);
  const core::fingerprint before = b.key;
  REQUIRE(b.boot(t0 + 6s) == LANYARD_OK);
  CHECK(b.key == before); // the identity directory kept the key the phone pinned
  CHECK(lanyard_accessory_controller_count(b.acc) == 1);
  connect(b, phone, t0 + 7s);
  run(b, {&phone}, t0 + 7s);
  CHECK(phone.session.state() == core::session_state::established);
  CHECK(lanyard_accessory_connected(b.acc, phone.key().bytes.data()));
}
