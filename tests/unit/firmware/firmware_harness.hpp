// The test bench of lanyard::firmware::accessory: an in-memory platform (storage, a settable
// wall clock, the kernel's random source, a Wi-Fi driver that records what it was asked) and
// controllers that are the app side's real parts — tls::engine as a client pinning the
// accessory's key, core::pairing_initiator, a client core::session — over byte buffers.
// Nothing is mocked but the network and the clocks, which are the point of a sans-IO core.
#pragma once
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/core/session.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>
#include <lanyard/crypto/primitives.hpp>
#include <lanyard/firmware/accessory.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/engine.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fw_test {

namespace fw = lanyard::firmware;
namespace core = lanyard::core;
namespace tls = lanyard::tls;
using time_point = std::chrono::steady_clock::time_point;
using namespace std::chrono_literals;

inline const time_point t0 = time_point{} + std::chrono::hours(1);

inline tls::identity make_identity(const char* device_id) {
  std::error_code ec;
  tls::identity id = tls::identity::generate(device_id, ec);
  REQUIRE(!ec);
  return id;
}

inline std::span<const std::byte> text(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
inline std::string as_string(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// The firmware's platform, in memory.
struct test_platform {
  std::map<std::string, std::vector<std::byte>> storage;
  bool storage_fails = false;
  std::chrono::system_clock::time_point wall =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  std::vector<core::wifi_credentials> joins;

  fw::platform seam() {
    fw::platform p;
    p.user = this;
    p.random = lanyard::crypto::system_random();
    p.load = [](void* u, const char* key, std::byte* out, std::size_t cap, std::size_t* size) {
      auto& self = *static_cast<test_platform*>(u);
      if (self.storage_fails) return -5;
      auto it = self.storage.find(key);
      if (it == self.storage.end()) return 1;
      if (it->second.size() > cap) return -1;
      std::memcpy(out, it->second.data(), it->second.size());
      *size = it->second.size();
      return 0;
    };
    p.save = [](void* u, const char* key, const std::byte* data, std::size_t size) {
      auto& self = *static_cast<test_platform*>(u);
      if (self.storage_fails) return -5;
      self.storage[key].assign(data, data + size);
      return 0;
    };
    p.wall_clock = [](void* u) { return static_cast<test_platform*>(u)->wall; };
    p.join_wifi = [](void* u, const core::wifi_credentials_view& c) {
      static_cast<test_platform*>(u)->joins.push_back(
          {std::string(c.ssid), std::string(c.passphrase)});
    };
    return p;
  }
};

// The accessory under test with its identity and secrets.
struct bench {
  test_platform plat;
  tls::identity id = make_identity("lamp-1");
  std::array<std::uint8_t, 16> secret{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  // The setup code's SPAKE2+ verifier, when a test pairs by code (the accessory stores this,
  // never the code).
  std::optional<core::setup_code_verifier> code_verifier;
  fw::accessory_settings settings;
  std::optional<fw::accessory> acc;
  // A message as the application keeps it: events::message is a view, valid until the next
  // call that reads (receive, consume_output, handle_deadline), so the bench copies it.
  struct message_copy {
    core::fingerprint controller;
    std::uint64_t seq = 0;
    std::vector<std::byte> payload;
  };
  // What the accessory reported, by kind.
  std::vector<message_copy> messages;
  std::vector<fw::events::paired> paired;
  std::vector<fw::events::pairing_failed> pairing_failures;
  std::vector<fw::events::session_reset> resets;
  std::vector<fw::events::session_ended> ended;
  std::vector<fw::events::close_connection> closes;

  bench() {
    settings.failure_delay_first = 0ms;
    settings.failure_delay_max = 0ms;
  }

  tls::context context() {
    lanyard::core::error_detail error;
    tls::context ctx = tls::context::create(id, {}, error);
    REQUIRE(!error);
    return ctx;
  }

  std::error_code boot(time_point now = t0) {
    acc.reset();
    fw::pairing_secrets s;
    s.setup_secret = secret;
    s.code_verifier = code_verifier;
    acc.emplace(context(), plat.seam(), s, settings);
    return acc->start(now);
  }

  void drain() {
    while (auto ev = acc->poll_event()) {
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, fw::events::message>)
              messages.push_back({e.controller, e.seq, {e.payload.begin(), e.payload.end()}});
            if constexpr (std::is_same_v<T, fw::events::paired>) paired.push_back(e);
            if constexpr (std::is_same_v<T, fw::events::pairing_failed>)
              pairing_failures.push_back(e);
            if constexpr (std::is_same_v<T, fw::events::session_reset>) resets.push_back(e);
            if constexpr (std::is_same_v<T, fw::events::session_ended>) ended.push_back(e);
            if constexpr (std::is_same_v<T, fw::events::close_connection>) closes.push_back(e);
          },
          *ev);
    }
  }
};

