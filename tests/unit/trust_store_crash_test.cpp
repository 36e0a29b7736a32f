// Crash safety of the trust store: a child process keeps changing the store and is SIGKILLed at
// random moments, hundreds of times. After every kill the store must load, and no pin that was
// on disk before may be missing or altered.
#include "lanyard/trust/trust_store.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <map>
#include <random>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace lanyard;
using namespace lanyard::trust;
namespace fs = std::filesystem;

namespace {

core::fingerprint fp_for(const std::string& id) {
  core::fingerprint fp;
  std::uint32_t h = 2166136261U; // FNV-1a spread over the bytes: a deterministic key per id
  for (std::size_t i = 0; i < fp.bytes.size(); ++i) {
    for (char c : id)
      h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
    h = (h ^ static_cast<std::uint32_t>(i)) * 16777619U;
    fp.bytes[i] = static_cast<std::uint8_t>(h >> 24);
  }
  return fp;
}

[[noreturn]] void child_main(const fs::path& file, int iteration) {
  trust_store store(file);
  const auto now = std::chrono::system_clock::now();
  for (int n = 0;; ++n) {
    const std::string keep = "keep-" + std::to_string(iteration) + "-" + std::to_string(n);
    const std::string tmp = "tmp-" + std::to_string(iteration) + "-" + std::to_string(n);
    if (store.pin(keep, fp_for(keep), pin_method::tofu, "kept " + keep, now).failed()) _exit(2);
    if (store.pin(tmp, fp_for(tmp), pin_method::tofu, "", now).failed()) _exit(2);
    if (store.touch("base-" + std::to_string(n % 20), now).failed()) _exit(2);
    if (store.forget(tmp).failed()) _exit(2);
    if (n >= 40) _exit(0); // bound the file's growth
  }
}

} // namespace

TEST_CASE("SIGKILL during trust store writes never breaks the store or loses a pin") {
  std::string tmpl = (fs::temp_directory_path() / "lanyard-crash-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  const fs::path dir = tmpl;
  const fs::path file = dir / "trust-store";

  const auto t = std::chrono::system_clock::now();
  {
    trust_store store(file);
    for (int i = 0; i < 20; ++i) {
      const std::string id = "base-" + std::to_string(i);
      REQUIRE(store.pin(id, fp_for(id), pin_method::verified_payload, "base", t).ok());
    }
  }

  std::map<std::string, core::fingerprint> must_have; // every pin ever seen on disk
  std::mt19937 rng(20261124);
  // Kill after 0-60 ms: long enough that even a slow (sanitized, loaded) child gets pins to
  // disk, short enough that most kills land mid-run (checked below).
  std::uniform_int_distribution<int> delay_us(0, 60000);
  constexpr int iterations = 250;
  int killed_mid_run = 0;
  for (int iteration = 0; iteration < iterations; ++iteration) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) child_main(file, iteration);
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status))
      ++killed_mid_run;
    else
      REQUIRE(WEXITSTATUS(status) == 0); // a child that finished must not have failed

    trust_store store(file);
    const store_status s = store.load();
    INFO("iteration " << iteration << ": " << s.message());
    REQUIRE(s.ok());
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    REQUIRE((st.st_mode & 07777) == 0600);

    std::map<std::string, core::fingerprint> now_on_disk;
    for (const auto& r : store.list()) {
      REQUIRE(r.fingerprint == fp_for(r.device_id)); // never a torn or mixed record
      now_on_disk.emplace(r.device_id, r.fingerprint);
    }
    for (const auto& [id, fp] : must_have) {
      INFO("pin " << id << " lost after iteration " << iteration);
      REQUIRE(now_on_disk.count(id) == 1);
    }
    for (const auto& [id, fp] : now_on_disk)
      if (id.rfind("tmp-", 0) != 0) must_have.emplace(id, fp);
  }
  CHECK(killed_mid_run > iterations / 2); // the kills really landed mid-run
  CHECK(must_have.size() > 20);           // and the children really wrote
  std::error_code ec;
  fs::remove_all(dir, ec);
}
