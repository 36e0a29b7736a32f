#include "lanyard/trust/trust_store.hpp"

#include "support/io_test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <type_traits>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace lanyard;
using namespace lanyard::trust;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace field_key = lanyard::core::field_key;

// The store's outcome is the core's one "error plus detail" type (error-model.md §7.4 step 10).
static_assert(std::is_same_v<store_status, core::error_detail>);

namespace {

struct temp_dir : lanyard::test::temp_dir {
  temp_dir() : lanyard::test::temp_dir("lanyard-trust") {}
};

core::fingerprint fp_of(std::uint8_t seed) {
  core::fingerprint fp;
  for (std::size_t i = 0; i < fp.bytes.size(); ++i)
    fp.bytes[i] = static_cast<std::uint8_t>(seed + i);
  return fp;
}

// 2026-11-24T04:53:49Z
const std::chrono::system_clock::time_point t0{std::chrono::seconds(1795496029)};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const fs::path& p, std::string_view text, mode_t mode = 0600) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  }
  REQUIRE(::chmod(p.c_str(), mode) == 0);
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

const std::string golden =
    "lanyard-trust-store 1\n"
    "device lamp-01 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f verified "
    "2026-11-24T04:53:49Z 2026-11-24T05:00:00Z Living%20room%20lamp\n"
    "end 1 02a60ec9\n";

} // namespace

TEST_CASE("check_trust: a pinned device must present its pinned key in every mode") {
  device_record known;
  known.device_id = "lamp-01";
  known.fingerprint = fp_of(1);
  known.first_seen = t0;
  for (auto mode : {trust_mode::verified_first_use, trust_mode::tofu, trust_mode::strict}) {
    auto d = check_trust(known, "lamp-01", fp_of(1), mode);
    CHECK(d.action == trust_action::accept);
    CHECK_FALSE(d.code);

    d = check_trust(known, "lamp-01", fp_of(2), mode);
    CHECK(d.action == trust_action::refuse);
    CHECK(d.code == trust_errc::key_changed);
    REQUIRE(d.pinned);
    CHECK(*d.pinned == fp_of(1));
    CHECK(d.presented == fp_of(2));

    // Even a payload vouching for the new key does not re-pin: forget first.
    d = check_trust(known, "lamp-01", fp_of(2), mode, fp_of(2));
    CHECK(d.code == trust_errc::key_changed);

    // The pinned key with a payload describing another key: the payload is not for this device.
    d = check_trust(known, "lamp-01", fp_of(1), mode, fp_of(3));
    CHECK(d.code == trust_errc::payload_mismatch);
    REQUIRE(d.expected);
    CHECK(*d.expected == fp_of(3));
  }
}

TEST_CASE("check_trust: unknown devices per mode") {
  const std::optional<device_record> none;
  auto d = check_trust(none, "cam", fp_of(1), trust_mode::strict);
  CHECK(d.code == trust_errc::unknown_device);
  d = check_trust(none, "cam", fp_of(1), trust_mode::strict, fp_of(1));
  CHECK(d.code == trust_errc::unknown_device);

  d = check_trust(none, "cam", fp_of(1), trust_mode::verified_first_use);
  CHECK(d.code == trust_errc::payload_required);
  d = check_trust(none, "cam", fp_of(1), trust_mode::verified_first_use, fp_of(1));
  CHECK(d.action == trust_action::pin_new);
  CHECK(d.method == pin_method::verified_payload);
  d = check_trust(none, "cam", fp_of(2), trust_mode::verified_first_use, fp_of(1));
  CHECK(d.code == trust_errc::payload_mismatch);
  CHECK(d.action == trust_action::refuse);

  d = check_trust(none, "cam", fp_of(1), trust_mode::tofu);
  CHECK(d.action == trust_action::pin_new);
  CHECK(d.method == pin_method::tofu);
  d = check_trust(none, "cam", fp_of(1), trust_mode::tofu, fp_of(1));
  CHECK(d.method == pin_method::verified_payload);
  d = check_trust(none, "cam", fp_of(1), trust_mode::tofu, fp_of(9));
  CHECK(d.code == trust_errc::payload_mismatch);
}

