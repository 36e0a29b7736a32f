// What firmware gives the TLS engine instead of a POSIX system: entropy through a callback
// (context_options::entropy, identity::generate) and its identity as stored bytes
// (identity::from_der, private_key_der). lanyard::tls_engine alone, no file system.
#include <lanyard/core/error_detail.hpp>
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/engine.hpp>
#include <lanyard/tls_engine/entropy.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/role.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>
#include <vector>

#if defined(ASIO_STANDALONE)
#error "a module that uses asio is linked into the tls_engine test: link lanyard::tls_engine only"
#endif

using lanyard::core::error_detail;
using lanyard::core::fingerprint;
using lanyard::tls::context;
using lanyard::tls::context_options;
using lanyard::tls::engine;
using lanyard::tls::entropy_source;
using lanyard::tls::identity;
using lanyard::tls::peer_cert_info;
using lanyard::tls::role;
using lanyard::tls::tls_errc;
using want = engine::want;

namespace {

// A platform source: splitmix64 from a seed (a test's; real firmware reads its TRNG). Counts
// its calls, to prove it is the one used.
struct test_entropy {
  std::uint64_t state = 0x243f6a8885a308d3;
  int calls = 0;

  static int fill(void* user, unsigned char* out, std::size_t len) {
    auto* self = static_cast<test_entropy*>(user);
    ++self->calls;
    for (std::size_t i = 0; i < len; ++i) {
      std::uint64_t z = (self->state += 0x9e3779b97f4a7c15);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      out[i] = static_cast<unsigned char>(z ^ (z >> 31));
    }
    return 0;
  }
};

int failing_entropy(void* user, unsigned char*, std::size_t) {
  ++*static_cast<int*>(user);
  return -1;
}

context_options pinned(const fingerprint& pin) {
  context_options o;
  o.verifier = [pin](const fingerprint& presented, const peer_cert_info&) -> std::error_code {
    if (presented == pin) return {};
    return std::make_error_code(std::errc::permission_denied);
  };
  return o;
}

std::size_t deliver(engine& from, engine& to) {
  std::span<const std::uint8_t> out = from.output();
  if (out.empty()) return 0;
  std::span<std::uint8_t> in = to.prepare_input(out.size());
  std::memcpy(in.data(), out.data(), out.size());
  to.commit_input(out.size());
  from.consume_output(out.size());
  return out.size();
}

void handshake(engine& client, engine& server, std::error_code& cec, std::error_code& sec) {
  bool c_done = false, s_done = false;
  for (int round = 0; round < 1000 && !(c_done && s_done); ++round) {
    if (!c_done) {
      const want w = client.handshake(role::client, cec);
      c_done = cec || w == want::output || w == want::nothing;
    }
    deliver(client, server);
    if (!s_done) {
      const want w = server.handshake(role::server, sec);
      s_done = sec || w == want::output || w == want::nothing;
    }
    deliver(server, client);
  }
  deliver(client, server);
}

} // namespace

TEST_CASE("a failing entropy callback fails the context at seed_random", "[tls_engine]") {
  std::error_code ec;
  const identity id = identity::generate("lamp-1", ec);
  REQUIRE(!ec);
  int calls = 0;
  context_options o = pinned(id.fingerprint());
  o.entropy = {failing_entropy, &calls};
  error_detail error;
  const context ctx = context::create(id, std::move(o), error);
  CHECK_FALSE(ctx);
  CHECK(error.code == tls_errc::crypto_failure);
  CHECK(error.text(lanyard::core::field_key::step) == lanyard::tls::context_step::seed_random);
  CHECK(error.detail.find("seeding the random generator") != std::string::npos);
  CHECK(calls > 0);

  // identity::generate with it: crypto_failure, no identity.
  calls = 0;
  const identity none = identity::generate("lamp-1", entropy_source{failing_entropy, &calls}, ec);
  CHECK_FALSE(none);
  CHECK(ec == tls_errc::crypto_failure);
  CHECK(calls > 0);
}

