#include "lanyard/trust/controller_store.hpp"

#include "trust/slot_file.hpp"

#include "support/io_test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace lanyard;
using namespace lanyard::trust;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace field_key = lanyard::core::field_key;

namespace {

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-ctl") {}
};

core::fingerprint fp_of(std::uint8_t seed) {
  core::fingerprint fp;
  for (std::size_t i = 0; i < fp.bytes.size(); ++i)
    fp.bytes[i] = static_cast<std::uint8_t>(seed + i);
  return fp;
}

const std::chrono::system_clock::time_point t0{std::chrono::seconds(1795496029)};

void write_all(const fs::path& p, std::string_view text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// The store's newest contents (the file holds two copies: trust/slot_file.hpp).
std::string stored_text(const fs::path& p) {
  std::string text;
  bool exists = false;
  detail::slot_file_state state;
  REQUIRE(detail::read_slot_file(p, text, exists, state).ok());
  REQUIRE(exists);
  return text;
}

constexpr std::string_view boot_a = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
constexpr std::string_view boot_b = "11111111-2222-3333-4444-555555555555";

// A fixed reading of the window clock and the boot's clock.
std::function<window_time()> clocks(std::chrono::system_clock::time_point now,
                                    std::string_view boot, std::chrono::milliseconds since_boot) {
  window_time t;
  t.now = now;
  t.boot.boot_id = std::string(boot);
  t.boot.since_boot = since_boot;
  return [t] { return t; };
}

} // namespace

TEST_CASE("first boot: no file, no controllers, window never opened") {
  temp_dir dir;
  controller_store store(dir.path / "controllers");
  REQUIRE(store.load().ok());
  CHECK(store.first_boot());
  CHECK(store.list().empty());
  CHECK(store.window().close_reason == core::window_close_reason::never_opened);
  const auto d = store.check(fp_of(1), t0);
  CHECK(d.action == controller_action::refuse);
  CHECK(d.code == trust_errc::not_paired);
}

TEST_CASE("an unknown controller may pair only while the window is open") {
  temp_dir dir;
  const fs::path file = dir.path / "controllers";
  controller_store store(file);
  REQUIRE(store.load().ok());
  CHECK(store.pair(fp_of(1), "phone", controller_role::user, t0).code ==
        core::pairing_errc::window_closed);
  REQUIRE(store.open_window(t0).ok());
  CHECK(store.check(fp_of(1), t0 + 1min).action == controller_action::pair);
  REQUIRE(store.pair(fp_of(1), "phone", controller_role::user, t0 + 1min).ok());
  // The first controller becomes admin even if asked to be a user.
  CHECK(store.find(fp_of(1))->role == controller_role::admin);
  const auto d = store.check(fp_of(1), t0 + 1h);
  CHECK(d.action == controller_action::accept);
  REQUIRE(d.controller);
  CHECK(d.controller->name == "phone");
  CHECK(store.check(fp_of(2), t0 + 16min).code == trust_errc::not_paired);
  CHECK(store.pair(fp_of(2), "tablet", controller_role::user, t0 + 16min).code ==
        core::pairing_errc::window_closed);
  REQUIRE(store.pair(fp_of(2), "tablet", controller_role::user, t0 + 14min).ok());
  CHECK(store.find(fp_of(2))->role == controller_role::user);

  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  controller_store again(file);
  REQUIRE(again.load().ok());
  CHECK_FALSE(again.first_boot());
  CHECK(again.list() == store.list());
  CHECK(again.window() == store.window());
}

TEST_CASE("the 21st failed attempt is refused, also after a restart") {
  temp_dir dir;
  const fs::path file = dir.path / "controllers";
  {
    controller_store store(file);
    REQUIRE(store.load().ok());
    REQUIRE(store.open_window(t0).ok());
    for (int i = 0; i < 19; ++i) {
      REQUIRE(store.check(fp_of(50), t0 + 1s * i).action == controller_action::pair);
      REQUIRE(store.record_failure(t0 + 1s * i).ok());
    }
  }
  controller_store restarted(file); // "reboot"
  REQUIRE(restarted.load().ok());
  CHECK(restarted.window().failed_attempts == 19);
  REQUIRE(restarted.expire_window(t0 + 1min).ok());
  // Setup mode reopening after the reboot keeps the count.
  REQUIRE(restarted.open_window(t0 + 1min).ok());
  REQUIRE(restarted.check(fp_of(50), t0 + 2min).action == controller_action::pair); // 20th
  REQUIRE(restarted.record_failure(t0 + 2min).ok());
  const auto d = restarted.check(fp_of(50), t0 + 3min); // 21st
  CHECK(d.action == controller_action::refuse);
  CHECK(d.code == core::pairing_errc::too_many_attempts);
  CHECK(restarted.pair(fp_of(50), "", controller_role::user, t0 + 3min).code ==
        core::pairing_errc::too_many_attempts);
  CHECK(restarted.open_window(t0 + 4min).code == core::pairing_errc::too_many_attempts);

  controller_store after(file);
  REQUIRE(after.load().ok());
  CHECK(after.window().failed_attempts == 20);
  CHECK_FALSE(after.window().open);
  CHECK(after.check(fp_of(50), t0 + 5min).code == core::pairing_errc::too_many_attempts);
}