TEST_CASE("key_changed is described with both fingerprints and what to do") {
  device_record known;
  known.device_id = "lamp-01";
  known.fingerprint = fp_of(0);
  known.first_seen = t0;
  core::fingerprint other = fp_of(0);
  other.bytes[0] = 0xFF;
  const auto d = check_trust(known, "lamp-01", other, trust_mode::tofu);
  CHECK(d.describe() ==
        "device \"lamp-01\" presented a different key: pinned "
        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYPQ (since 2026-11-24), "
        "presented 74AQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYPQ; refusing to "
        "connect. If the accessory was reset or replaced, run \"lanyard trust forget lamp-01\" "
        "and pair again; otherwise someone may be impersonating it.");
  CHECK(std::string(trust_category().name()) == "lanyard.trust");
  CHECK(make_error_code(trust_errc::key_changed).message().find("forget") != std::string::npos);
}

TEST_CASE("a missing trust store file is an empty store and is not created by load") {
  temp_dir dir;
  trust_store store(dir.path / "sub" / "trust-store");
  const store_status s = store.load();
  CHECK(s.ok());
  CHECK(store.list().empty());
  CHECK_FALSE(fs::exists(dir.path / "sub"));
  CHECK(store.check("x", fp_of(1), trust_mode::strict).code == trust_errc::unknown_device);
}

TEST_CASE("pin writes the documented format, mode 0600, in a 0700 directory") {
  temp_dir dir;
  const fs::path file = dir.path / "state" / "lanyard" / "trust-store";
  trust_store store(file);
  REQUIRE(store.load().ok());
  REQUIRE(
      store.pin("lamp-01", fp_of(0), pin_method::verified_payload, "Living room lamp", t0).ok());
  REQUIRE(store.touch("lamp-01", t0 + 371s + 500ms).ok());
  CHECK(read_all(file) == golden);
  CHECK(mode_of(file) == 0600);
  CHECK(mode_of(dir.path / "state") == 0700);
  CHECK(mode_of(dir.path / "state" / "lanyard") == 0700);
  CHECK_FALSE(fs::exists(file.string() + ".tmp"));

  std::vector<device_record> parsed;
  REQUIRE(trust_store::parse(golden, "golden", parsed).ok());
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].name == "Living room lamp");
  CHECK(parsed[0].first_seen == t0);
  CHECK(parsed[0].last_seen == t0 + 371s);
}

TEST_CASE("trust store round-trips records through the file") {
  temp_dir dir;
  const fs::path file = dir.path / "trust-store";
  trust_store a(file);
  REQUIRE(a.pin("b.dev", fp_of(2), pin_method::tofu, "", t0).ok());
  REQUIRE(
      a.pin("a:dev", fp_of(1), pin_method::verified_payload, "-dash 100% \xc3\xa9\n\t", t0).ok());
  REQUIRE(a.pin("c_dev", fp_of(3), pin_method::tofu, std::string(256, 'n'), t0 + 1s).ok());
  CHECK(a.pin("d", fp_of(4), pin_method::tofu, std::string(257, 'n'), t0).code ==
        trust_errc::invalid_record);
  CHECK(a.pin("bad id", fp_of(4), pin_method::tofu, "", t0).code == trust_errc::invalid_record);
  CHECK(a.pin("", fp_of(4), pin_method::tofu, "", t0).code == trust_errc::invalid_record);

  trust_store b(file);
  REQUIRE(b.load().ok());
  CHECK(b.list() == a.list());
  REQUIRE(b.list().size() == 3);
  CHECK(b.list()[0].device_id == "a:dev"); // sorted by id
  CHECK(b.find("a:dev")->name == "-dash 100% \xc3\xa9\n\t");
  CHECK(b.find("b.dev")->name.empty());
  CHECK(b.find("b.dev")->method == pin_method::tofu);
  CHECK_FALSE(b.find("zzz"));

  std::vector<device_record> records;
  REQUIRE(trust_store::parse(read_all(file), "f", records).ok());
  CHECK(trust_store::serialize(records) == read_all(file));
}

