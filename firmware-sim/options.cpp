#include "options.hpp"

#include <charconv>

namespace lanyard::sim {

const char* to_string(device_kind k) noexcept {
  return k == device_kind::lamp ? "lamp" : "sensor";
}

const char* to_string(pairing_mode m) noexcept {
  return m == pairing_mode::secret ? "secret" : "confirm";
}

const char* const usage_text =
    "usage: lanyard-accessory-sim --state-dir DIR [--kind lamp|sensor] [options]\n"
    "       lanyard-accessory-sim ctl --state-dir DIR COMMAND [ARGS]\n"
    "       lanyard-accessory-sim set-wifi --state-dir DIR --ssid SSID\n"
    "\n"
    "A simulated Lanyard accessory: a real process with its own identity, paired controllers\n"
    "and Wi-Fi configuration in DIR, serving the channel and advertising _lanyard._tcp.\n"
    "Without a Wi-Fi configuration (DIR/wifi.conf) it starts in setup mode: it listens on its\n"
    "SoftAP address, advertises sf=1, opens the pairing window and prints its setup payload.\n"
    "\n"
    "options:\n"
    "  --state-dir DIR           identity, controllers, wifi.conf, device.conf, control.sock\n"
    "  --kind lamp|sensor        required on first start (kept in DIR/device.conf)\n"
    "  --id ID                   device id (default: kept in device.conf, else sim-<random>)\n"
    "  --name NAME               display and DNS-SD instance name (default: Lamp / Sensor)\n"
    "  --pairing-method secret|confirm\n"
    "                            how new apps pair, chosen on first start (kept in\n"
    "                            DIR/device.conf): secret = prove the setup payload or the\n"
    "                            8-digit code (default); confirm = no setup secret at all (no\n"
    "                            payload, code or QR): apps pair with `lanyard pair --tofu\n"
    "                            ID@HOST:PORT` while the window is open, and each pairing\n"
    "                            prints the six-digit verification code the app showed\n"
    "                            (event verification-code)\n"
    "  --listen ADDR:PORT        where to serve when provisioned (default [::]:5577)\n"
    "  --softap-address ADDR     the SoftAP address in setup mode (default 198.18.4.1; if this\n"
    "                            machine does not have it, 127.0.0.1 is used instead)\n"
    "  --softap-port PORT        the port in setup mode (default 5577)\n"
    "  --no-advertise            do not publish _lanyard._tcp (no avahi-daemon needed)\n"
    "  --mdns avahi|builtin      who publishes _lanyard._tcp: avahi = the host's avahi-daemon\n"
    "                            (default); builtin = Lanyard's embedded mDNS responder in\n"
    "                            this process, as firmware does (no avahi-daemon needed; it\n"
    "                            shares UDP port 5353 with any other mDNS stack)\n"
    "  --sensor-interval-ms N    sensor: a reading every N ms (default 1000, 10..3600000)\n"
    "  --window-minutes N        pairing window timeout, 3..15 (default 15)\n"
    "  --pairing-delay-ms N      longest wait before the next proof after failed ones\n"
    "                            (default 8000, 1..60000; test labs shorten it)\n"
    "  --network SSID=PASS[@IF]  a Wi-Fi network provisioning can join (repeatable): joining\n"
    "                            waits until interface IF is up with an address (the lab maps\n"
    "                            SSIDs to its links); without @IF it joins on 127.0.0.1\n"
    "  --join-timeout-ms N       give up joining after N ms: failed reason=timeout (10000)\n"
    "  --softap-grace-ms N       after joining, keep the SoftAP N ms, then restart on the home\n"
    "                            network (2000)\n"
    "  --json-events             one JSON object per line on stdout instead of text lines\n"
    "  --no-qr                   do not draw the setup payload as a QR code\n"
    "\n"
    "ctl commands (see README.md): status, reboot [MS], crash, radio-sleep SECONDS, drop,\n"
    "undrop, rotate-key, slow MS, pairing-window open|close\n";

namespace {

bool parse_uint(const std::string& text, std::uint64_t min, std::uint64_t max, const char* what,
                std::uint64_t& out, std::string& error) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < min || v > max) {
    error = std::string(what) + " must be a number from " + std::to_string(min) + " to " +
            std::to_string(max) + ", not '" + text + "'";
    return false;
  }
  out = v;
  return true;
}