TEST_CASE("an admin reopens the window; a user may not") {
  temp_dir dir;
  controller_store store(dir.path / "controllers");
  REQUIRE(store.open_window(t0).ok());
  REQUIRE(store.pair(fp_of(1), "admin", controller_role::admin, t0).ok());
  REQUIRE(store.pair(fp_of(2), "user", controller_role::user, t0).ok());
  for (int i = 0; i < 20; ++i)
    REQUIRE(store.record_failure(t0 + 1s).ok());
  CHECK(store.open_window_by(fp_of(2), t0 + 1min).code == trust_errc::not_admin);
  CHECK(store.open_window_by(fp_of(9), t0 + 1min).code == trust_errc::not_paired);
  CHECK(store.open_window_by(fp_of(1), t0 + 1min, 2min).code ==
        core::pairing_errc::invalid_timeout);
  REQUIRE(store.open_window_by(fp_of(1), t0 + 1min, 5min).ok());
  CHECK(store.window().failed_attempts == 0);
  CHECK(store.window().deadline == t0 + 6min);
  CHECK(store.check(fp_of(3), t0 + 2min).action == controller_action::pair);
  REQUIRE(store.close_window().ok());
  CHECK(store.check(fp_of(3), t0 + 2min).code == trust_errc::not_paired);

  CHECK(store.add_by_admin(fp_of(2), fp_of(4), "x", controller_role::user, t0).code ==
        trust_errc::not_admin);
  REQUIRE(store.add_by_admin(fp_of(1), fp_of(4), "x", controller_role::user, t0).ok());
  CHECK(store.list().size() == 3);
}

TEST_CASE("the window times out and the timeout is persisted") {
  temp_dir dir;
  const fs::path file = dir.path / "controllers";
  controller_store store(file);
  REQUIRE(store.open_window(t0 + 500ms, 3min).ok());
  CHECK(store.window().deadline == t0 + 3min); // rounded down, never extended
  const std::string before = lanyard::test::read_file(file);
  REQUIRE(store.expire_window(t0 + 2min).ok());
  CHECK(lanyard::test::read_file(file) == before); // nothing to write
  REQUIRE(store.expire_window(t0 + 3min).ok());
  CHECK_FALSE(store.window().open);
  controller_store again(file);
  REQUIRE(again.load().ok());
  CHECK(again.window().close_reason == core::window_close_reason::timed_out);
}

TEST_CASE("removing controllers keeps an admin") {
  temp_dir dir;
  controller_store store(dir.path / "controllers");
  REQUIRE(store.open_window(t0).ok());
  REQUIRE(store.pair(fp_of(1), "a", controller_role::admin, t0).ok());
  REQUIRE(store.pair(fp_of(2), "u", controller_role::user, t0).ok());
  CHECK(store.remove(fp_of(1)).code == trust_errc::last_admin);
  CHECK(store.remove(fp_of(7)).code == trust_errc::not_paired);
  REQUIRE(store.remove(fp_of(2)).ok());
  REQUIRE(store.remove(fp_of(1)).ok()); // the only controller may go (factory-reset-like)
  CHECK(store.list().empty());
}