TEST_CASE("pin refuses a different key for a known id; forget then pin works") {
  temp_dir dir;
  const fs::path file = dir.path / "trust-store";
  trust_store store(file);
  REQUIRE(store.pin("lamp", fp_of(1), pin_method::tofu, "Lamp", t0).ok());
  const std::string before = read_all(file);
  const store_status s = store.pin("lamp", fp_of(2), pin_method::tofu, "Lamp", t0 + 1s);
  CHECK(s.code == trust_errc::key_changed);
  CHECK(s.text(field_key::device_id) == "lamp");
  CHECK(s.text(field_key::fingerprint_pinned) == lanyard::core::to_string(fp_of(1)));
  CHECK(s.text(field_key::fingerprint_presented) == lanyard::core::to_string(fp_of(2)));
  CHECK(read_all(file) == before);

  // Same key again: name and last_seen updated, first_seen and method kept.
  REQUIRE(store.pin("lamp", fp_of(1), pin_method::verified_payload, "Desk lamp", t0 + 5s).ok());
  CHECK(store.find("lamp")->name == "Desk lamp");
  CHECK(store.find("lamp")->first_seen == t0);
  CHECK(store.find("lamp")->last_seen == t0 + 5s);
  CHECK(store.find("lamp")->method == pin_method::tofu);

  REQUIRE(store.forget("lamp").ok());
  CHECK_FALSE(store.find("lamp"));
  CHECK(store.forget("lamp").code == trust_errc::unknown_device);
  CHECK(store.touch("lamp", t0).code == trust_errc::unknown_device);
  REQUIRE(store.pin("lamp", fp_of(2), pin_method::tofu, "", t0).ok());
  CHECK(store.find("lamp")->fingerprint == fp_of(2));
}

TEST_CASE("commit pins a new device and touches a known one") {
  temp_dir dir;
  trust_store store(dir.path / "ts");
  auto d = store.check("cam", fp_of(7), trust_mode::verified_first_use, fp_of(7));
  REQUIRE(d.action == trust_action::pin_new);
  REQUIRE(store.commit(d, "Camera", t0).ok());
  CHECK(store.find("cam")->method == pin_method::verified_payload);
  d = store.check("cam", fp_of(7), trust_mode::strict);
  REQUIRE(d.action == trust_action::accept);
  REQUIRE(store.commit(d, "", t0 + 60s).ok());
  CHECK(store.find("cam")->last_seen == t0 + 60s);
  d = store.check("cam", fp_of(8), trust_mode::tofu);
  CHECK(store.commit(d, "", t0).code == trust_errc::key_changed);
}

TEST_CASE("every truncation of a trust store is an error naming the file and a line") {
  temp_dir dir;
  const fs::path file = dir.path / "trust-store";
  {
    trust_store store(file);
    for (int i = 0; i < 3; ++i)
      REQUIRE(store
                  .pin("dev-" + std::to_string(i), fp_of(static_cast<std::uint8_t>(i)),
                       pin_method::tofu, "name " + std::to_string(i), t0)
                  .ok());
  }
  const std::string full = read_all(file);
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    INFO("cut at byte " << cut);
    write_all(file, full.substr(0, cut));
    trust_store store(file);
    const store_status s = store.load();
    REQUIRE(s.failed());
    CHECK(s.code == trust_errc::store_corrupt);
    // The file, line and problem are fields (a program reads them, not the sentence).
    CHECK(s.text(field_key::file) == file.string());
    const auto line = s.number(field_key::line);
    REQUIRE(line.has_value());
    CHECK(*line >= 1);
    const auto problem = s.text(field_key::problem);
    REQUIRE(problem.has_value());
    CHECK((*problem == "empty_file" || *problem == "incomplete_line" ||
           *problem == "missing_end_line"));
    CHECK(store.list().empty());
    // A change must not overwrite the damaged file.
    CHECK(store.pin("new", fp_of(9), pin_method::tofu, "", t0).code == trust_errc::store_corrupt);
    CHECK(read_all(file) == full.substr(0, cut));
  }
}

