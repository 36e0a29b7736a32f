// libFuzzer target for the accessory's controller store file (trust/controller_store) and the
// decisions the accessory takes from it. trust_store_fuzz also feeds this parser (the two files
// share their container format); this target goes further with what the accessory does after
// load(): a damaged or hostile file must never crash it, never admit an unknown controller when
// the persisted window does not, and never lose a paired one.
//
// Per input: parse (pure, with fixed clocks: window-boot lines of their boot are converted) →
// round trip; the same text through a real file and load() must agree
// with parse(); then check() for every paired controller and an unknown one, and the window's
// rules at the times that matter (before opened_at, at and around the deadline, far ends of the
// time range), which is where arithmetic on persisted times could overflow.
#include <lanyard/core/pairing_window.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

using namespace lanyard::trust;
using lanyard::core::pairing_window;
using namespace std::chrono_literals;

#define STORE_FUZZ_CHECK(cond)                                                                     \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace {

// One scratch file per fuzzer process (tmpfs when available: load() runs on every input),
// removed at exit.
struct scratch {
  scratch() {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    dir = base / ("lanyard-controller-store-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    // The store refuses files and directories others may write to.
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    file = dir / "controllers";
  }
  ~scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
  std::filesystem::path file;
};

const std::filesystem::path& scratch_file() {
  static const scratch s;
  return s.file;
}

void check_window_rules(const lanyard::core::pairing_window_state& st) {
  using tp = pairing_window::time_point;
  const tp times[] = {st.opened_at,
                      st.opened_at - 1s,
                      st.deadline,
                      st.deadline - 1s,
                      st.opened_at + (st.deadline - st.opened_at) / 2,
                      tp{},
                      tp::max(),
                      tp::min()};
  for (tp now : times) {
    pairing_window w(st);
    const std::error_code admit = w.admit(now);
    // Admitting needs an open window, fewer than 20 failures and now in [opened_at, deadline).
    if (!admit) {
      STORE_FUZZ_CHECK(st.open);
      STORE_FUZZ_CHECK(st.failed_attempts < pairing_window::max_failed_attempts);
      STORE_FUZZ_CHECK(now >= st.opened_at && now < st.deadline);
      STORE_FUZZ_CHECK(w.remaining(now) > pairing_window::duration::zero());
    } else {
      STORE_FUZZ_CHECK(w.remaining(now) == pairing_window::duration::zero());
    }
    STORE_FUZZ_CHECK(!w.describe(now).empty());
    // expire() never opens; after it, the window admits exactly as before.
    w.expire(now);
    STORE_FUZZ_CHECK(!w.admit(now) == !admit);
    // Failures only ever close the window.
    for (std::uint32_t i = 0; i <= pairing_window::max_failed_attempts; ++i)
      w.record_failure();
    STORE_FUZZ_CHECK(w.admit(now));
    STORE_FUZZ_CHECK(!w.state().open);
    // Reopening by an admin always works and then admits at its own start.
    STORE_FUZZ_CHECK(
        !w.open(tp{} + 24h, pairing_window::default_timeout, lanyard::core::window_opener::admin));
    STORE_FUZZ_CHECK(!w.admit(tp{} + 24h));
  }
}

// A fixed reading of the window clock and the boot's clock: window-boot lines of this boot id
// (the corpus has some) go through the conversion, others are checked and ignored.
const window_time& fixed_clocks() {
  static const window_time at = [] {
    window_time t;
    t.now = std::chrono::system_clock::time_point{} + 1795496029s;
    t.boot.boot_id = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    t.boot.since_boot = 100s;
    return t;
  }();
  return at;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  lanyard::core::pairing_window_state window;
  std::vector<controller_record> controllers;
  const window_time& at = fixed_clocks();
  const store_status parsed = controller_store::parse(text, "fuzz", window, controllers, &at);
  if (parsed.failed()) {
    // Damage is an error with a location, never an empty store.
    STORE_FUZZ_CHECK(parsed.detail.rfind("fuzz:", 0) == 0);
  } else {
    const std::string out = controller_store::serialize(window, controllers, &at);
    lanyard::core::pairing_window_state window2;
    std::vector<controller_record> again;
    STORE_FUZZ_CHECK(controller_store::parse(out, "again", window2, again, &at).ok());
    STORE_FUZZ_CHECK(window2 == window);
    STORE_FUZZ_CHECK(again == controllers);
    STORE_FUZZ_CHECK(window.failed_attempts <= pairing_window::max_failed_attempts);
    for (const auto& c : controllers)
      STORE_FUZZ_CHECK(c.name.size() <= controller_store::max_name_length);
    check_window_rules(window);
  }

  // What the accessory itself does: load the file, then decide about certificates.
  {
    std::ofstream f(scratch_file(), std::ios::binary | std::ios::trunc);
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  std::filesystem::permissions(scratch_file(), std::filesystem::perms::owner_read |
                                                   std::filesystem::perms::owner_write);
  controller_store store(scratch_file());
  store.set_time_source([] { return fixed_clocks(); });
  const store_status loaded = store.load();
  // I/O and mode errors would be the scratch file's environment, not the input: fail loudly
  // rather than fuzz nothing.
  STORE_FUZZ_CHECK(loaded.code != trust_errc::store_io &&
                   loaded.code != trust_errc::store_permissions);
  STORE_FUZZ_CHECK(loaded.ok() == parsed.ok());
  if (loaded.failed()) {
    // A damaged file leaves the (empty) previous state: nothing is admitted without a window.
    STORE_FUZZ_CHECK(store.list().empty());
    return 0;
  }
  STORE_FUZZ_CHECK(store.window() == window);
  STORE_FUZZ_CHECK(store.list().size() == controllers.size());
  const auto now = window.opened_at + (window.deadline - window.opened_at) / 2;
  for (const auto& c : controllers) {
    const controller_decision d = store.check(c.fingerprint, now);
    STORE_FUZZ_CHECK(d.action == controller_action::accept);
    STORE_FUZZ_CHECK(d.controller && *d.controller == c);
    STORE_FUZZ_CHECK(!d.describe().empty());
  }
  lanyard::core::fingerprint stranger;
  for (auto& b : stranger.bytes)
    b = 0xa5;
  if (!store.find(stranger)) {
    const controller_decision d = store.check(stranger, now);
    const bool admits = !pairing_window(window).admit(now);
    STORE_FUZZ_CHECK((d.action == controller_action::pair) == admits);
    STORE_FUZZ_CHECK((d.action == controller_action::refuse) == !admits);
    STORE_FUZZ_CHECK(admits || d.code);
    STORE_FUZZ_CHECK(!d.describe().empty());
  }
  return 0;
}
