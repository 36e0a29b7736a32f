// The companion example's command line, kept out of the story in companion.cpp.
#pragma once

#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace companion {

struct options {
  std::string payload;          // the setup payload, LNY1:... (the QR code's text)
  std::string ssid, passphrase; // the home network, for provisioning
  std::string join;             // the command that joins the SoftAP (lab: ip link set sap0 up)
  std::string softap_interface; // pin the SoftAP path to this interface (lab: sap0)
  std::string state_dir = "companion-state"; // this app's key and the accessories it pinned
  unsigned long readings = 0;                // exit after this many readings; 0: run until SIGINT
};

inline std::optional<options> parse(int argc, char** argv) {
  options o;
  std::string passphrase_file, readings = "0";
  const std::map<std::string, std::string*> flags = {
      {"--ssid", &o.ssid},       {"--passphrase-file", &passphrase_file},
      {"--join", &o.join},       {"--softap-interface", &o.softap_interface},
      {"--readings", &readings}, {"--state-dir", &o.state_dir}};
  auto bad = [](const std::string& what) {
    std::fprintf(
        stderr,
        "example_companion: %s\nusage: example_companion PAYLOAD [--ssid SSID "
        "--passphrase-file FILE] [--join CMD]\n  [--softap-interface IF] [--state-dir DIR] "
        "[--readings N]\n",
        what.c_str());
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    if (auto f = flags.find(argv[i]); f != flags.end() && i + 1 < argc)
      *f->second = argv[++i];
    else if (argv[i][0] == '-' || !o.payload.empty())
      return bad(std::string("unexpected '") + argv[i] + "'");
    else
      o.payload = argv[i];
  }
  // The passphrase comes from a file: on the command line, ps(1) would show it to everyone.
  std::ifstream in(passphrase_file);
  if (!passphrase_file.empty() && !std::getline(in, o.passphrase))
    return bad("cannot read the passphrase file " + passphrase_file);
  if (readings.empty() || readings.size() > 9 ||
      readings.find_first_not_of("0123456789") != std::string::npos)
    return bad("--readings wants a number, not '" + readings + "'");
  o.readings = std::stoul(readings);
  return o;
}

} // namespace companion
