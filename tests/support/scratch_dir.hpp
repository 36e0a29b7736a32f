// A scratch directory for tests and benchmarks: made under a base directory ($TMPDIR by
// default) with a unique name, removed with everything in it on destruction. No test
// framework here, so the benchmarks use it too; the Catch2 tests use lanyard::test::temp_dir
// (io_test_support.hpp), which fails the test when the directory cannot be made.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace lanyard::test {

struct scratch_dir {
  /// Empty when the directory could not be made (a full or read-only $TMPDIR).
  std::filesystem::path path;

  explicit scratch_dir(std::string_view prefix = "lanyard-test",
                       const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
    std::string tmpl = (base / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

} // namespace lanyard::test
