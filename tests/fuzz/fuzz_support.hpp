// What the libFuzzer targets that touch files share: a property check that aborts (so libFuzzer
// keeps the input) and one scratch file per fuzzer process.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

#define LANYARD_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);             \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)

namespace lanyard::fuzz {

/// A private directory (tmpfs when available: a file is written for every input) holding one
/// file, removed when the process exits. `name` keeps fuzzers apart.
class scratch_file {
public:
  explicit scratch_file(const std::string& name) {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    dir_ = base / ("lanyard-" + name + "-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // The stores refuse files and directories others may write to.
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
    file_ = dir_ / name;
  }
  ~scratch_file() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  const std::filesystem::path& path() const noexcept { return file_; }

private:
  std::filesystem::path dir_;
  std::filesystem::path file_;
};

} // namespace lanyard::fuzz
