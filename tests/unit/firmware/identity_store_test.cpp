// firmware::load_or_create_identity: the accessory's key and certificate through the platform's
// storage (no files): made once, the same identity at every later start, and damaged or half
// stored identities reported, never replaced — but for a first boot cut between its two
// writes, whose key nobody can have seen.
#include "firmware_harness.hpp"

#include <lanyard/firmware/error.hpp>
#include <lanyard/firmware/identity_store.hpp>

using namespace fw_test;

TEST_CASE("identity store: made at the first start, the same key at every later one") {
  test_platform plat;
  lanyard::core::error_detail error;
  tls::identity first = fw::load_or_create_identity(plat.seam(), "lamp-7", error);
  REQUIRE(!error);
  REQUIRE(first);
  CHECK(first.device_id() == "lamp-7");
  CHECK(plat.storage.count(fw::storage_key::identity_key) == 1);
  CHECK(plat.storage.count(fw::storage_key::identity_certificate) == 1);

  tls::identity again = fw::load_or_create_identity(plat.seam(), "lamp-7", error);
  REQUIRE(!error);
  CHECK(again.fingerprint() == first.fingerprint());

  // It serves TLS: a context made from it.
  tls::context ctx = tls::context::create(again, {}, error);
  CHECK(!error);
}

TEST_CASE("identity store: damaged, half-stored or unreadable identities are errors") {
  test_platform plat;
  lanyard::core::error_detail error;
  REQUIRE(fw::load_or_create_identity(plat.seam(), "lamp-7", error));
  const auto key = plat.storage.at(fw::storage_key::identity_key);

  SECTION("a damaged key") {
    plat.storage[fw::storage_key::identity_key][7] ^= std::byte{0x5a};
    CHECK(!fw::load_or_create_identity(plat.seam(), "lamp-7", error));
    CHECK(error.code == fw::firmware_errc::storage_corrupt);
  }
  SECTION("another identity's certificate") {
    test_platform other;
    REQUIRE(fw::load_or_create_identity(other.seam(), "lamp-8", error));
    plat.storage[fw::storage_key::identity_certificate] =
        other.storage.at(fw::storage_key::identity_certificate);
    CHECK(!fw::load_or_create_identity(plat.seam(), "lamp-7", error));
    CHECK(error.code == fw::firmware_errc::storage_corrupt);
  }
  SECTION("the certificate lost") {
    plat.storage.erase(fw::storage_key::identity_certificate);
    CHECK(!fw::load_or_create_identity(plat.seam(), "lamp-7", error));
    CHECK(error.code == fw::firmware_errc::storage_corrupt);
    CHECK(plat.storage.at(fw::storage_key::identity_key) == key); // nothing replaced
  }
  SECTION("the key lost after the accessory ran (a controller table exists): reported") {
    plat.storage[fw::storage_key::controllers] = std::vector<std::byte>(40, std::byte{1});
    const auto cert = plat.storage.at(fw::storage_key::identity_certificate);
    plat.storage.erase(fw::storage_key::identity_key);
    CHECK(!fw::load_or_create_identity(plat.seam(), "lamp-7", error));
    CHECK(error.code == fw::firmware_errc::storage_corrupt);
    CHECK(plat.storage.at(fw::storage_key::identity_certificate) == cert); // nothing replaced
  }
  SECTION("a first boot cut between the two writes (a certificate, no key, no controllers): "
          "a new identity") {
    const auto cert = plat.storage.at(fw::storage_key::identity_certificate);
    plat.storage.erase(fw::storage_key::identity_key);
    tls::identity id = fw::load_or_create_identity(plat.seam(), "lamp-7", error);
    REQUIRE(!error);
    REQUIRE(id);
    CHECK(plat.storage.at(fw::storage_key::identity_certificate) != cert);
    CHECK(plat.storage.count(fw::storage_key::identity_key) == 1);
    tls::identity again = fw::load_or_create_identity(plat.seam(), "lamp-7", error);
    REQUIRE(!error);
    CHECK(again.fingerprint() == id.fingerprint());
  }
  SECTION("storage failing") {
    plat.storage_fails = true;
    CHECK(!fw::load_or_create_identity(plat.seam(), "lamp-7", error));
    CHECK(error.code == fw::firmware_errc::storage_failed);
  }
}
