// lanyard-accessory-sim: a simulated Lanyard accessory (see README.md).
#include "control.hpp"
#include "options.hpp"
#include "runner.hpp"
#include "state_dir.hpp"

#include <cstdio>
#include <string>
#include <vector>

using namespace lanyard::sim;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::fputs(usage_text, stdout);
    return 0;
  }
  std::string error;
  if (!args.empty() && args[0] == "ctl") {
    auto o = parse_ctl({args.begin() + 1, args.end()}, error);
    if (!o) {
      std::fprintf(stderr, "lanyard-accessory-sim: %s\n", error.c_str());
      return 2;
    }
    return run_ctl_client(state_paths{o->state_dir}.control_socket(), o->command);
  }
  if (!args.empty() && args[0] == "set-wifi") {
    auto o = parse_set_wifi({args.begin() + 1, args.end()}, error);
    if (!o) {
      std::fprintf(stderr, "lanyard-accessory-sim: %s\n", error.c_str());
      return 2;
    }
    state_paths p{o->state_dir};
    if (!ensure_state_dir(p, error) || !write_wifi_config(p, wifi_config{o->ssid}, error)) {
      std::fprintf(stderr, "lanyard-accessory-sim: %s\n", error.c_str());
      return 1;
    }
    std::printf("wifi: %s written; the accessory starts provisioned (operational) next time\n",
                p.wifi_conf().c_str());
    return 0;
  }
  auto o = parse_run(args, error);
  if (!o) {
    std::fprintf(stderr, "lanyard-accessory-sim: %s\n", error.c_str());
    return 2;
  }
  return run_accessory(*o);
}
