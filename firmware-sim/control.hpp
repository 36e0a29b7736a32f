// The control socket (DIR/control.sock): one command line in, one JSON line out, then the
// connection closes. Served on a thread of its own, so it keeps answering while the device's
// io loop is paused by `drop` or `radio-sleep`. See README.md for the commands.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace lanyard::sim {

/// Handles one command (split into words); returns the JSON reply line.
using command_handler = std::function<std::string(const std::vector<std::string>& words)>;

/// `ctl`: sends `words` to the socket, prints the reply, returns 0 if it says "ok":true, 1 if
/// not, 2 if the socket cannot be reached (with a message naming it and what to do).
int run_ctl_client(const std::filesystem::path& socket, const std::vector<std::string>& words);

/// True if something answers on `socket` (another simulator runs on this state directory).
bool control_socket_alive(const std::filesystem::path& socket);

/// {"ok":true,"message":...} / {"ok":false,"error":...}
std::string ok_reply(const std::string& message);
/// {"ok":false,"error":ERROR[,"reason":REASON]}: `error` for people, `reason` a stable token
/// scripts check ("paused", "booting", "no_answer").
std::string error_reply(const std::string& error, const std::string& reason = "");

} // namespace lanyard::sim
