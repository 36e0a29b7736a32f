#include "support/io_test_support.hpp"

#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>

#include <lanyard/tls_engine/certificate.hpp>
#include <lanyard/tls_engine/error.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
namespace fk = lanyard::core::field_key;
namespace step = lanyard::tls::identity_step;
using lanyard::core::error_detail;
using lanyard::tls::identity;
namespace identity_files = lanyard::tls::identity_files;
using lanyard::tls::tls_errc;

namespace {

// A fresh directory under the temp dir, removed at the end of the test.
struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-tls-id") {}
};

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

// A signed field (os_error, mbedtls_error), or nullopt if absent or of another kind.
std::optional<std::int64_t> signed_field(const error_detail& e, std::string_view key) {
  const lanyard::core::field* f = e.find(key);
  if (f == nullptr) return std::nullopt;
  if (const auto* v = std::get_if<std::int64_t>(&f->value)) return *v;
  return std::nullopt;
}

} // namespace

TEST_CASE("identity is created on first use and reloaded with the same fingerprint",
          "[tls][identity]") {
  temp_dir dir;
  fs::path home = dir.path / "state";
  std::error_code ec;
  error_detail error;
  identity created = identity_files::load_or_create(home, "lamp-1", error);
  INFO(error.message());
  REQUIRE(error.ok());
  CHECK(error.fields.empty());
  REQUIRE(created);
  CHECK(created.device_id() == "lamp-1");
  CHECK(fs::exists(home / "identity.key"));
  CHECK(fs::exists(home / "identity.crt"));
  CHECK(mode_of(home / "identity.key") == 0600);
  CHECK(mode_of(home) == 0700);
  CHECK(read_file(home / "identity.key").find("-----BEGIN EC PRIVATE KEY-----") == 0);
  CHECK(read_file(home / "identity.crt").find("-----BEGIN CERTIFICATE-----") == 0);

  identity again = identity_files::load_or_create(home, "lamp-1", error);
  REQUIRE(error.ok());
  CHECK(again.fingerprint() == created.fingerprint());
  CHECK(std::equal(again.certificate_der().begin(), again.certificate_der().end(),
                   created.certificate_der().begin(), created.certificate_der().end()));

  identity loaded = identity_files::load(home, error);
  REQUIRE(error.ok());
  CHECK(loaded.device_id() == "lamp-1");
  CHECK(loaded.fingerprint() == created.fingerprint());

  // Another directory: another key, another fingerprint.
  identity other = identity_files::load_or_create(dir.path / "other", "lamp-1", ec);
  REQUIRE(!ec);
  CHECK(other.fingerprint() != created.fingerprint());
}

TEST_CASE("identity refuses a key file readable by group or others", "[tls][identity]") {
  temp_dir dir;
  std::error_code ec;
  REQUIRE(identity_files::load_or_create(dir.path, "lamp-1", ec));
  fs::path key = dir.path / "identity.key";

  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    REQUIRE(::chmod(key.c_str(), mode) == 0);
    char mode_text[8];
    std::snprintf(mode_text, sizeof mode_text, "%04o", static_cast<unsigned>(mode));
    error_detail error;
    identity id = identity_files::load_or_create(dir.path, "lamp-1", error);
    INFO(error.message());
    CHECK(error.code == tls_errc::identity_permissions);
    CHECK_FALSE(id);
    CHECK(error.text(fk::step) == step::read_key);
    CHECK(error.text(fk::file) == key.string());
    CHECK(error.text(fk::mode) == mode_text);
    if (mode == 0644) {
      // The golden sentence of an identity error: what a person reads.
      CHECK(error.detail == key.string() +
                                " is accessible by group/others (mode 0644); a private key must be "
                                "mode 0600. Run: chmod 600 " +
                                key.string());
    }
    error_detail load_error;
    identity_files::load(dir.path, load_error);
    CHECK(load_error.code == tls_errc::identity_permissions);
    CHECK(load_error.text(fk::mode) == mode_text);
    // The compatibility form: the same code and sentence.
    std::string detail;
    identity_files::load(dir.path, ec, &detail);
    CHECK(ec == tls_errc::identity_permissions);
    CHECK(detail == load_error.detail);
  }
  REQUIRE(::chmod(key.c_str(), 0600) == 0);
  CHECK(identity_files::load(dir.path, ec));
  CHECK(!ec);
}

