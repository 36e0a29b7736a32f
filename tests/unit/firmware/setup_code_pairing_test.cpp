// Pairing the firmware accessory with its setup code (SPAKE2+, the accessory holding only the
// verifier): the right code pairs; a wrong one is refused, charged against the window before the
// accessory's confirmation can reveal anything, and persisted; the window still closes after a
// pairing. Real TLS and pairing crypto over memory.
#include "firmware_harness.hpp"

#include <lanyard/core/pairing_error.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>

using namespace fw_test;

namespace {

core::pairing_credentials code(std::string digits) {
  core::pairing_credentials c;
  c.method = core::pairing_method::setup_code;
  c.code = std::move(digits);
  return c;
}

} // namespace

TEST_CASE("firmware accessory: pairing with the setup code; a wrong code is counted") {
  bench b;
  b.code_verifier.emplace();
  // 1234-5679 (7 digits and their Verhoeff check digit); few PBKDF2 iterations keep it quick.
  REQUIRE_FALSE(lanyard::crypto::make_setup_code_verifier(
      "12345679", lanyard::crypto::system_random(), 1000, *b.code_verifier));
  REQUIRE(!b.boot());

  // A stranger guesses a code with a valid check digit: refused, counted and stored.
  std::string guess = "7654321";
  guess += core::verhoeff_check_digit(guess);
  controller stranger("stranger", b.id.fingerprint());
  stranger.connect(b, t0, code(guess));
  run(b, {&stranger}, t0);
  REQUIRE(stranger.pairing);
  // SPAKE2+: the controller cannot tell a mistyped code from an impostor accessory.
  CHECK(stranger.pairing->outcome().error == core::pairing_errc::accessory_unverified);
  CHECK(b.paired.empty());
  const std::uint32_t left = b.acc->controllers().window().attempts_left();
  CHECK(left == core::pairing_window::max_failed_attempts - 1);
  REQUIRE(!b.boot(t0 + 1s)); // the count survives a reboot
  CHECK(b.acc->controllers().window().attempts_left() == left);

  // The owner types the right code.
  controller owner("owner", b.id.fingerprint());
  owner.connect(b, t0 + 2s, code("12345679"));
  run(b, {&owner}, t0 + 2s);
  REQUIRE(owner.pairing);
  REQUIRE(owner.pairing->done());
  CHECK(!owner.pairing->outcome().error);
  REQUIRE(b.paired.size() == 1);
  CHECK(b.paired[0].controller == owner.key());
  CHECK(b.paired[0].role == core::paired_role::admin);
  CHECK(b.paired[0].method == core::pairing_method::setup_code);
  CHECK(owner.session.state() == core::session_state::established);
  CHECK(!b.acc->pairing_window_open()); // one pairing per opening
}