// Walks "--flag value" pairs; `value` is set to the next argument when the flag takes one.
struct flag_walker {
  const std::vector<std::string>& args;
  std::size_t i = 0;
  std::string& error;

  bool value(const std::string& flag, std::string& out) {
    if (i + 1 >= args.size()) {
      error = flag + " needs a value";
      return false;
    }
    out = args[++i];
    return true;
  }
};

} // namespace

bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port,
                     std::string& error) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    error = "'" + text + "' is not ADDR:PORT (e.g. 127.0.0.1:5577 or [::]:5577)";
    return false;
  }
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::uint64_t p = 0;
  if (!parse_uint(text.substr(colon + 1), 0, 65535, "the port", p, error)) {
    error = "'" + text + "': " + error;
    return false;
  }
  port = static_cast<std::uint16_t>(p);
  return true;
}

std::optional<run_options> parse_run(const std::vector<std::string>& args, std::string& error) {
  run_options o;
  bool have_dir = false;
  flag_walker w{args, 0, error};
  for (; w.i < args.size(); ++w.i) {
    const std::string& a = args[w.i];
    std::string v;
    std::uint64_t n = 0;
    if (a == "--state-dir") {
      if (!w.value(a, v)) return std::nullopt;
      o.state_dir = v;
      have_dir = true;
    } else if (a == "--kind") {
      if (!w.value(a, v)) return std::nullopt;
      if (v == "lamp") {
        o.kind = device_kind::lamp;
      } else if (v == "sensor") {
        o.kind = device_kind::sensor;
      } else {
        error = "--kind must be lamp or sensor, not '" + v + "'";
        return std::nullopt;
      }
    } else if (a == "--id") {
      if (!w.value(a, v)) return std::nullopt;
      o.id = v;
    } else if (a == "--name") {
      if (!w.value(a, v)) return std::nullopt;
      if (v.empty() || v.size() > 63) {
        error = "--name must be 1 to 63 bytes (a DNS-SD instance name)";
        return std::nullopt;
      }
      o.name = v;
    } else if (a == "--pairing-method") {
      if (!w.value(a, v)) return std::nullopt;
      if (v == "secret") {
        o.pairing = pairing_mode::secret;
      } else if (v == "confirm") {
        o.pairing = pairing_mode::confirm;
      } else {
        error = "--pairing-method must be secret (prove the setup payload or code) or confirm "
                "(no setup secret: compare a verification code), not '" +
                v + "'";
        return std::nullopt;
      }
    } else if (a == "--listen") {
      if (!w.value(a, v)) return std::nullopt;
      std::string host;
      std::uint16_t port = 0;
      if (!split_host_port(v, host, port, error)) {
        error = "--listen: " + error;
        return std::nullopt;
      }
      o.listen = v;
    } else if (a == "--softap-address") {
      if (!w.value(a, v)) return std::nullopt;
      o.softap_address = v;
    } else if (a == "--softap-port") {
      if (!w.value(a, v) || !parse_uint(v, 1, 65535, "--softap-port", n, error))
        return std::nullopt;
      o.softap_port = static_cast<std::uint16_t>(n);
    } else if (a == "--no-advertise") {
      o.advertise = false;
    } else if (a == "--mdns") {
      if (!w.value(a, v)) return std::nullopt;
      if (v == "avahi") {
        o.mdns = node::mdns_backend::avahi;
      } else if (v == "builtin") {
        o.mdns = node::mdns_backend::builtin;
      } else {
        error = "--mdns must be avahi (the host's avahi-daemon) or builtin (the embedded mDNS "
                "responder), not '" +
                v + "'";
        return std::nullopt;
      }
    } else if (a == "--sensor-interval-ms") {
      if (!w.value(a, v) || !parse_uint(v, 10, 3600000, "--sensor-interval-ms", n, error))
        return std::nullopt;
      o.sensor_interval = std::chrono::milliseconds(n);
    } else if (a == "--window-minutes") {
      if (!w.value(a, v) || !parse_uint(v, 3, 15, "--window-minutes", n, error))
        return std::nullopt;
      o.window_timeout = std::chrono::minutes(n);
    } else if (a == "--network") {
      if (!w.value(a, v)) return std::nullopt;
      const auto eq = v.find('=');
      const auto at = v.rfind('@');
      network_entry net;
      net.ssid = v.substr(0, eq);
      if (eq != std::string::npos) {
        net.passphrase =
            v.substr(eq + 1, at == std::string::npos || at < eq ? std::string::npos : at - eq - 1);
        if (at != std::string::npos && at > eq) net.interface = v.substr(at + 1);
      }
      if (eq == std::string::npos || net.ssid.empty() || net.ssid.size() > 32) {
        error =
            "--network must be SSID=PASSPHRASE[@IFACE] with a 1 to 32 byte SSID, not '" + v + "'";
        return std::nullopt;
      }
      o.networks.push_back(net);
    } else if (a == "--join-timeout-ms") {
      if (!w.value(a, v) || !parse_uint(v, 100, 600000, "--join-timeout-ms", n, error))
        return std::nullopt;
      o.join_timeout = std::chrono::milliseconds(n);
    } else if (a == "--pairing-delay-ms") {
      if (!w.value(a, v) || !parse_uint(v, 1, 60000, "--pairing-delay-ms", n, error))
        return std::nullopt;
      o.pairing_delay_max = std::chrono::milliseconds(n);
    } else if (a == "--softap-grace-ms") {
      if (!w.value(a, v) || !parse_uint(v, 0, 600000, "--softap-grace-ms", n, error))
        return std::nullopt;
      o.softap_grace = std::chrono::milliseconds(n);
    } else if (a == "--json-events") {
      o.json_events = true;
    } else if (a == "--no-qr") {
      o.qr = false;
    } else {
      error = "unknown option '" + a + "' (see --help)";
      return std::nullopt;
    }
  }
  if (!have_dir) {
    error = "--state-dir DIR is required (where the accessory keeps its identity and "
            "controllers; created if missing)";
    return std::nullopt;
  }
  return o;
}

