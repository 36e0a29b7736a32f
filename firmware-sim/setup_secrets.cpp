#include "setup_secrets.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace lanyard::sim {
namespace {

constexpr std::string_view label_magic = "lanyard-accessory-sim-label 1";

std::filesystem::path credentials_path(const state_paths& p) {
  return p.setup_credentials();
}
std::filesystem::path label_path(const state_paths& p) {
  return p.setup_label();
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
  std::optional<core::setup_code> made;
  trust::store_status s =
      trust::load_or_create_setup_credentials(credentials_path(p), out.credentials, made);
  if (s.failed()) {
    error = s.message() + " (remove the file and the setup-label to make new secrets; the old "
                          "label stops working)";
    return false;
  }
  if (!made) {
    out.code = read_label(label_path(p), error);
    return error.empty();
  }
  // Just made: "print the label".
  if (!write_private(label_path(p),
                     std::string(label_magic) + "\ncode " + std::string(made->view()) + "\n",
                     error))
    return false;
  out.code = made;
  return true;
}

} // namespace lanyard::sim