// A controller: the app side's engine, pairing and session, over one connection at a time.
struct controller {
  std::string name;
  tls::identity id;
  tls::context ctx;
  core::session session;
  std::optional<tls::engine> tls;
  std::optional<lanyard::crypto::mbedtls_pairing_crypto> crypto;
  std::optional<core::pairing_initiator> pairing;
  std::optional<core::pairing_credentials> pair_with;
  fw::connection_id conn;
  bool connected = false;
  // Bytes the accessory did not take yet (it holds a message for the application): offered
  // again once it wants input, as a driver keeps them in its socket.
  std::vector<std::byte> unread;
  // A stalled pairing: once its exchange started, run() reads nothing more from the accessory
  // (the exchange stays in progress there until it times out or is displaced).
  bool deaf_while_pairing = false;
  std::error_code tls_error;
  std::vector<std::string> received;
  std::vector<std::string> control_received;
  bool reset_seen = false;

  controller(const std::string& n, const core::fingerprint& accessory_key)
      : name(n), id(make_identity(n.c_str())), session(core::session_role::client) {
    tls::context_options o;
    o.verifier = [accessory_key](const core::fingerprint& presented,
                                 const tls::peer_cert_info&) -> std::error_code {
      return presented == accessory_key ? std::error_code{}
                                        : std::make_error_code(std::errc::permission_denied);
    };
    lanyard::core::error_detail error;
    ctx = tls::context::create(id, std::move(o), error);
    REQUIRE(!error);
  }

  core::fingerprint key() const { return id.fingerprint(); }

  // Opens a connection to the accessory; with `credentials` it pairs first.
  void connect(bench& b, time_point now,
               std::optional<core::pairing_credentials> credentials = {}) {
    REQUIRE(!b.acc->accept(conn, now));
    tls.emplace(ctx);
    tls->set_peer_id("lamp-1");
    pair_with = std::move(credentials);
    pairing.reset();
    connected = true;
    tls_error = {};
    advance(now);
  }

  void disconnect(bench& b, time_point now) {
    if (!connected) return;
    connected = false;
    unread.clear();
    b.acc->closed(conn, now);
    session.on_disconnected(now);
    tls.reset();
  }

