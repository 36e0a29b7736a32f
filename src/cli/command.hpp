// The lanyard CLI's subcommands register themselves here; main.cpp dispatches by name.
#pragma once

#include "args.hpp"

#include <span>
#include <string_view>

namespace lanyard::cli {

/// One subcommand: `lanyard NAME ...`. `run` returns the process exit status; on failure it
/// prints one line "lanyard NAME: <reason>" to stderr first.
struct command {
  std::string_view name;
  std::string_view summary; // one line for `lanyard --help`
  std::string_view usage;   // full text for `lanyard NAME --help`
  arg_spec spec;            // which options exist and which take a value
  int (*run)(const parsed_args& args);
};

/// Registers a command at static-initialisation time (the CLI is one executable, so every
/// command file's registrar is linked).
struct command_registrar {
  explicit command_registrar(const command& c);
};

std::span<const command* const> commands();

} // namespace lanyard::cli
