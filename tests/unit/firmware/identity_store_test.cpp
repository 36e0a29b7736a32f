// firmware::load_or_create_identity: the accessory's key and certificate through the platform's
// storage (no files): made once, the same identity at every later start, and damaged or half
// stored identities reported, never replaced.
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
  SECTION("storage failing") {
    plat.storage_fails = true;
    CHECK(!fw::load_or_create_identity(plat.seam(), "lamp-7", error));
    CHECK(error.code == fw::firmware_errc::storage_failed);
  }
}
