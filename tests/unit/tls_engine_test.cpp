#include <lanyard/tls_engine/engine.hpp>

#include <lanyard/tls_engine/context.hpp>
#include <lanyard/tls_engine/diagnostics.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <catch2/catch.hpp>

#include "support/diagnostics_recorder.hpp"
#include "tls_engine/identity_impl.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <variant>
#include <vector>

using lanyard::core::fingerprint;
using lanyard::tls::context;
using lanyard::tls::context_options;
using lanyard::tls::engine;
using lanyard::tls::identity;
namespace identity_files = lanyard::tls::identity_files;
using lanyard::tls::peer_cert_info;
using lanyard::tls::role;
using lanyard::tls::tls_errc;
using want = engine::want;
namespace diag = lanyard::tls::diag;
namespace fk = lanyard::core::field_key;

namespace {

identity make_identity(const char* device_id) {
  std::error_code ec;
  identity id = identity::generate(device_id, ec);
  REQUIRE(!ec);
  return id;
}

context_options pin_options(const identity& peer) {
  context_options o;
  o.verifier = [expected = peer.fingerprint()](const fingerprint& fp,
                                               const peer_cert_info&) -> std::error_code {
    return fp == expected ? std::error_code{} : std::make_error_code(std::errc::permission_denied);
  };
  return o;
}

context make_context(const identity& self, const identity& peer,
                     lanyard::core::diagnostics_handler diagnostics = {}) {
  context_options o = pin_options(peer);
  o.diagnostics = std::move(diagnostics);
  return context(self, o);
}

// The mbedTLS return code a failure recorded (negative, as mbedTLS returns it), or 0.
std::int64_t mbedtls_error(const lanyard::core::error_detail& d) {
  const auto* f = d.find(fk::mbedtls_error);
  const auto* v = f != nullptr ? std::get_if<std::int64_t>(&f->value) : nullptr;
  return v != nullptr ? *v : 0;
}

// Moves all ciphertext `from` has produced into `to`'s input: the network, in memory.
std::size_t transfer(engine& from, engine& to) {
  auto out = from.output();
  std::size_t n = out.size();
  if (n == 0) return 0;
  auto in = to.prepare_input(n);
  std::memcpy(in.data(), out.data(), n);
  to.commit_input(n);
  from.consume_output(n);
  return n;
}

// Runs both handshakes until each completed or failed.
void drive_handshake(engine& client, engine& server, std::error_code& cec, std::error_code& sec) {
  bool c_done = false, s_done = false;
  for (int round = 0; round < 50 && !(c_done && s_done); ++round) {
    if (!c_done) {
      want w = client.handshake(role::client, cec);
      c_done = cec || w == want::output || w == want::nothing;
    }
    transfer(client, server);
    if (!s_done) {
      want w = server.handshake(role::server, sec);
      s_done = sec || w == want::output || w == want::nothing;
    }
    transfer(server, client);
  }
  REQUIRE(c_done);
  REQUIRE(s_done);
}

struct pair_fixture {
  identity accessory = make_identity("lamp-1");
  identity controller = make_identity("phone-a");
  // What the server's context reports (declared before the engine, which refers to it).
  lanyard::test::diagnostics_recorder server_diags;
  engine client{make_context(controller, accessory)};
  engine server{make_context(accessory, controller, server_diags.handler())};

  void handshake(std::error_code& cec, std::error_code& sec) {
    drive_handshake(client, server, cec, sec);
  }
};

} // namespace