std::optional<ctl_options> parse_ctl(const std::vector<std::string>& args, std::string& error) {
  ctl_options o;
  bool have_dir = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--state-dir") {
      if (i + 1 >= args.size()) {
        error = "--state-dir needs a value";
        return std::nullopt;
      }
      o.state_dir = args[++i];
      have_dir = true;
    } else {
      o.command.push_back(args[i]);
    }
  }
  if (!have_dir) {
    error = "ctl: --state-dir DIR is required (the running accessory's state directory)";
    return std::nullopt;
  }
  if (o.command.empty()) {
    error = "ctl: give a command: status, reboot [MS], crash, radio-sleep SECONDS, drop, undrop, "
            "rotate-key, slow MS, pairing-window open|close";
    return std::nullopt;
  }
  return o;
}

std::optional<set_wifi_options> parse_set_wifi(const std::vector<std::string>& args,
                                               std::string& error) {
  set_wifi_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--state-dir" || args[i] == "--ssid") && i + 1 >= args.size()) {
      error = args[i] + " needs a value";
      return std::nullopt;
    }
    if (args[i] == "--state-dir") {
      o.state_dir = args[++i];
    } else if (args[i] == "--ssid") {
      o.ssid = args[++i];
    } else {
      error = "set-wifi: unknown option '" + args[i] + "'";
      return std::nullopt;
    }
  }
  if (o.state_dir.empty() || o.ssid.empty() || o.ssid.size() > 32) {
    error = "set-wifi: give --state-dir DIR and --ssid SSID (1 to 32 bytes)";
    return std::nullopt;
  }
  return o;
}

} // namespace lanyard::sim
