// What every CLI command that talks to an accessory as a controller needs: this controller's
// identity (key + certificate, created on first use), the app's trust store, and the parsing
// of HOST:PORT. Shared by `lanyard pair` and `lanyard controllers`; `lanyard provision` and
// `lanyard connect` (on app::controller) take the same identity and trust store through
// controller_options_from().
#pragma once

#include "args.hpp"

#include <lanyard/app/controller_options.hpp>
#include <lanyard/core/error_detail.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace lanyard::cli {

/// "controller-<hostname>", restricted to characters every device-id rule accepts.
std::string controller_device_id();

/// $XDG_STATE_HOME/lanyard/controller or ~/.local/state/lanyard/controller; nullopt (and
/// `error`, cli_errc::bad_argument) if neither variable is set.
std::optional<std::filesystem::path> default_identity_dir(core::error_detail& error);

/// Splits "HOST:PORT" or "[V6]:PORT" (the port 1..65535). False with `error` otherwise.
bool split_host_port(const std::string& text, std::string& host, std::string& port,
                     std::string& error);

/// This controller's identity from --identity-dir (or the default), created on first use. An
/// existing identity is kept whatever its id: a renamed host must not lose the key that
/// accessories have pinned for this controller. nullopt with `error` (the code and one
/// sentence) on failure.
std::optional<tls::identity> load_controller_identity(const parsed_args& args,
                                                      core::error_detail& error);

/// The trust store from --trust-store (or the default), loaded. nullptr with `error` (the
/// store's status: its code, path and line fields).
std::shared_ptr<trust::trust_store> open_trust_store(const parsed_args& args,
                                                     core::error_detail& error);

/// The app::controller_options of a command acting as this controller, with the identity and
/// trust store the other commands use: identity_dir from --identity-dir (or the default; an
/// identity created on first use is named controller_device_id(), as
/// load_controller_identity() names it), trust_store from --trust-store (or the default), name
/// from --name (or controller_device_id()), state_dir the identity directory's parent (made,
/// 0700, if missing; nothing else is kept there). The rest is app::controller_options' defaults.
/// nullopt with `error` (cli_errc::bad_argument, or trust_store::default_path()'s status) if
/// there is no default location.
std::optional<app::controller_options> controller_options_from(const parsed_args& args,
                                                               core::error_detail& error);

} // namespace lanyard::cli