TEST_CASE_METHOD(pair_fixture, "two engines handshake and exchange data without any I/O",
                 "[tls][engine]") {
  std::error_code ec;
  std::size_t n = 0;
  std::array<std::uint8_t, 64> buf{};
  // Nothing works before the handshake.
  CHECK(client.read(buf, n, ec) == want::nothing);
  CHECK(ec == tls_errc::not_connected);

  // The client's first step produces a ClientHello and waits for input.
  CHECK(client.handshake(role::client, ec) == want::output_and_retry);
  CHECK(!ec);
  CHECK_FALSE(client.output().empty());
  CHECK(client.output()[0] == 22); // TLS record type handshake

  std::error_code cec, sec;
  handshake(cec, sec);
  REQUIRE(!cec);
  REQUIRE(!sec);
  CHECK(client.handshake_done());
  CHECK(server.handshake_done());
  CHECK(client.peer_fingerprint() == accessory.fingerprint());
  CHECK(server.peer_fingerprint() == controller.fingerprint());
  CHECK(client.alpn_protocol() == "lanyard/1");

  // A second handshake on the same engine is refused.
  CHECK(client.handshake(role::client, ec) == want::nothing);
  CHECK(ec == tls_errc::already_handshaken);

  // No input yet: read wants input.
  CHECK(server.read(buf, n, ec) == want::input_and_retry);
  CHECK(!ec);

  const std::string_view msg = "hello accessory";
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size());
  CHECK(client.write(bytes, n, ec) == want::output);
  CHECK(!ec);
  CHECK(n == msg.size());
  // The ciphertext is not the plaintext.
  std::string wire(reinterpret_cast<const char*>(client.output().data()), client.output().size());
  CHECK(wire.find(msg) == std::string::npos);
  transfer(client, server);
  CHECK(server.read(buf, n, ec) == want::nothing);
  CHECK(!ec);
  CHECK(std::string_view(reinterpret_cast<const char*>(buf.data()), n) == msg);

  // take_output hands over the bytes and leaves the engine empty.
  CHECK(server.write(bytes, n, ec) == want::output);
  std::vector<std::uint8_t> taken;
  server.take_output(taken);
  CHECK_FALSE(taken.empty());
  CHECK(server.output().empty());

  // close_notify ends the peer's reads with the engine's own code (tls::stream says eof).
  CHECK(client.shutdown(ec) == want::output);
  transfer(client, server);
  CHECK(server.read(buf, n, ec) == want::nothing);
  CHECK(ec == tls_errc::closed_by_peer);
}

TEST_CASE_METHOD(pair_fixture, "a tampered record is detected and fails the connection",
                 "[tls][engine]") {
  std::error_code cec, sec;
  handshake(cec, sec);
  REQUIRE(!cec);
  REQUIRE(!sec);

  std::error_code ec;
  std::size_t n = 0;
  const std::string_view msg = "turn on";
  auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size());
  REQUIRE(client.write(bytes, n, ec) == want::output);
  std::vector<std::uint8_t> record;
  client.take_output(record);
  record.back() ^= 0x01; // flip one bit of the AEAD tag
  auto in = server.prepare_input(record.size());
  std::memcpy(in.data(), record.data(), record.size());
  server.commit_input(record.size());

  std::array<std::uint8_t, 64> buf{};
  server.read(buf, n, ec);
  CHECK(ec == tls_errc::bad_record);
  CHECK(n == 0);
  // The failure as data: the code, mbedTLS's own error, which side and whose key.
  const lanyard::core::error_detail& last = server.last_error();
  CHECK(last.code == tls_errc::bad_record);
  CHECK(mbedtls_error(last) == MBEDTLS_ERR_SSL_INVALID_MAC);
  CHECK(last.text(diag::key::role) == "server");
  CHECK(last.text(fk::fingerprint_presented) == to_string(controller.fingerprint()));
  CHECK_FALSE(last.detail.empty());
  CHECK(server.last_error_detail() == last.detail);
  // Reported once, with the same sentence and fields.
  REQUIRE(server_diags.seen.size() == 1);
  const auto& reported = server_diags.seen.front();
  CHECK(reported.id == diag::read_failed);
  CHECK(reported.level == lanyard::core::diagnostic_level::warning);
  CHECK(reported.code == tls_errc::bad_record);
  CHECK(reported.text == last.detail);
  CHECK(reported.fields.size() == last.fields.size());
  // The connection stays failed.
  server.read(buf, n, ec);
  CHECK(ec == tls_errc::not_connected);
}

