// Helpers shared by the unit tests that run real asio + mbedTLS on loopback (channel,
// accessory): identities, byte conversions, a scratch directory and a bounded io loop.
#pragma once

#include "support/scratch_dir.hpp"

#include <lanyard/tls_engine/identity.hpp>

#include <asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

namespace lanyard::test {

/// A fresh identity; key generation is slow, so tests keep theirs in function statics.
inline tls::identity make_identity(const char* device_id) {
  std::error_code ec;
  tls::identity id = tls::identity::generate(device_id, ec);
  REQUIRE(!ec);
  return id;
}

inline std::vector<std::byte> bytes(const std::string& s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    v[i] = static_cast<std::byte>(s[i]);
  return v;
}

inline std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

/// The whole of a file's bytes (empty if it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A scratch directory (scratch_dir.hpp) that fails the test when it cannot be made.
struct temp_dir : scratch_dir {
  explicit temp_dir(const char* prefix = "lanyard-test") : scratch_dir(prefix) {
    REQUIRE(!path.empty());
  }
};

/// Runs `io` until `pred` holds. The bound only keeps a broken build from hanging the suite;
/// it is not a timing assertion.
inline bool run_until(asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::seconds bound = std::chrono::seconds(60)) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(50));
  }
  return true;
}

} // namespace lanyard::test