TEST_CASE("every truncation and single-byte corruption of a controller store is an error") {
  temp_dir dir;
  const fs::path file = dir.path / "controllers";
  const auto at_source = clocks(t0, boot_a, 100s);
  {
    controller_store store(file);
    store.set_time_source(at_source);
    REQUIRE(store.open_window(t0).ok());
    REQUIRE(store.pair(fp_of(1), "Kitchen phone", controller_role::admin, t0).ok());
    REQUIRE(store.pair(fp_of(2), "", controller_role::user, t0).ok());
    REQUIRE(store.record_failure(t0).ok());
  }
  const std::string raw = lanyard::test::read_file(file);
  const std::string full = stored_text(file);
  REQUIRE(full.find("\nwindow-boot " + std::string(boot_a) + " 100000 1000000\n") !=
          std::string::npos);
  core::pairing_window_state w;
  std::vector<controller_record> list;
  const window_time at = at_source();
  REQUIRE(controller_store::parse(full, "f", w, list, &at).ok());
  CHECK(controller_store::serialize(w, list, &at) == full);

  // The slot file cut anywhere (a copy, a restore gone wrong: writes never change its size).
  for (std::size_t cut = 0; cut < raw.size(); cut += 61) {
    INFO("slot file cut at " << cut);
    write_all(file, raw.substr(0, cut));
    controller_store store(file);
    REQUIRE(store.load().code == trust_errc::store_corrupt);
    CHECK(store.record_failure(t0).code == trust_errc::store_corrupt);
    CHECK(lanyard::test::read_file(file) == raw.substr(0, cut)); // never overwritten
  }
  // The plain format (the contents alone, as older versions wrote them) cut anywhere.
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    INFO("cut at " << cut);
    write_all(file, full.substr(0, cut));
    controller_store store(file);
    const store_status s = store.load();
    REQUIRE(s.code == trust_errc::store_corrupt);
    CHECK(s.text(field_key::file) == file.string());
    CHECK(s.number(field_key::line).value_or(0) >= 1);
    CHECK(s.find(field_key::problem) != nullptr);
    CHECK(store.record_failure(t0).code == trust_errc::store_corrupt);
    CHECK(lanyard::test::read_file(file) == full.substr(0, cut)); // never overwritten
  }
  for (std::size_t i = 0; i < full.size(); ++i) {
    std::string bad = full;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    INFO("byte " << i);
    CHECK(controller_store::parse(bad, "f", w, list).failed());
  }
}

TEST_CASE("controller store parse errors name the line") {
  core::pairing_window_state w;
  std::vector<controller_record> list;
  auto parse = [&](const std::string& body) {
    return controller_store::parse("lanyard-controller-store 1\n" + body + "end 9 00000000\n", "C",
                                   w, list);
  };
  // store_corrupt with the fields file, line and problem; a program reads those.
  auto corrupt_at = [](const store_status& s, std::uint64_t line, std::string_view problem) {
    INFO(s.message());
    CHECK(s.code == trust_errc::store_corrupt);
    CHECK(s.text(field_key::file) == "C");
    CHECK(s.number(field_key::line) == line);
    CHECK(s.text(field_key::problem) == problem);
  };
  corrupt_at(parse(""), 2, "record_count_mismatch");
  corrupt_at(parse("window ajar 2026-11-24T04:53:49Z 2026-11-24T04:53:49Z 0 closed\n"), 2,
             "invalid_window_state");
  corrupt_at(parse("window open 2026-11-24T04:53:49Z 2026-11-24T04:53:49Z 21 closed\n"), 2,
             "invalid_failed_attempts");
  corrupt_at(parse("controller 00 admin x y\n"), 2, "controller_before_window");
  const std::string role_line =
      "controller 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f root "
      "2026-11-24T04:53:49Z -\n";
  const std::string window = "window open 2026-11-24T04:53:49Z 2026-11-24T04:53:49Z 3 closed\n";
  corrupt_at(parse(window + role_line), 3, "invalid_role");
  // The one golden sentence of a controller store's store_corrupt (a person reads it).
  CHECK(parse(window + role_line).detail ==
        "C:3: invalid role \"root\" (expected \"admin\" or \"user\")");
  corrupt_at(parse("window-boot " + std::string(boot_a) + " 1 2\n"), 2,
             "window_boot_before_window");
  corrupt_at(parse(window + "window-boot " + std::string(boot_a) + " 1\n"), 3, "field_count");
  corrupt_at(parse(window + "window-boot not-a-boot-id 1 2\n"), 3, "invalid_boot_id");
  corrupt_at(parse(window + "window-boot " + std::string(boot_a) + " 1 -0\n"), 3,
             "invalid_boot_times");
  corrupt_at(parse(window + "window-boot " + std::string(boot_a) + " 1 2\nwindow-boot " +
                   std::string(boot_a) + " 1 2\n"),
             4, "duplicate_window_boot");
  corrupt_at(parse(window + window), 3, "duplicate_window");
  corrupt_at(parse("gadget 1\n"), 2, "unknown_record");
  corrupt_at(controller_store::parse("lanyard-trust-store 1\nend 0 00000000\n", "C", w, list), 1,
             "wrong_header");
  corrupt_at(controller_store::parse("lanyard-controller-store 1\nend 0 1a0ffb12\n", "C", w, list),
             2, "checksum_mismatch");
}

