// The lines `lanyard browse --directory` prints for an app::accessory_browser's discovery
// events: per accessory, the discovery directory's event kinds (added, updated, path_added,
// path_removed, path_unreachable, path_reachable, removed: rebuilt by discovery_changes from
// the accessory before and after each event), with the accessory after the change, as JSON
// (one object per line) or as text. The command printed the directory's events when it
// browsed by itself; scripts and tests/integration read them, so the lines stay the same.
//
// Peers' words (id, name, TXT) are escaped in text (core::display_text) and valid UTF-8 in
// JSON.
//
// Thread-safety: distinct objects safe, shared objects unsafe.
#pragma once

#include "discovery_changes.hpp"

#include <lanyard/app/accessory_info.hpp>

#include <map>
#include <string>
#include <vector>

namespace lanyard::cli {

class accessory_lines {
public:
  explicit accessory_lines(bool json) : json_(json) {}

  /// The lines for `e`, in order (none for a change the directory would not have reported).
  std::vector<std::string> apply(const app::discovery_event& e);

private:
  bool json_;
  std::map<std::string, discovery_changes, std::less<>> accessories_;
};

} // namespace lanyard::cli
