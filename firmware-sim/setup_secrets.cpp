#include "setup_secrets.hpp"

#include <lanyard/crypto/pairing_crypto.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace lanyard::sim {
namespace {

constexpr std::string_view label_magic = "lanyard-accessory-sim-label 1";

std::filesystem::path credentials_path(const state_paths& p) {
  return p.dir / "setup-credentials";
}
std::filesystem::path label_path(const state_paths& p) {
  return p.dir / "setup-label";
}

// Mode 0600 from the first byte (the code is a secret), then renamed into place.
bool write_private(const std::filesystem::path& path, const std::string& text, std::string& error) {
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write " + path.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::optional<core::setup_code> read_label(const std::filesystem::path& path, std::string& error) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string magic, key, value;
  std::getline(in, magic);
  in >> key >> value;
  core::setup_code_parse_result r = core::parse_setup_code(value);
  if (magic != label_magic || key != "code" || !r) {
    error = path.string() + ": not a setup label (remove it: the code is then unknown, pair with "
                            "the payload)";
    return std::nullopt;
  }
  return r.value;
}

} // namespace

bool load_or_create_setup_secrets(const state_paths& p, setup_secrets& out, std::string& error) {
  bool exists = false;
  trust::store_status s =
      trust::load_setup_credentials(credentials_path(p), out.credentials, exists);
  if (s.failed()) {
    error = s.message() + " (remove the file and the setup-label to make new secrets; the old "
                          "label stops working)";
    return false;
  }
  if (exists) {
    out.code = read_label(label_path(p), error);
    return error.empty();
  }
  // First start: what the factory does when it prints the label.
  const crypto::random_source rng = crypto::system_random();
  std::array<std::uint8_t, 32> random{};
  core::setup_code code;
  if (rng.fill(rng.ctx, out.credentials.secret.data(), out.credentials.secret.size()) != 0 ||
      rng.fill(rng.ctx, random.data(), random.size()) != 0 || core::make_setup_code(random, code)) {
    error = "cannot draw random bytes for the setup secret and code";
    return false;
  }
  if (std::error_code ec = crypto::make_setup_code_verifier(
          code.view(), rng, crypto::default_setup_code_iterations, out.credentials.verifier)) {
    error = "making the setup code's verifier: " + ec.message();
    return false;
  }
  if (!write_private(label_path(p),
                     std::string(label_magic) + "\ncode " + std::string(code.view()) + "\n", error))
    return false;
  if (s = trust::save_setup_credentials(credentials_path(p), out.credentials); s.failed()) {
    error = s.message();
    return false;
  }
  out.code = code;
  return true;
}

} // namespace lanyard::sim
