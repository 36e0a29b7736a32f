#include "support/io_test_support.hpp"

#include <lanyard/tls/identity.hpp>

#include <lanyard/tls/certificate.hpp>
#include <lanyard/tls/error.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using lanyard::tls::identity;
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

} // namespace

TEST_CASE("identity is created on first use and reloaded with the same fingerprint",
          "[tls][identity]") {
  temp_dir dir;
  fs::path home = dir.path / "state";
  std::error_code ec;
  std::string detail;
  identity created = identity::load_or_create(home, "lamp-1", ec, &detail);
  INFO(detail);
  REQUIRE(!ec);
  REQUIRE(created);
  CHECK(created.device_id() == "lamp-1");
  CHECK(fs::exists(home / "identity.key"));
  CHECK(fs::exists(home / "identity.crt"));
  CHECK(mode_of(home / "identity.key") == 0600);
  CHECK(mode_of(home) == 0700);
  CHECK(read_file(home / "identity.key").find("-----BEGIN EC PRIVATE KEY-----") == 0);
  CHECK(read_file(home / "identity.crt").find("-----BEGIN CERTIFICATE-----") == 0);

  identity again = identity::load_or_create(home, "lamp-1", ec, &detail);
  REQUIRE(!ec);
  CHECK(again.fingerprint() == created.fingerprint());
  CHECK(std::equal(again.certificate_der().begin(), again.certificate_der().end(),
                   created.certificate_der().begin(), created.certificate_der().end()));

  identity loaded = identity::load(home, ec, &detail);
  REQUIRE(!ec);
  CHECK(loaded.device_id() == "lamp-1");
  CHECK(loaded.fingerprint() == created.fingerprint());

  // Another directory: another key, another fingerprint.
  identity other = identity::load_or_create(dir.path / "other", "lamp-1", ec);
  REQUIRE(!ec);
  CHECK(other.fingerprint() != created.fingerprint());
}

TEST_CASE("identity refuses a key file readable by group or others", "[tls][identity]") {
  temp_dir dir;
  std::error_code ec;
  REQUIRE(identity::load_or_create(dir.path, "lamp-1", ec));
  fs::path key = dir.path / "identity.key";

  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    REQUIRE(::chmod(key.c_str(), mode) == 0);
    std::string detail;
    identity id = identity::load_or_create(dir.path, "lamp-1", ec, &detail);
    INFO(detail);
    CHECK(ec == tls_errc::identity_permissions);
    CHECK_FALSE(id);
    CHECK(detail.find(key.string()) != std::string::npos);
    CHECK(detail.find("chmod 600 " + key.string()) != std::string::npos);
    identity::load(dir.path, ec, &detail);
    CHECK(ec == tls_errc::identity_permissions);
  }
  REQUIRE(::chmod(key.c_str(), 0600) == 0);
  CHECK(identity::load(dir.path, ec));
  CHECK(!ec);
}

TEST_CASE("a re-issued certificate for the same key keeps the fingerprint", "[tls][identity]") {
  temp_dir dir;
  std::error_code ec;
  std::string detail;
  identity original = identity::load_or_create(dir.path, "lamp-1", ec);
  REQUIRE(!ec);
  std::string original_crt = read_file(dir.path / "identity.crt");

  SECTION("explicit re-issue") {
    identity reissued = identity::reissue_certificate(dir.path, ec, &detail);
    INFO(detail);
    REQUIRE(!ec);
    CHECK(read_file(dir.path / "identity.crt") != original_crt); // new serial, new signature
    CHECK(reissued.device_id() == "lamp-1");
    CHECK(reissued.fingerprint() == original.fingerprint());
  }
  SECTION("a lost certificate is re-issued from the key") {
    fs::remove(dir.path / "identity.crt");
    identity reissued = identity::load_or_create(dir.path, "lamp-1", ec, &detail);
    INFO(detail);
    REQUIRE(!ec);
    CHECK(read_file(dir.path / "identity.crt") != original_crt);
    CHECK(reissued.fingerprint() == original.fingerprint());
  }
}

TEST_CASE("identity load errors are precise", "[tls][identity]") {
  temp_dir dir;
  std::error_code ec;
  std::string detail;
  REQUIRE(identity::load_or_create(dir.path, "lamp-1", ec));
  fs::path key = dir.path / "identity.key";
  fs::path crt = dir.path / "identity.crt";

  SECTION("damaged key") {
    write_file(key, "-----BEGIN EC PRIVATE KEY-----\ngarbage\n-----END EC PRIVATE KEY-----\n");
    identity::load_or_create(dir.path, "lamp-1", ec, &detail);
    CHECK(ec == tls_errc::bad_identity_file);
    CHECK(detail.find(key.string()) != std::string::npos);
  }
  SECTION("damaged certificate") {
    write_file(crt, "not a certificate");
    identity::load_or_create(dir.path, "lamp-1", ec, &detail);
    CHECK(ec == tls_errc::bad_identity_file);
    CHECK(detail.find(crt.string()) != std::string::npos);
  }
  SECTION("key lost, certificate present") {
    fs::remove(key);
    identity::load_or_create(dir.path, "lamp-1", ec, &detail);
    CHECK(ec == tls_errc::bad_identity_file);
    CHECK(detail.find("lost") != std::string::npos);
    CHECK_FALSE(fs::exists(key)); // never silently replaced
  }
  SECTION("certificate of another key") {
    temp_dir other;
    REQUIRE(identity::load_or_create(other.path, "lamp-1", ec));
    fs::copy_file(other.path / "identity.crt", crt, fs::copy_options::overwrite_existing);
    identity::load_or_create(dir.path, "lamp-1", ec, &detail);
    CHECK(ec == tls_errc::bad_identity_file);
    CHECK(detail.find("does not belong") != std::string::npos);
  }
  SECTION("certificate of another device id") {
    identity::load_or_create(dir.path, "lamp-2", ec, &detail);
    CHECK(ec == tls_errc::bad_identity_file);
    CHECK(detail.find("lamp-1") != std::string::npos);
  }
  SECTION("missing directory") {
    identity::load(dir.path / "nope", ec, &detail);
    CHECK(ec == tls_errc::identity_io);
  }
  SECTION("invalid device id") {
    identity::load_or_create(dir.path / "new", "bad id!", ec, &detail);
    CHECK(ec == tls_errc::invalid_device_id);
    CHECK_FALSE(fs::exists(dir.path / "new"));
  }
  SECTION("throwing overload carries the detail") {
    ::chmod(key.c_str(), 0644);
    std::string what;
    try {
      identity::load_or_create(dir.path, "lamp-1");
    } catch (const std::system_error& e) {
      what = e.what();
      CHECK(e.code() == tls_errc::identity_permissions);
    }
    CHECK(what.find("chmod 600") != std::string::npos);
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
  std::string detail;
  lanyard::tls::certificate_fingerprint(junk, ec, &detail);
  CHECK(ec == tls_errc::bad_identity_file);
  CHECK(detail.find("mbedTLS") != std::string::npos);

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
          identity::load_or_create(home, "lamp-1", errors[static_cast<std::size_t>(i)]);
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
  CHECK(identity::load(home, ec).fingerprint() == ids[0].fingerprint());
  int files = 0;
  for (const auto& e : fs::directory_iterator(home)) {
    (void)e;
    ++files;
  }
  CHECK(files == 2);
}
