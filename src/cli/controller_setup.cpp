#include "controller_setup.hpp"

#include "cli_error.hpp"

#include <lanyard/tls_engine/identity_files.hpp>

#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace lanyard::cli {

std::string controller_device_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string id = "controller-";
  for (const char* p = host; *p != '\0' && id.size() < 48; ++p) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    id += ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') ? c : '-';
  }
  if (id.size() == 11) id += "local";
  return id;
}

std::optional<std::filesystem::path> default_identity_dir(core::error_detail& error) {
  if (const char* s = std::getenv("XDG_STATE_HOME"); s != nullptr && s[0] == '/')
    return std::filesystem::path(s) / "lanyard" / "controller";
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/')
    return std::filesystem::path(h) / ".local" / "state" / "lanyard" / "controller";
  error = {cli_errc::bad_argument, "neither XDG_STATE_HOME nor HOME is set; give the controller "
                                   "identity with --identity-dir DIR"};
  return std::nullopt;
}

bool split_host_port(const std::string& text, std::string& host, std::string& port,
                     std::string& error) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    error = "'" + text + "' is not HOST:PORT (e.g. 198.18.0.2:5577 or [fe80::1%eth0]:5577)";
    return false;
  }
  host = text.substr(0, colon);
  port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) {
    error = "'" + text + "' has no host (e.g. 198.18.0.2:5577 or [fe80::1%eth0]:5577)";
    return false;
  }
  std::string ignored;
  if (!parse_integer(port, 1, 65535, "port", ignored)) {
    error = "'" + text + "': the port must be a number from 1 to 65535";
    return false;
  }
  return true;
}

std::optional<tls::identity> load_controller_identity(const parsed_args& args,
                                                      core::error_detail& error) {
  std::filesystem::path dir;
  if (auto d = args.value("identity-dir")) {
    dir = *d;
  } else if (auto d2 = default_identity_dir(error)) {
    dir = *d2;
  } else {
    return std::nullopt;
  }
  std::error_code ec, exists_ec;
  // First use: the state directory itself may not exist yet (a fresh $HOME).
  if (!std::filesystem::exists(dir, exists_ec)) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) {
      error = {ec, "cannot create " + dir.parent_path().string() + ": " + ec.message() +
                       "; give the controller identity with --identity-dir DIR"};
      return std::nullopt;
    }
  }
  tls::identity me = std::filesystem::exists(dir / tls::identity_files::key_file_name, exists_ec)
                         ? tls::identity_files::load(dir, error)
                         : tls::identity_files::load_or_create(dir, controller_device_id(), error);
  if (error) return std::nullopt;
  return me;
}

std::shared_ptr<trust::trust_store> open_trust_store(const parsed_args& args,
                                                     core::error_detail& error) {
  std::filesystem::path path;
  if (auto p = args.value("trust-store")) {
    path = *p;
  } else if (trust::store_status s = trust::trust_store::default_path(path); s.failed()) {
    error = std::move(s);
    return nullptr;
  }
  auto store = std::make_shared<trust::trust_store>(path);
  if (trust::store_status s = store->load(); s.failed()) {
    error = std::move(s);
    return nullptr;
  }
  return store;
}

std::optional<app::controller_options> controller_options_from(const parsed_args& args,
                                                               core::error_detail& error) {
  app::controller_options o;
  if (auto d = args.value("identity-dir")) {
    o.identity_dir = *d;
  } else if (auto d2 = default_identity_dir(error)) {
    o.identity_dir = *d2;
  } else {
    return std::nullopt;
  }
  if (auto p = args.value("trust-store")) {
    o.trust_store = *p;
  } else if (trust::store_status s = trust::trust_store::default_path(o.trust_store); s.failed()) {
    error = std::move(s);
    return std::nullopt;
  }
  // What load_controller_identity() creates first (the parent of an identity in ./ is ./).
  o.state_dir = o.identity_dir.parent_path();
  if (o.state_dir.empty()) o.state_dir = ".";
  o.identity_id = controller_device_id();
  o.name = args.value("name").value_or(controller_device_id());
  return o;
}

} // namespace lanyard::cli