TEST_CASE("every single-byte corruption of a trust store is detected") {
  temp_dir dir;
  const fs::path file = dir.path / "trust-store";
  {
    trust_store store(file);
    REQUIRE(store.pin("dev-a", fp_of(1), pin_method::tofu, "A", t0).ok());
    REQUIRE(store.pin("dev-b", fp_of(2), pin_method::verified_payload, "B", t0).ok());
  }
  const std::string full = read_all(file);
  for (std::size_t i = 0; i < full.size(); ++i) {
    for (unsigned char x : {0x01, 0x20, 0x80}) {
      std::string bad = full;
      bad[i] = static_cast<char>(bad[i] ^ x);
      std::vector<device_record> records;
      const store_status s = trust_store::parse(bad, "f", records);
      INFO("byte " << i << " ^ " << int(x) << ": " << s.message());
      CHECK(s.failed());
    }
  }
}

TEST_CASE("trust store load errors are specific") {
  std::vector<device_record> r;
  auto parse = [&](std::string text) { return trust_store::parse(text, "F", r); };
  // store_corrupt with the fields file, line and problem; a program reads those.
  auto corrupt_at = [](const store_status& s, std::uint64_t line, std::string_view problem) {
    INFO(s.message());
    CHECK(s.code == trust_errc::store_corrupt);
    CHECK(s.text(field_key::file) == "F");
    CHECK(s.number(field_key::line) == line);
    CHECK(s.text(field_key::problem) == problem);
  };
  corrupt_at(parse(""), 1, "empty_file");
  corrupt_at(parse("hello\n"), 1, "wrong_header");
  auto s = parse("lanyard-trust-store 2\nwhatever\n");
  CHECK(s.code == trust_errc::store_unsupported_version);
  CHECK(s.text(field_key::file) == "F");
  CHECK(s.number(field_key::line) == 1u);
  CHECK(s.text(field_key::problem) == "newer_version");
  // The one golden sentence of a store_unsupported_version (a person reads it).
  CHECK(s.detail == "F:1: format version \"2\" is newer than this Lanyard understands (1); "
                    "upgrade Lanyard");
  corrupt_at(parse("lanyard-trust-store 1\n"), 2, "missing_end_line");

  const std::string good_line =
      "device lamp-01 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f verified "
      "2026-11-24T04:53:49Z 2026-11-24T05:00:00Z Living%20room%20lamp";
  auto with = [&](std::string line) {
    return parse("lanyard-trust-store 1\n" + good_line + "\n" + line + "\nend 2 00000000\n");
  };
  corrupt_at(with("device x"), 3, "field_count");
  corrupt_at(with("pin a b"), 3, "unknown_record");
  std::string dup = good_line;
  corrupt_at(with(dup), 3, "duplicate_device");
  // The one golden sentence of a store_corrupt (a person reads it): file, line, what and where.
  CHECK(with(dup).detail == "F:3: device \"lamp-01\" is pinned twice (first on line 2)");
  std::string other_line = good_line;
  other_line.replace(7, 7, "lamp-02");
  std::string bad_fp = other_line;
  bad_fp.replace(15, 2, "0A");
  corrupt_at(with(bad_fp), 3, "invalid_fingerprint");
  std::string bad_method = other_line;
  bad_method.replace(bad_method.find("verified"), 8, "trusted!");
  corrupt_at(with(bad_method), 3, "invalid_pin_method");
  std::string bad_first = other_line;
  bad_first.replace(bad_first.find("2026-11-24T04"), 10, "2026-13-01");
  corrupt_at(with(bad_first), 3, "invalid_first_seen");
  std::string bad_time = other_line;
  bad_time.replace(bad_time.find("2026-11-24T05"), 10, "2026-02-30");
  corrupt_at(with(bad_time), 3, "invalid_last_seen");
  std::string bad_name = other_line;
  bad_name.replace(bad_name.find("Living%20"), 9, "Living%2");
  corrupt_at(with(bad_name), 3, "invalid_name");
  corrupt_at(with("device bad/id 00 tofu a b c"), 3, "invalid_device_id");
  s = with("device\tx");
  corrupt_at(s, 3, "unexpected_byte");
  CHECK(s.number(field_key::position) == 7u);
  corrupt_at(with("end 2"), 3, "malformed_end_line");
  corrupt_at(parse("lanyard-trust-store 1\n" + good_line + "\nend 1 0000000G\n"), 3,
             "malformed_checksum");
  corrupt_at(parse("lanyard-trust-store 1\n" + good_line + "\nend 2 00000000\n"), 3,
             "record_count_mismatch");
  corrupt_at(parse("lanyard-trust-store 1\n" + good_line + "\nend 1 00000000\n"), 3,
             "checksum_mismatch");
  corrupt_at(parse(golden + "extra\n"), 4, "text_after_end");
  corrupt_at(parse(golden.substr(0, golden.size() - 1)), 3, "incomplete_line");
  CHECK(parse(golden).ok());
}