TEST_CASE("refund_and_pair: a proven SPAKE2+ attempt is refunded and paired in one write") {
  temp_dir dir;
  controller_store store(dir.path / "controllers");
  REQUIRE(store.load().ok());
  REQUIRE(store.open_window(t0).ok());
  REQUIRE(store.record_failure(t0 + 1s).ok()); // counted before the confirmation went out
  REQUIRE(store.refund_and_pair(fp_of(1), "phone", controller_role::user, t0 + 2s).ok());
  CHECK(store.window().failed_attempts == 0);
  REQUIRE(store.find(fp_of(1)));
  CHECK(store.find(fp_of(1))->role == controller_role::admin); // the first is admin
  // Refused (the window timed out meanwhile): the refund stands all the same.
  REQUIRE(store.record_failure(t0 + 3s).ok());
  CHECK(store.refund_and_pair(fp_of(2), "late", controller_role::user, t0 + 20min).code ==
        core::pairing_errc::window_closed);
  CHECK(store.window().failed_attempts == 0);
  CHECK_FALSE(store.find(fp_of(2)));
}

TEST_CASE("the controller cap: the 17th controller is refused with controllers_full") {
  temp_dir dir;
  controller_store store(dir.path / "controllers");
  REQUIRE(store.load().ok());
  REQUIRE(store.open_window(t0).ok());
  for (std::uint8_t i = 1; i <= 16; ++i)
    REQUIRE(store.pair(fp_of(i), "c", controller_role::user, t0).ok());
  const store_status s = store.pair(fp_of(17), "one too many", controller_role::user, t0);
  CHECK(s.code == core::pairing_errc::controllers_full);
  CHECK(s.text(field_key::controller) == core::to_string(fp_of(17)));
  // The one golden sentence of controllers_full (a person reads it).
  CHECK(s.message() == "cannot pair controller " + core::to_string(fp_of(17)) +
                           ": 16 controllers are paired already");
  CHECK(store.list().size() == 16);
  // A paired controller re-pairing is no newcomer.
  CHECK(store.pair(fp_of(3), "renamed", controller_role::user, t0).ok());
}

TEST_CASE("a restart within the boot keeps the window on the boot's clock, whatever the wall "
          "clock did") {
  temp_dir dir;
  const fs::path file = dir.path / "controllers";
  {
    controller_store store(file);
    store.set_time_source(clocks(t0, boot_a, 100s));
    REQUIRE(store.open_window(t0, 15min).ok());
  }
  // One minute of the boot later, the wall clock moved a year forward (NTP on an RTC-less
  // accessory) or a month back (a user). Either way 14 minutes are left.
  for (const auto jump : {std::chrono::system_clock::duration(24h * 365),
                          -std::chrono::system_clock::duration(24h * 30)}) {
    const auto now = t0 + jump;
    controller_store store(file);
    store.set_time_source(clocks(now, boot_a, 160s));
    REQUIRE(store.load().ok());
    CHECK(store.window().deadline == now + 14min);
    CHECK(store.check(fp_of(1), now + 13min).action == controller_action::pair);
    CHECK(store.check(fp_of(1), now + 14min).action == controller_action::refuse);
  }
}

TEST_CASE("after a reboot the window's wall-clock times decide (fail-closed if behind)") {
  temp_dir dir;
  const fs::path file = dir.path / "controllers";
  {
    controller_store store(file);
    store.set_time_source(clocks(t0, boot_a, 100s));
    REQUIRE(store.open_window(t0, 15min).ok());
  }
  SECTION("a clock that went on: the rest of the 15 minutes") {
    controller_store store(file);
    store.set_time_source(clocks(t0 + 2min, boot_b, 5s));
    REQUIRE(store.load().ok());
    CHECK(store.window().deadline == t0 + 15min);
    CHECK(store.check(fp_of(1), t0 + 2min).action == controller_action::pair);
  }
  SECTION("a clock behind the opening (1970 at boot): closed") {
    const auto at_boot = std::chrono::system_clock::time_point{} + 5s;
    controller_store store(file);
    store.set_time_source(clocks(at_boot, boot_b, 5s));
    REQUIRE(store.load().ok());
    CHECK(store.check(fp_of(1), at_boot).action == controller_action::refuse);
  }
  SECTION("a store written without a known boot has no window-boot line") {
    controller_store store(file);
    store.set_time_source(clocks(t0, "", 0s));
    REQUIRE(store.open_window(t0, 15min).ok());
    CHECK(stored_text(file).find("window-boot") == std::string::npos);
  }
}

TEST_CASE("this boot: a boot id, and a boot clock that advances") {
  const auto a = boot_instant::now();
  const auto b = boot_instant::now();
  CHECK(a.boot_id.size() == 36); // Linux: /proc/sys/kernel/random/boot_id
  CHECK(a.boot_id == b.boot_id);
  CHECK(b.since_boot >= a.since_boot);
  CHECK(a.since_boot > 0ms);
}
