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

#include "fuzz_support.hpp"

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

namespace {

const std::filesystem::path& scratch_file() {
  static const lanyard::fuzz::scratch_file file("controller-store");
  return file.path();
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
      LANYARD_FUZZ_CHECK(st.open);
      LANYARD_FUZZ_CHECK(st.failed_attempts < pairing_window::max_failed_attempts);
      LANYARD_FUZZ_CHECK(now >= st.opened_at && now < st.deadline);
      LANYARD_FUZZ_CHECK(w.remaining(now) > pairing_window::duration::zero());
    } else {
      LANYARD_FUZZ_CHECK(w.remaining(now) == pairing_window::duration::zero());
    }
    LANYARD_FUZZ_CHECK(!w.describe(now).empty());
    // expire() never opens; after it, the window admits exactly as before.
    w.expire(now);
    LANYARD_FUZZ_CHECK(!w.admit(now) == !admit);
    // Failures only ever close the window.
    for (std::uint32_t i = 0; i <= pairing_window::max_failed_attempts; ++i)
      w.record_failure();
    LANYARD_FUZZ_CHECK(w.admit(now));
    LANYARD_FUZZ_CHECK(!w.state().open);
    // Reopening by an admin always works and then admits at its own start.
    LANYARD_FUZZ_CHECK(
        !w.open(tp{} + 24h, pairing_window::default_timeout, lanyard::core::window_opener::admin));
    LANYARD_FUZZ_CHECK(!w.admit(tp{} + 24h));
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
    LANYARD_FUZZ_CHECK(parsed.detail.rfind("fuzz:", 0) == 0);
  } else {
    const std::string out = controller_store::serialize(window, controllers, &at);
    lanyard::core::pairing_window_state window2;
    std::vector<controller_record> again;
    LANYARD_FUZZ_CHECK(controller_store::parse(out, "again", window2, again, &at).ok());
    LANYARD_FUZZ_CHECK(window2 == window);
    LANYARD_FUZZ_CHECK(again == controllers);
    LANYARD_FUZZ_CHECK(window.failed_attempts <= pairing_window::max_failed_attempts);
    for (const auto& c : controllers)
      LANYARD_FUZZ_CHECK(c.name.size() <= controller_store::max_name_length);
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
  LANYARD_FUZZ_CHECK(loaded.code != trust_errc::store_io &&
                     loaded.code != trust_errc::store_permissions);
  LANYARD_FUZZ_CHECK(loaded.ok() == parsed.ok());
  if (loaded.failed()) {
    // A damaged file leaves the (empty) previous state: nothing is admitted without a window.
    LANYARD_FUZZ_CHECK(store.list().empty());
    return 0;
  }
  LANYARD_FUZZ_CHECK(store.window() == window);
  LANYARD_FUZZ_CHECK(store.list().size() == controllers.size());
  const auto now = window.opened_at + (window.deadline - window.opened_at) / 2;
  for (const auto& c : controllers) {
    const controller_decision d = store.check(c.fingerprint, now);
    LANYARD_FUZZ_CHECK(d.action == controller_action::accept);
    LANYARD_FUZZ_CHECK(d.controller && *d.controller == c);
    LANYARD_FUZZ_CHECK(!d.describe().empty());
  }
  lanyard::core::fingerprint stranger;
  for (auto& b : stranger.bytes)
    b = 0xa5;
  if (!store.find(stranger)) {
    const controller_decision d = store.check(stranger, now);
    const bool admits = !pairing_window(window).admit(now);
    LANYARD_FUZZ_CHECK((d.action == controller_action::pair) == admits);
    LANYARD_FUZZ_CHECK((d.action == controller_action::refuse) == !admits);
    LANYARD_FUZZ_CHECK(admits || d.code);
    LANYARD_FUZZ_CHECK(!d.describe().empty());
  }
  return 0;
}