TEST_CASE("identities and contexts on the platform's entropy handshake", "[tls_engine]") {
  test_entropy accessory_source, controller_source;
  controller_source.state = 77;
  std::error_code ec;
  const identity accessory =
      identity::generate("lamp-1", entropy_source{test_entropy::fill, &accessory_source}, ec);
  REQUIRE(!ec);
  const identity controller =
      identity::generate("phone-a", entropy_source{test_entropy::fill, &controller_source}, ec);
  REQUIRE(!ec);
  CHECK(accessory_source.calls > 0);
  CHECK(accessory.fingerprint() != controller.fingerprint());

  const int before = accessory_source.calls;
  context_options server_options = pinned(controller.fingerprint());
  server_options.entropy = {test_entropy::fill, &accessory_source};
  context_options client_options = pinned(accessory.fingerprint());
  client_options.entropy = {test_entropy::fill, &controller_source};
  error_detail error;
  const context server_ctx = context::create(accessory, std::move(server_options), error);
  REQUIRE(!error);
  const context client_ctx = context::create(controller, std::move(client_options), error);
  REQUIRE(!error);
  CHECK(accessory_source.calls > before);

  engine client(client_ctx), server(server_ctx);
  std::error_code cec, sec;
  handshake(client, server, cec, sec);
  CHECK(!cec);
  CHECK(!sec);
  CHECK(client.handshake_done());
  CHECK(server.handshake_done());
  CHECK(client.peer_fingerprint() == accessory.fingerprint());
}

TEST_CASE("an identity goes to storage as DER and comes back the same", "[tls_engine]") {
  std::error_code ec;
  const identity original = identity::generate("lamp-1", ec);
  REQUIRE(!ec);
  std::vector<std::uint8_t> key = original.private_key_der();
  REQUIRE(!key.empty());
  const std::span<const std::uint8_t> cert = original.certificate_der();

  error_detail error;
  const identity restored = identity::from_der(key, cert, error);
  REQUIRE(!error);
  REQUIRE(restored);
  CHECK(restored.fingerprint() == original.fingerprint());
  CHECK(restored.device_id() == "lamp-1");
  CHECK(std::ranges::equal(restored.certificate_der(), cert));
  CHECK(restored.private_key_der() == key);
  // It works: a context takes it.
  const context ctx = context::create(restored, pinned(original.fingerprint()), error);
  CHECK(ctx);

  // Another identity's certificate with this key: refused (the fingerprint is the key's).
  const identity other = identity::generate("lamp-1", ec);
  REQUIRE(!ec);
  CHECK_FALSE(identity::from_der(key, other.certificate_der(), error));
  CHECK(error.code == tls_errc::bad_identity_file);
  CHECK(error.text(lanyard::core::field_key::step) ==
        lanyard::tls::identity_step::check_certificate);

  // Damaged bytes: refused at the step that read them.
  std::vector<std::uint8_t> bad_key(key.begin(), key.begin() + 20);
  CHECK_FALSE(identity::from_der(bad_key, cert, error));
  CHECK(error.code == tls_errc::bad_identity_file);
  CHECK(error.text(lanyard::core::field_key::step) == lanyard::tls::identity_step::read_key);
  CHECK(error.number(lanyard::core::field_key::mbedtls_error) == std::nullopt); // negative
  CHECK(error.find(lanyard::core::field_key::mbedtls_error) != nullptr);
  std::vector<std::uint8_t> bad_cert(cert.begin(), cert.begin() + 40);
  CHECK_FALSE(identity::from_der(key, bad_cert, error));
  CHECK(error.text(lanyard::core::field_key::step) ==
        lanyard::tls::identity_step::read_certificate);
  // The sentence never carries key material.
  CHECK(error.detail.find("PRIVATE") == std::string::npos);

  std::fill(key.begin(), key.end(), std::uint8_t{0}); // a secret: wiped after use
}
