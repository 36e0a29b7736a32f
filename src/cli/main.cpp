// lanyard — the command-line tool: discovery, pairing, trust, channels, paths.
#include "command.hpp"
#include "lanyard/version.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace lanyard::cli {
namespace {

std::vector<const command*>& registry() {
  static std::vector<const command*> r;
  return r;
}

void print_help() {
  std::printf("lanyard %.*s — talk to accessories on the local network\n\n"
              "usage: lanyard COMMAND [ARGS...]   (lanyard COMMAND --help for details)\n\n"
              "commands:\n",
              static_cast<int>(version().size()), version().data());
  std::vector<const command*> sorted(registry());
  std::sort(sorted.begin(), sorted.end(),
            [](const command* a, const command* b) { return a->name < b->name; });
  for (const command* c : sorted)
    std::printf("  %-12.*s %.*s\n", static_cast<int>(c->name.size()), c->name.data(),
                static_cast<int>(c->summary.size()), c->summary.data());
}

} // namespace

command_registrar::command_registrar(const command& c) {
  registry().push_back(&c);
}

std::span<const command* const> commands() {
  return registry();
}

} // namespace lanyard::cli

int main(int argc, char** argv) {
  using namespace lanyard::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("%.*s\n", static_cast<int>(lanyard::version().size()), lanyard::version().data());
    return 0;
  }
  for (const command* c : commands()) {
    if (c->name != args[0]) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (std::find(rest.begin(), rest.end(), "--help") != rest.end()) {
      std::printf("%.*s", static_cast<int>(c->usage.size()), c->usage.data());
      return 0;
    }
    parsed_args parsed;
    std::string error;
    if (!parse_args(c->spec, rest, parsed, error)) {
      std::fprintf(stderr, "lanyard %s: %s\n", args[0].c_str(), error.c_str());
      return 2;
    }
    return c->run(parsed);
  }
  std::fprintf(stderr, "lanyard: unknown command '%s' (see lanyard --help)\n", args[0].c_str());
  return 2;
}