TEST_CASE("a trust store writable by others is refused; so is a symlink") {
  temp_dir dir;
  const fs::path file = dir.path / "trust-store";
  write_all(file, golden, 0664);
  trust_store store(file);
  store_status s = store.load();
  CHECK(s.code == trust_errc::store_permissions);
  CHECK(s.text(field_key::mode) == "0664");
  CHECK(s.text(field_key::file) == file.string());
  // The one golden sentence of a store_permissions (a person reads it and runs the fix).
  CHECK(s.detail == file.string() +
                        ": is writable by group or others (mode 0664), so anyone could replace "
                        "a pin; run: chmod 600 '" +
                        file.string() + "'");
  REQUIRE(::chmod(file.c_str(), 0644) == 0); // readable by others is fine
  CHECK(store.load().ok());
  CHECK(store.find("lamp-01"));

  const fs::path link = dir.path / "link";
  fs::create_symlink(file, link);
  trust_store via_link(link);
  s = via_link.load();
  CHECK(s.code == trust_errc::store_permissions);
  CHECK(s.text(field_key::file) == link.string());
}

TEST_CASE("writes replace the file atomically and ignore a stale temp file") {
  temp_dir dir;
  const fs::path file = dir.path / "trust-store";
  trust_store store(file);
  REQUIRE(store.pin("a", fp_of(1), pin_method::tofu, "", t0).ok());
  struct stat before {};
  REQUIRE(::stat(file.c_str(), &before) == 0);
  // A crash may leave FILE.tmp behind (even a half-written, world-writable one).
  write_all(file.string() + ".tmp", "garbage", 0666);
  REQUIRE(store.load().ok());
  REQUIRE(store.pin("b", fp_of(2), pin_method::tofu, "", t0).ok());
  struct stat after {};
  REQUIRE(::stat(file.c_str(), &after) == 0);
  CHECK(before.st_ino != after.st_ino); // a new file was renamed into place
  CHECK(mode_of(file) == 0600);
  CHECK_FALSE(fs::exists(file.string() + ".tmp"));
  REQUIRE(store.load().ok());
  CHECK(store.list().size() == 2);
}

TEST_CASE("two stores on one file never lose each other's changes") {
  temp_dir dir;
  const fs::path file = dir.path / "trust-store";
  trust_store app(file);
  trust_store cli(file);
  REQUIRE(app.load().ok());
  REQUIRE(cli.load().ok());
  REQUIRE(app.pin("a", fp_of(1), pin_method::tofu, "", t0).ok());
  REQUIRE(cli.pin("b", fp_of(2), pin_method::tofu, "", t0).ok()); // cli had not seen "a"
  REQUIRE(app.forget("b").ok());                                  // app had not seen "b"
  trust_store check(file);
  REQUIRE(check.load().ok());
  REQUIRE(check.list().size() == 1);
  CHECK(check.list()[0].device_id == "a");
}

TEST_CASE("concurrent pins from several threads all land") {
  temp_dir dir;
  trust_store store(dir.path / "trust-store");
  std::vector<std::thread> threads;
  std::atomic<int> failed{0}; // Catch2 v2 assertions are not thread-safe: count, check after
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&store, &failed, t] {
      for (int i = 0; i < 10; ++i)
        if (!store
                 .pin("t" + std::to_string(t) + "-" + std::to_string(i),
                      fp_of(static_cast<std::uint8_t>(t * 10 + i)), pin_method::tofu, "", t0)
                 .ok())
          ++failed;
    });
  for (auto& th : threads)
    th.join();
  CHECK(failed == 0);
  trust_store reread(dir.path / "trust-store");
  REQUIRE(reread.load().ok());
  CHECK(reread.list().size() == 40);
}

