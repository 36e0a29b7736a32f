// What the relay keeps on disk (docs/design/relay.md): the accessory's relay secret and
// provisioned settings (trust::relay_state), and an app's tickets next to its pins
// (trust_store relay tickets). Real files in a scratch directory.
#include "lanyard/trust/relay_state.hpp"
#include "lanyard/trust/trust_store.hpp"

#include "support/io_test_support.hpp"

#include <lanyard/crypto/error.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

using namespace lanyard;
using namespace lanyard::trust;
namespace fs = std::filesystem;

namespace {

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-relay-state") {}
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const fs::path& p, std::string_view text) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  }
  REQUIRE(::chmod(p.c_str(), 0600) == 0);
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

const char* const ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

core::relay_settings settings() {
  core::relay_settings s;
  s.broker = {"198.18.5.2", 8883, ca_pem};
  s.accessory_password = "acc-secret";
  s.household_account = "home1";
  s.household_password = "home-secret";
  return s;
}

core::relay_ticket ticket() {
  core::relay_ticket t;
  t.broker = {"198.18.5.2", 8883, ca_pem};
  t.household_account = "home1";
  t.household_password = "home-secret";
  t.accessory_inbox = "V6VXVBK453VV45SV5WCBPUPTEC";
  t.relay_key.fill(7);
  return t;
}

core::fingerprint fp_of(std::uint8_t seed) {
  core::fingerprint fp;
  for (std::size_t i = 0; i < fp.bytes.size(); ++i)
    fp.bytes[i] = static_cast<std::uint8_t>(seed + i);
  return fp;
}

} // namespace

TEST_CASE("relay_state: the secret is made once, private, and the same after a restart") {
  temp_dir d;
  relay_state a(d.path);
  REQUIRE_FALSE(a.load().failed());
  CHECK_FALSE(a.settings());
  CHECK(fs::file_size(a.secret_path()) == 32);
  CHECK(mode_of(a.secret_path()) == 0600);
  crypto::relay_key zero{};
  CHECK(a.secret() != zero);
  relay_state b(d.path);
  REQUIRE_FALSE(b.load().failed());
  CHECK(b.secret() == a.secret());
}

TEST_CASE("relay_state: without randomness no secret is made, and nothing is written") {
  temp_dir d;
  relay_state s(d.path, crypto::random_source{});
  const store_status st = s.load();
  CHECK(st.code == crypto::crypto_errc::random_failure);
  CHECK_FALSE(fs::exists(s.secret_path()));
}

TEST_CASE("relay_state: settings are stored privately, read back, and cleared") {
  temp_dir d;
  relay_state a(d.path);
  REQUIRE_FALSE(a.load().failed());
  REQUIRE_FALSE(a.save_settings(settings()).failed());
  CHECK(mode_of(a.settings_path()) == 0600);
  relay_state b(d.path);
  REQUIRE_FALSE(b.load().failed());
  REQUIRE(b.settings());
  CHECK(b.settings()->broker.host == "198.18.5.2");
  CHECK(b.settings()->accessory_password == "acc-secret");
  CHECK(b.settings()->household_account == "home1");
  const crypto::relay_key secret = b.secret();
  REQUIRE_FALSE(b.clear_settings().failed());
  CHECK_FALSE(b.settings());
  CHECK_FALSE(fs::exists(b.settings_path()));
  CHECK(fs::exists(b.ca_path()));     // a broker connection still open may reconnect with it
  CHECK(fs::exists(b.secret_path())); // the relay keys stay the same if it comes back
  relay_state c(d.path);
  REQUIRE_FALSE(c.load().failed());
  CHECK_FALSE(c.settings()); // off across a restart
  CHECK(c.secret() == secret);
  CHECK_FALSE(fs::exists(c.ca_path())); // unused: load() removed it
  REQUIRE_FALSE(b.save_settings(settings()).failed());
  REQUIRE_FALSE(b.clear_settings().failed());
  REQUIRE_FALSE(b.remove_unused_ca().failed());
  CHECK_FALSE(fs::exists(b.ca_path()));
  CHECK_FALSE(b.clear_settings().failed()); // nothing to delete is no error
}

TEST_CASE("relay_state: settings out of bounds are refused and nothing changes") {
  temp_dir d;
  relay_state s(d.path);
  REQUIRE_FALSE(s.load().failed());
  core::relay_settings bad = settings();
  bad.household_account = "no spaces/allowed";
  CHECK(s.save_settings(bad).code == core::relay_settings_errc::bad_value);
  CHECK_FALSE(s.settings());
  CHECK_FALSE(fs::exists(s.settings_path()));
}