TEST_CASE("a refused handshake is recorded as data on both sides; without a diagnostics handler "
          "the log receives the same sentence",
          "[tls][engine]") {
  const identity accessory = make_identity("lamp-1");
  const identity controller = make_identity("phone-a");
  const identity stranger = make_identity("phone-x");
  // The server pins the controller and only logs; the stranger's client records diagnostics.
  std::vector<std::string> server_log;
  context_options so = pin_options(controller);
  so.log = [&](std::string_view line) { server_log.emplace_back(line); };
  lanyard::test::diagnostics_recorder client_diags;
  engine client{make_context(stranger, accessory, client_diags.handler())};
  engine server{context(accessory, so)};
  client.set_peer_id("lamp-1");

  std::error_code cec, sec;
  drive_handshake(client, server, cec, sec);
  REQUIRE(sec == std::errc::permission_denied);

  // The server: its verifier refused the stranger's key, and it answered with an alert.
  const lanyard::core::error_detail& refused = server.last_error();
  CHECK(refused.code == std::errc::permission_denied);
  CHECK(refused.text(diag::key::cause) == diag::cause::pin_verifier);
  CHECK(refused.text(diag::key::role) == "server");
  CHECK(refused.text(fk::fingerprint_presented) == to_string(stranger.fingerprint()));
  CHECK(refused.text(diag::key::peer_name) == "phone-x");
  CHECK(mbedtls_error(refused) < 0);
  const auto sent = refused.number(diag::key::alert_sent);
  REQUIRE(sent);
  // The log fallback: exactly the sentence, once.
  CHECK(server_log == std::vector<std::string>{server.last_error_detail()});

  // The client: the peer's alert, by number, for the peer id it asked for.
  REQUIRE(cec == tls_errc::peer_rejected_certificate);
  const lanyard::core::error_detail& rejected = client.last_error();
  CHECK(rejected.code == tls_errc::peer_rejected_certificate);
  CHECK(rejected.text(diag::key::cause) == diag::cause::peer_alert);
  CHECK(rejected.number(fk::tls_alert) == *sent);
  CHECK(mbedtls_error(rejected) == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
  CHECK(rejected.text(fk::device_id) == "lamp-1");
  REQUIRE(client_diags.seen.size() == 1);
  CHECK(client_diags.seen.front().id == diag::handshake_failed);
  CHECK(client_diags.seen.front().code == tls_errc::peer_rejected_certificate);
  CHECK(client_diags.seen.front().text == client.last_error_detail());
}

namespace {

// Re-issues the certificate of the identity in `dir` (same key, so the same fingerprint) with
// validity [from, to] ("YYYYMMDDhhmmss"), as an accessory whose clock was wrong when it made it.
identity with_validity(const std::filesystem::path& dir, const char* id, const char* from,
                       const char* to) {
  identity_files::load_or_create(dir, id);
  mbedtls_pk_context key;
  mbedtls_pk_init(&key);
  mbedtls_entropy_context entropy;
  mbedtls_entropy_init(&entropy);
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ctr_drbg_init(&drbg);
  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  const std::string subject = std::string("CN=") + id;
  unsigned char pem[4096] = {};
  REQUIRE(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) == 0);
  REQUIRE(mbedtls_pk_parse_keyfile(&key, (dir / "identity.key").c_str(), nullptr) == 0);
  REQUIRE(mbedtls_mpi_lset(&serial, 7) == 0);
  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, &key);
  mbedtls_x509write_crt_set_issuer_key(&crt, &key);
  REQUIRE(mbedtls_x509write_crt_set_serial(&crt, &serial) == 0);
  REQUIRE(mbedtls_x509write_crt_set_subject_name(&crt, subject.c_str()) == 0);
  REQUIRE(mbedtls_x509write_crt_set_issuer_name(&crt, subject.c_str()) == 0);
  REQUIRE(mbedtls_x509write_crt_set_validity(&crt, from, to) == 0);
  REQUIRE(mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1) == 0);
  REQUIRE(mbedtls_x509write_crt_pem(&crt, pem, sizeof pem, mbedtls_ctr_drbg_random, &drbg) == 0);
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&crt);
  mbedtls_ctr_drbg_free(&drbg);
  mbedtls_entropy_free(&entropy);
  mbedtls_pk_free(&key);
  std::ofstream(dir / "identity.crt", std::ios::trunc) << reinterpret_cast<const char*>(pem);
  std::error_code ec;
  identity loaded = identity_files::load(dir, ec);
  REQUIRE_FALSE(ec);
  return loaded;
}

} // namespace