TEST_CASE("default trust store path follows XDG_STATE_HOME, then HOME") {
  const char* old_state = std::getenv("XDG_STATE_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_state = old_state ? old_state : "";
  const std::string saved_home = old_home ? old_home : "";

  fs::path p;
  ::setenv("XDG_STATE_HOME", "/xdg/state", 1);
  ::setenv("HOME", "/home/u", 1);
  REQUIRE(trust_store::default_path(p).ok());
  CHECK(p == "/xdg/state/lanyard/trust-store");
  ::setenv("XDG_STATE_HOME", "relative", 1); // not absolute: ignored, as the XDG spec says
  REQUIRE(trust_store::default_path(p).ok());
  CHECK(p == "/home/u/.local/state/lanyard/trust-store");
  ::unsetenv("XDG_STATE_HOME");
  REQUIRE(trust_store::default_path(p).ok());
  CHECK(p == "/home/u/.local/state/lanyard/trust-store");
  ::unsetenv("HOME");
  const store_status s = trust_store::default_path(p);
  CHECK(s.code == trust_errc::store_io);
  CHECK(s.text(field_key::problem) == "no_location");

  if (old_state) ::setenv("XDG_STATE_HOME", saved_state.c_str(), 1);
  if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}

TEST_CASE("times outside 1970-2200 are clamped so the file always reads back") {
  temp_dir dir;
  trust_store store(dir.path / "ts");
  const auto past = std::chrono::system_clock::time_point{} - 24h;
  const auto future = std::chrono::system_clock::time_point{std::chrono::hours(24 * 365 * 240)};
  REQUIRE(store.pin("old", fp_of(1), pin_method::tofu, "", past).ok());
  REQUIRE(store.pin("new", fp_of(2), pin_method::tofu, "", future).ok());
  trust_store again(dir.path / "ts");
  REQUIRE(again.load().ok());
  CHECK(again.find("old")->first_seen == std::chrono::system_clock::time_point{});
  CHECK(again.find("new")->first_seen < future);
}

// One golden sentence per kind of decision (a person reads them); programs read the members.
TEST_CASE("every refusal is described with the fingerprints involved") {
  const std::optional<device_record> none;
  auto d = check_trust(none, "cam", fp_of(0), trust_mode::verified_first_use, fp_of(1));
  CHECK(d.describe() ==
        "device \"cam\" presented key "
        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYPQ but its setup payload "
        "says AEBA-GBAF-AYDQ-QCIK-BMGA-2DQP-CAIR-EEYU-CULB-OGAZ-DINR-YHI6-D4QA; refusing to "
        "connect: this is not the device the payload describes.");
  d = check_trust(none, "cam", fp_of(0), trust_mode::strict);
  CHECK(d.describe() == "device \"cam\" is not in the trust store (strict mode); it presented "
                        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYPQ. Pair "
                        "with it first.");
  d = check_trust(none, "cam", fp_of(0), trust_mode::verified_first_use);
  CHECK(d.code == trust_errc::payload_required);
  CHECK(d.describe() ==
        "device \"cam\" is not paired yet and verified pairing needs its setup "
        "payload; scan its code, or pair with --tofu after checking its "
        "fingerprint AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYPQ.");
  d = check_trust(none, "bad id\n", fp_of(0), trust_mode::tofu);
  CHECK(d.code == trust_errc::invalid_record);
  CHECK(d.describe() == "device id \"bad id\\x0a\" is not valid (1-64 characters from A-Z a-z 0-9 "
                        ". _ : -); refusing to connect.");
  d = check_trust(none, "cam", fp_of(0), trust_mode::tofu);
  CHECK(d.action == trust_action::pin_new);
  CHECK(d.describe() == "device \"cam\" is new; its key "
                        "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT-CQKR-MFYY-DENB-WHA5-DYPQ will be "
                        "pinned (trust on first "
                        "use: compare this fingerprint with the device's)");
}
