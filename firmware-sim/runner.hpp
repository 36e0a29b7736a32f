// The simulated accessory's process: the boot loop (one device per boot, each on a fresh
// io_context), the control thread (control socket + SIGINT/SIGTERM) and the faults that act
// on the whole process (reboot, crash, rotate-key, drop, radio-sleep).
#pragma once

#include "options.hpp"

namespace lanyard::sim {

/// Runs until SIGINT/SIGTERM. Returns the exit status (0 clean, 1 failure, 2 bad flags).
int run_accessory(const run_options& opts);

} // namespace lanyard::sim