TEST_CASE("a re-issued certificate for the same key keeps the fingerprint", "[tls][identity]") {
  temp_dir dir;
  std::error_code ec;
  error_detail error;
  identity original = identity_files::load_or_create(dir.path, "lamp-1", ec);
  REQUIRE(!ec);
  std::string original_crt = read_file(dir.path / "identity.crt");

  SECTION("explicit re-issue") {
    identity reissued = identity_files::reissue_certificate(dir.path, error);
    INFO(error.message());
    REQUIRE(error.ok());
    CHECK(read_file(dir.path / "identity.crt") != original_crt); // new serial, new signature
    CHECK(reissued.device_id() == "lamp-1");
    CHECK(reissued.fingerprint() == original.fingerprint());
  }
  SECTION("a lost certificate is re-issued from the key") {
    fs::remove(dir.path / "identity.crt");
    identity reissued = identity_files::load_or_create(dir.path, "lamp-1", error);
    INFO(error.message());
    REQUIRE(error.ok());
    CHECK(read_file(dir.path / "identity.crt") != original_crt);
    CHECK(reissued.fingerprint() == original.fingerprint());
  }
  SECTION("the compatibility form") {
    std::string detail = "stale";
    identity reissued = identity_files::reissue_certificate(dir.path, ec, &detail);
    REQUIRE(!ec);
    CHECK(detail.empty());
    CHECK(reissued.fingerprint() == original.fingerprint());
  }
}

TEST_CASE("identity load errors are precise", "[tls][identity]") {
  temp_dir dir;
  std::error_code ec;
  error_detail error;
  REQUIRE(identity_files::load_or_create(dir.path, "lamp-1", ec));
  fs::path key = dir.path / "identity.key";
  fs::path crt = dir.path / "identity.crt";

  SECTION("damaged key") {
    write_file(key, "-----BEGIN EC PRIVATE KEY-----\ngarbage\n-----END EC PRIVATE KEY-----\n");
    CHECK_FALSE(identity_files::load_or_create(dir.path, "lamp-1", error));
    INFO(error.message());
    CHECK(error.code == tls_errc::bad_identity_file);
    CHECK(error.text(fk::step) == step::read_key);
    CHECK(error.text(fk::file) == key.string());
    const std::optional<std::int64_t> mbedtls = signed_field(error, fk::mbedtls_error);
    REQUIRE(mbedtls);
    CHECK(*mbedtls < 0); // an MBEDTLS_ERR_* value
    CHECK(error.find(fk::os_error) == nullptr);
  }
  SECTION("damaged certificate") {
    write_file(crt, "not a certificate");
    CHECK_FALSE(identity_files::load_or_create(dir.path, "lamp-1", error));
    INFO(error.message());
    CHECK(error.code == tls_errc::bad_identity_file);
    CHECK(error.text(fk::step) == step::read_certificate);
    CHECK(error.text(fk::file) == crt.string());
    const std::optional<std::int64_t> mbedtls = signed_field(error, fk::mbedtls_error);
    REQUIRE(mbedtls);
    CHECK(*mbedtls < 0);
  }
  SECTION("key lost, certificate present") {
    fs::remove(key);
    CHECK_FALSE(identity_files::load_or_create(dir.path, "lamp-1", error));
    INFO(error.message());
    CHECK(error.code == tls_errc::bad_identity_file);
    CHECK(error.text(fk::step) == step::read_key);
    CHECK(error.text(fk::file) == key.string());
    CHECK(signed_field(error, fk::os_error) == ENOENT);
    CHECK_FALSE(fs::exists(key)); // never silently replaced
  }
  SECTION("certificate of another key") {
    temp_dir other;
    REQUIRE(identity_files::load_or_create(other.path, "lamp-1", ec));
    fs::copy_file(other.path / "identity.crt", crt, fs::copy_options::overwrite_existing);
    CHECK_FALSE(identity_files::load_or_create(dir.path, "lamp-1", error));
    INFO(error.message());
    CHECK(error.code == tls_errc::bad_identity_file);
    CHECK(error.text(fk::step) == step::check_certificate);
    CHECK(error.text(fk::file) == crt.string());
    CHECK(error.find(fk::device_id) == nullptr); // the key differs, not the name
  }
  SECTION("certificate of another device id") {
    CHECK_FALSE(identity_files::load_or_create(dir.path, "lamp-2", error));
    INFO(error.message());
    CHECK(error.code == tls_errc::bad_identity_file);
    CHECK(error.text(fk::step) == step::check_certificate);
    CHECK(error.text(fk::file) == crt.string());
    CHECK(error.text(fk::device_id) == "lamp-1"); // the one the certificate names
  }
  SECTION("missing directory") {
    CHECK_FALSE(identity_files::load(dir.path / "nope", error));
    CHECK(error.code == tls_errc::identity_io);
    CHECK(error.text(fk::step) == step::directory);
    CHECK(error.text(fk::file) == (dir.path / "nope").string());
    CHECK(signed_field(error, fk::os_error) == ENOENT);
  }
  SECTION("missing certificate, load only") {
    fs::remove(crt);
    CHECK_FALSE(identity_files::load(dir.path, error));
    CHECK(error.code == tls_errc::identity_io);
    CHECK(error.text(fk::step) == step::read_certificate);
    CHECK(error.text(fk::file) == crt.string());
    CHECK(signed_field(error, fk::os_error) == ENOENT);
    CHECK_FALSE(fs::exists(crt)); // load() creates nothing
  }
  SECTION("invalid device id") {
    CHECK_FALSE(identity_files::load_or_create(dir.path / "new", "bad id!", error));
    CHECK(error.code == tls_errc::invalid_device_id);
    CHECK(error.text(fk::device_id) == "bad id!");
    CHECK_FALSE(fs::exists(dir.path / "new"));
  }
  SECTION("an error is cleared by the next success") {
    CHECK_FALSE(identity_files::load(dir.path / "nope", error));
    REQUIRE(error.failed());
    CHECK(identity_files::load(dir.path, error));
    CHECK(error.ok());
    CHECK(error.detail.empty());
    CHECK(error.fields.empty());
  }
  SECTION("throwing overload carries the detail") {
    ::chmod(key.c_str(), 0644);
    identity_files::load_or_create(dir.path, "lamp-1", error);
    REQUIRE(error.code == tls_errc::identity_permissions);
    std::string what;
    try {
      identity_files::load_or_create(dir.path, "lamp-1");
    } catch (const std::system_error& e) {
      what = e.what();
      CHECK(e.code() == tls_errc::identity_permissions);
    }
    CHECK(what.find(error.detail) != std::string::npos);
  }
}