TEST_CASE("relay_state: damaged files are errors that name the file, never their contents") {
  temp_dir d;
  {
    relay_state s(d.path);
    REQUIRE_FALSE(s.load().failed());
    REQUIRE_FALSE(s.save_settings(settings()).failed());
  }
  SECTION("a secret of another size") {
    write_all(d.path / "relay-secret", "short");
    relay_state s(d.path);
    const store_status st = s.load();
    CHECK(st.code == trust_errc::store_corrupt);
    CHECK(st.message().find("relay-secret") != std::string::npos);
    CHECK(read_all(d.path / "relay-secret") == "short"); // not replaced
  }
  SECTION("settings cut short") {
    const std::string whole = read_all(d.path / "relay-settings");
    write_all(d.path / "relay-settings", whole.substr(0, whole.size() - 3));
    relay_state s(d.path);
    const store_status st = s.load();
    CHECK(st.code == trust_errc::store_corrupt);
    CHECK(st.message().find("relay-settings") != std::string::npos);
    CHECK(st.message().find("home-secret") == std::string::npos);
  }
  SECTION("a settings file others may write") {
    REQUIRE(::chmod((d.path / "relay-settings").c_str(), 0666) == 0);
    relay_state s(d.path);
    CHECK(s.load().code == trust_errc::store_permissions);
  }
}

TEST_CASE("trust store: a relay ticket goes with its pin") {
  temp_dir d;
  trust_store store(d.path / "trust-store");
  REQUIRE_FALSE(store.load().failed());
  std::vector<std::uint8_t> encoded;
  REQUIRE_FALSE(core::encode_relay_ticket(ticket(), encoded));
  // Not pinned: no ticket.
  CHECK(store.save_relay_ticket("lamp-1", encoded).code == trust_errc::unknown_device);
  REQUIRE_FALSE(store
                    .pin("lamp-1", fp_of(1), pin_method::verified_payload, "Lamp",
                         std::chrono::system_clock::now())
                    .failed());
  CHECK_FALSE(store.relay_ticket("lamp-1"));
  REQUIRE_FALSE(store.save_relay_ticket("lamp-1", encoded).failed());
  const auto back = store.relay_ticket("lamp-1");
  REQUIRE(back);
  CHECK(back->accessory_inbox == "V6VXVBK453VV45SV5WCBPUPTEC");
  CHECK(back->relay_key == ticket().relay_key);
  CHECK(read_all(store.relay_ca_path("lamp-1")) == ca_pem);
  CHECK(mode_of(store.relay_ca_path("lamp-1")) == 0600);
  // A ticket that does not decode is refused; the stored one stays.
  std::vector<std::uint8_t> cut(encoded.begin(), encoded.end() - 1);
  CHECK(store.save_relay_ticket("lamp-1", cut).code == trust_errc::invalid_record);
  CHECK(store.relay_ticket("lamp-1"));
  // The relay switched off: the ticket and its CA go, the pin stays.
  REQUIRE_FALSE(store.forget_relay_ticket("lamp-1").failed());
  CHECK_FALSE(store.relay_ticket("lamp-1"));
  CHECK_FALSE(fs::exists(store.relay_ca_path("lamp-1")));
  CHECK(store.find("lamp-1"));
  CHECK_FALSE(store.forget_relay_ticket("lamp-1").failed()); // nothing to delete is no error
  REQUIRE_FALSE(store.save_relay_ticket("lamp-1", encoded).failed());
  // Forgetting the accessory removes its ticket and CA.
  REQUIRE_FALSE(store.forget("lamp-1").failed());
  CHECK_FALSE(store.relay_ticket("lamp-1"));
  CHECK_FALSE(fs::exists(store.relay_ca_path("lamp-1")));
}

TEST_CASE("trust store: a damaged ticket file is reported, not used") {
  temp_dir d;
  trust_store store(d.path / "trust-store");
  REQUIRE_FALSE(store.load().failed());
  REQUIRE_FALSE(store
                    .pin("lamp-1", fp_of(1), pin_method::verified_payload, "Lamp",
                         std::chrono::system_clock::now())
                    .failed());
  std::vector<std::uint8_t> encoded;
  REQUIRE_FALSE(core::encode_relay_ticket(ticket(), encoded));
  REQUIRE_FALSE(store.save_relay_ticket("lamp-1", encoded).failed());
  const fs::path file = d.path / "relay-tickets" / "lamp-1.ticket";
  REQUIRE(fs::exists(file));
  write_all(file, "\x01\x02garbage");
  store_status err;
  CHECK_FALSE(store.relay_ticket("lamp-1", &err));
  CHECK(err.code == trust_errc::store_corrupt);
  CHECK(err.message().find("home-secret") == std::string::npos);
}
