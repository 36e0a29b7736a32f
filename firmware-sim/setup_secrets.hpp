// The simulated accessory's pairing secrets, made once with its identity:
//
//   DIR/setup-credentials   the setup secret and the setup code's SPAKE2+ verifier — what a
//                           real accessory keeps in flash (trust::setup_credentials, 0600)
//   DIR/setup-label         the setup code itself: what a real accessory has printed on its
//                           label and does not keep. The simulator keeps it (0600) only to print
//                           it in setup mode; the server never reads it.
//
// Deleting both (a factory reset of the secrets) makes new ones at the next start; deleting
// only the label leaves an accessory whose code nobody knows (pair with the payload then).
//
// An accessory started with --pairing-method confirm has neither file and never makes them:
// it has no setup secret at all (the runner refuses a state directory that holds them).
#pragma once

#include "state_dir.hpp"

#include <lanyard/core/setup_code.hpp>
#include <lanyard/trust/setup_credentials.hpp>

#include <optional>
#include <string>

namespace lanyard::sim {

struct setup_secrets {
  trust::setup_credentials credentials;
  /// The code from the label, if the label file is there.
  std::optional<core::setup_code> code;
};

/// Loads DIR/setup-credentials and DIR/setup-label, or makes both on first start. False with
/// `error` (naming the file and what to do) if a file is damaged or cannot be written.
bool load_or_create_setup_secrets(const state_paths& p, setup_secrets& out, std::string& error);

} // namespace lanyard::sim