TEST_CASE("validity dates never refuse a pinned key: expired and not-yet-valid certificates pair") {
  // An accessory without a real-time clock makes its certificate in 1970 (expired to everyone
  // else) or believes it is 1970 (every other certificate is "not yet valid" to it).
  const auto dir =
      std::filesystem::temp_directory_path() / ("lanyard-validity-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const identity old_accessory =
      with_validity(dir / "acc", "lamp-1970", "19700101000000", "19710101000000");
  const identity future_phone =
      with_validity(dir / "phone", "phone-2090", "20900101000000", "20910101000000");
  engine client{make_context(future_phone, old_accessory)};
  engine server{make_context(old_accessory, future_phone)};
  bool c_done = false, s_done = false;
  std::error_code cec, sec;
  for (int round = 0; round < 50 && !(c_done && s_done); ++round) {
    if (!c_done) {
      const want w = client.handshake(role::client, cec);
      c_done = cec || w == want::output || w == want::nothing;
    }
    transfer(client, server);
    if (!s_done) {
      const want w = server.handshake(role::server, sec);
      s_done = sec || w == want::output || w == want::nothing;
    }
    transfer(server, client);
  }
  CHECK_FALSE(cec);
  CHECK_FALSE(sec);
  CHECK(client.handshake_done());
  CHECK(server.handshake_done());
  // Both ends derive the same pairing exporter, and it is this connection's own.
  REQUIRE(client.exporter());
  REQUIRE(server.exporter());
  CHECK(
      std::equal(client.exporter()->begin(), client.exporter()->end(), server.exporter()->begin()));
  std::filesystem::remove_all(dir);
}

TEST_CASE_METHOD(pair_fixture, "each connection has its own pairing exporter, none before the "
                               "handshake") {
  CHECK_FALSE(client.exporter());
  std::error_code cec, sec;
  handshake(cec, sec);
  REQUIRE_FALSE(cec);
  REQUIRE(client.exporter());
  std::array<std::uint8_t, 32> first{};
  std::copy(client.exporter()->begin(), client.exporter()->end(), first.begin());
  pair_fixture other;
  other.handshake(cec, sec);
  REQUIRE(other.client.exporter());
  CHECK_FALSE(std::equal(first.begin(), first.end(), other.client.exporter()->begin()));
}

TEST_CASE("context::create reports a setup failure as code, sentence and fields", "[tls][engine]") {
  const identity self = make_identity("lamp-1");

  SECTION("an ALPN mbedTLS refuses") {
    context_options o;
    o.alpn = ""; // ALPN protocol names are 1-255 bytes
    lanyard::core::error_detail error;
    context ctx = context::create(self, o, error);
    CHECK_FALSE(ctx);
    INFO(error.message());
    CHECK(error.code == tls_errc::crypto_failure);
    CHECK(error.text(fk::step) == lanyard::tls::context_step::alpn);
    CHECK(mbedtls_error(error) == MBEDTLS_ERR_SSL_BAD_INPUT_DATA);
    // The golden sentence of a context that cannot be set up (mbedTLS's reason follows).
    CHECK(error.detail.rfind("setting ALPN (its protocol name must be 1 to 255 bytes): mbedTLS: ",
                             0) == 0);
    // The compatibility form and the throwing constructor carry the same code and sentence.
    std::error_code ec;
    std::string detail;
    CHECK_FALSE(context::create(self, o, ec, &detail));
    CHECK(ec == tls_errc::crypto_failure);
    CHECK(detail == error.detail);
    std::string what;
    try {
      context thrown(self, o);
    } catch (const std::system_error& e) {
      CHECK(e.code() == tls_errc::crypto_failure);
      what = e.what();
    }
    CHECK(what.find(error.detail) != std::string::npos);
  }
  SECTION("an empty identity") {
    lanyard::core::error_detail error;
    CHECK_FALSE(context::create(identity{}, context_options{}, error));
    CHECK(error.code == tls_errc::bad_identity_file);
  }
  SECTION("success clears the error") {
    lanyard::core::error_detail error{make_error_code(tls_errc::crypto_failure), "stale"};
    error.with(fk::step, std::string("stale"));
    CHECK(context::create(self, context_options{}, error));
    CHECK(error.ok());
    CHECK(error.detail.empty());
    CHECK(error.fields.empty());
  }
}

namespace {

// An identity whose certificate names `subject` as its CN, whatever its length: made through
// the engine's own parts, since identity::generate() refuses what is not a device id. What a
// peer that is not Lanyard may present.
identity with_subject(const std::string& subject) {
  namespace detail = lanyard::tls::detail;
  auto p = std::make_shared<identity::impl>();
  detail::drbg rng;
  REQUIRE(detail::seed_for_identity(rng, "long-subject") == 0);
  REQUIRE(detail::generate_key(p->key, rng) == 0);
  std::string pem;
  REQUIRE(detail::issue_certificate(p->key, subject, rng, pem) == 0);
  REQUIRE(detail::parse_pem_cert(p->cert, pem) == 0);
  detail::finish(*p);
  return lanyard::tls::identity_access::make(std::move(p));
}

} // namespace

TEST_CASE("a peer's subject CN longer than RFC 5280's 64 bytes refuses its certificate",
          "[tls][engine]") {
  // The engine keeps the CN in fixed room (a firmware connection allocates nothing), so it
  // takes no more than X.509's upper bound, and says so rather than cutting the name.
  const identity accessory = make_identity("lamp-1");
  SECTION("64 bytes: kept whole") {
    const std::string cn(lanyard::tls::max_peer_subject, 'c');
    const identity controller = with_subject(cn);
    engine client{make_context(controller, accessory)};
    engine server{make_context(accessory, controller)};
    std::error_code cec, sec;
    drive_handshake(client, server, cec, sec);
    REQUIRE_FALSE(cec);
    REQUIRE_FALSE(sec);
    CHECK(server.peer_subject() == cn);
  }
  SECTION("65 bytes, or 200: refused, and the sentence says why") {
    for (std::size_t size : {lanyard::tls::max_peer_subject + 1, std::size_t{200}}) {
      CAPTURE(size);
      const identity controller = with_subject(std::string(size, 'c'));
      lanyard::test::diagnostics_recorder diags;
      engine client{make_context(controller, accessory)};
      engine server{make_context(accessory, controller, diags.handler())};
      std::error_code cec, sec;
      drive_handshake(client, server, cec, sec);
      CHECK(sec == tls_errc::bad_peer_certificate);
      CHECK(cec);
      CHECK(server.peer_subject().empty());
      INFO(server.last_error_detail());
      CHECK(server.last_error_detail().find("subject CN of " + std::to_string(size) +
                                            " bytes, more than RFC 5280's 64") !=
            std::string::npos);
      REQUIRE(diags.seen.size() == 1);
      CHECK(diags.seen.front().code == tls_errc::bad_peer_certificate);
    }
  }
  SECTION("an accessory's, seen by the app: refused the same way") {
    const identity long_accessory = with_subject(std::string(100, 'a'));
    const identity controller = make_identity("phone-a");
    engine client{make_context(controller, long_accessory)};
    engine server{make_context(long_accessory, controller)};
    std::error_code cec, sec;
    drive_handshake(client, server, cec, sec);
    CHECK(cec == tls_errc::bad_peer_certificate);
    CHECK(client.last_error_detail().find("subject CN of 100 bytes") != std::string::npos);
  }
}

TEST_CASE("describe_failures off: a failure keeps its code, composes no sentence, reports nothing",
          "[tls][engine]") {
  // Firmware's setting: the same codes, and no heap for a failure's words.
  const identity accessory = make_identity("lamp-1");
  const identity controller = make_identity("phone-a");
  const identity stranger = make_identity("phone-b");
  for (bool describe : {true, false}) {
    CAPTURE(describe);
    lanyard::test::diagnostics_recorder diags;
    context_options o = pin_options(controller); // the stranger's key is not pinned
    o.diagnostics = diags.handler();
    o.describe_failures = describe;
    engine server{context(accessory, o)};
    engine client{make_context(stranger, accessory)};
    std::error_code cec, sec;
    drive_handshake(client, server, cec, sec);
    CHECK(sec == std::errc::permission_denied);
    CHECK(server.last_error().code == sec);
    if (describe) {
      CHECK_FALSE(server.last_error_detail().empty());
      CHECK_FALSE(server.last_error().fields.empty());
      CHECK(diags.seen.size() == 1);
    } else {
      CHECK(server.last_error_detail().empty());
      CHECK(server.last_error().fields.empty());
      CHECK(diags.seen.empty());
    }
    // Garbage where a ClientHello belongs: the same code either way.
    engine fresh{context(accessory, o)};
    const std::string junk = "GET / HTTP/1.1\r\n\r\n";
    auto in = fresh.prepare_input(junk.size());
    std::memcpy(in.data(), junk.data(), junk.size());
    fresh.commit_input(junk.size());
    std::error_code ec;
    fresh.handshake(role::server, ec);
    CHECK(ec);
    CHECK(fresh.last_error().code == ec);
    CHECK(fresh.last_error_detail().empty() == !describe);
  }
}