TEST_CASE("certificate_fingerprint matches the identity's fingerprint", "[tls][identity]") {
  std::error_code ec;
  identity id = identity::generate("sensor.7", ec);
  REQUIRE(!ec);
  CHECK(id.device_id() == "sensor.7");

  CHECK(lanyard::tls::certificate_fingerprint(id.certificate_der(), ec) == id.fingerprint());
  CHECK(!ec);
  std::string pem = id.certificate_pem();
  REQUIRE(pem.find("-----BEGIN CERTIFICATE-----") == 0);
  auto pem_bytes = std::span(reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size());
  CHECK(lanyard::tls::certificate_fingerprint(pem_bytes, ec) == id.fingerprint());
  CHECK(!ec);
  CHECK(lanyard::tls::certificate_subject_cn(pem_bytes, ec) == "sensor.7");

  const std::uint8_t junk[] = {0x30, 0x03, 0x01, 0x01, 0xff};
  error_detail error;
  lanyard::tls::certificate_fingerprint(junk, error);
  CHECK(error.code == tls_errc::bad_identity_file);
  const std::optional<std::int64_t> mbedtls = signed_field(error, fk::mbedtls_error);
  REQUIRE(mbedtls);
  CHECK(*mbedtls < 0);
  // The golden sentence of a certificate that does not parse (mbedTLS's reason follows).
  CHECK(error.detail.rfind("not an X.509 certificate: mbedTLS: ", 0) == 0);
  lanyard::tls::certificate_subject_cn(junk, error);
  CHECK(error.code == tls_errc::bad_identity_file);
  CHECK(signed_field(error, fk::mbedtls_error) == mbedtls);
  // The compatibility form: the same code and sentence.
  std::string detail;
  lanyard::tls::certificate_fingerprint(junk, ec, &detail);
  CHECK(ec == tls_errc::bad_identity_file);
  CHECK(detail == error.detail);
  CHECK(lanyard::tls::certificate_subject_cn(pem_bytes, error) == "sensor.7");
  CHECK(error.ok());

  // Same key material never repeats across generations.
  identity other = identity::generate("sensor.7", ec);
  CHECK(other.fingerprint() != id.fingerprint());
}

TEST_CASE("concurrent first use yields one identity", "[tls][identity]") {
  temp_dir dir;
  fs::path home = dir.path / "shared";
  constexpr int n = 6;
  std::vector<identity> ids(n);
  std::vector<std::error_code> errors(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ids[static_cast<std::size_t>(i)] =
          identity_files::load_or_create(home, "lamp-1", errors[static_cast<std::size_t>(i)]);
    });
  for (auto& t : threads)
    t.join();
  for (int i = 0; i < n; ++i) {
    INFO("thread " << i << ": " << errors[static_cast<std::size_t>(i)].message());
    REQUIRE(!errors[static_cast<std::size_t>(i)]);
    CHECK(ids[static_cast<std::size_t>(i)].fingerprint() == ids[0].fingerprint());
  }
  // Everyone agrees with what is on disk, and no temp file is left behind.
  std::error_code ec;
  CHECK(identity_files::load(home, ec).fingerprint() == ids[0].fingerprint());
  int files = 0;
  for (const auto& e : fs::directory_iterator(home)) {
    (void)e;
    ++files;
  }
  CHECK(files == 2);
}