  void write(std::span<const std::byte> data) {
    auto in = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                            data.size());
    while (!in.empty()) {
      std::size_t n = 0;
      std::error_code ec;
      tls->write(in, n, ec);
      REQUIRE(!ec);
      in = in.subspan(n);
    }
  }

  void flush_session(time_point now) {
    for (auto out = session.poll_output(now); !out.empty(); out = session.poll_output(now))
      write(out);
    while (auto ev = session.poll_event()) {
      if (auto* m = std::get_if<core::events::message_received>(&*ev))
        received.push_back(as_string(m->payload));
      if (auto* c = std::get_if<core::events::control_received>(&*ev))
        control_received.push_back(as_string(c->payload));
      if (std::get_if<core::events::session_reset>(&*ev)) reset_seen = true;
    }
    for (auto out = session.poll_output(now); !out.empty(); out = session.poll_output(now))
      write(out);
  }

  void advance(time_point now) {
    if (!connected || !tls) return;
    if (!tls->handshake_done()) {
      std::error_code ec;
      tls->handshake(tls::role::client, ec);
      if (ec) {
        tls_error = ec;
        return;
      }
      if (!tls->handshake_done()) return;
      if (pair_with) {
        lanyard::core::pairing_binding binding;
        auto exporter = tls->exporter();
        REQUIRE(exporter);
        std::copy(exporter->begin(), exporter->end(), binding.exporter.begin());
        binding.controller = key();
        binding.accessory = tls->peer_fingerprint();
        crypto.emplace(lanyard::crypto::system_random());
        pairing.emplace(*crypto, binding, *pair_with, name);
        pairing->start(now);
        auto out = pairing->poll_output();
        write(out);
      } else {
        session.on_connected(now);
        flush_session(now);
      }
    }
    std::array<std::uint8_t, 2048> buf{};
    for (;;) {
      std::size_t n = 0;
      std::error_code ec;
      tls->read(buf, n, ec);
      const auto bytes = std::as_bytes(std::span(buf.data(), n));
      if (n > 0) {
        if (pairing && !pairing->done()) {
          pairing->receive(bytes, now);
          write(pairing->poll_output());
          if (pairing->done() && !pairing->outcome().error) {
            session.on_connected(now); // the channel follows on this connection
            flush_session(now);
          }
        } else {
          session.receive(bytes, now);
          flush_session(now);
        }
      }
      if (ec) {
        tls_error = ec;
        return;
      }
      if (n == 0) return;
    }
  }
};

// Moves bytes both ways between the accessory and these controllers until nothing moves, and
// carries out the accessory's close_connection events as a driver does.
inline void run(bench& b, std::vector<controller*> cs, time_point now) {
  for (int round = 0; round < 1000; ++round) {
    bool moved = false;
    for (controller* c : cs) {
      if (!c->connected) continue;
      auto out = b.acc->output(c->conn);
      if (!out.empty() && !(c->deaf_while_pairing && c->pairing)) {
        auto in = c->tls->prepare_input(out.size());
        std::memcpy(in.data(), out.data(), out.size());
        c->tls->commit_input(out.size());
        b.acc->consume_output(c->conn, out.size(), now);
        c->advance(now);
        moved = true;
      }
      auto back = c->tls->output();
      if (!back.empty()) {
        const auto* p = reinterpret_cast<const std::byte*>(back.data());
        c->unread.insert(c->unread.end(), p, p + back.size());
        c->tls->consume_output(back.size());
        moved = true;
      }
      if (!c->unread.empty() && b.acc->wants_input(c->conn)) {
        const auto r = b.acc->receive(c->conn, c->unread, now);
        REQUIRE(!r.error);
        c->unread.erase(c->unread.begin(),
                        c->unread.begin() + static_cast<std::ptrdiff_t>(r.taken));
        moved = moved || r.taken > 0;
      }
    }
    const std::size_t before = b.closes.size();
    b.drain();
    // A message taken (poll_event) makes the accessory read on at once.
    if (b.acc->next_deadline() <= now) {
      b.acc->handle_deadline(now);
      moved = true;
    }
    for (std::size_t k = before; k < b.closes.size(); ++k)
      for (controller* c : cs)
        if (c->connected && c->conn == b.closes[k].id) {
          // The driver writes what is left, then closes.
          auto out = b.acc->output(c->conn);
          if (!out.empty()) {
            auto in = c->tls->prepare_input(out.size());
            std::memcpy(in.data(), out.data(), out.size());
            c->tls->commit_input(out.size());
            c->advance(now);
          }
          c->disconnect(b, now);
          moved = true;
        }
    if (!moved) return;
  }
  FAIL("the accessory and its controllers never went quiet");
}

inline core::pairing_credentials secret_of(const bench& b) {
  core::pairing_credentials c;
  c.method = core::pairing_method::setup_secret;
  c.secret = b.secret;
  return c;
}

// Pairs `c` with the setup secret and leaves its session established.
inline void pair(bench& b, controller& c, time_point now) {
  c.connect(b, now, secret_of(b));
  run(b, {&c}, now);
  REQUIRE(c.pairing);
  REQUIRE(c.pairing->done());
  REQUIRE(!c.pairing->outcome().error);
  REQUIRE(c.session.state() == core::session_state::established);
}

} // namespace fw_test
