// The discovery changes of one accessory in the directory's terms (added, updated,
// path_added, path_removed, path_unreachable, path_reachable, removed), rebuilt from the
// app::discovery_event snapshots an app::controller reports. `lanyard connect --json` printed
// the directory's events when it browsed by itself; on app::controller it gets one event per
// accessory and browse result, with the accessory after the change, and keeps printing the
// same lines (tests/integration/paths read their order) by comparing each snapshot with the
// one before.
//
// Thread-safety: distinct objects safe, shared objects unsafe.
#pragma once

#include <lanyard/app/accessory_info.hpp>
#include <lanyard/discovery/directory.hpp>

#include <string>
#include <vector>

namespace lanyard::cli {

class discovery_changes {
public:
  /// Follows accessory `device_id`; events of other accessories are ignored.
  explicit discovery_changes(std::string device_id) : id_(std::move(device_id)) {}

  /// The directory events `e` stands for, in the directory's order: `added` before the
  /// path_added of each of its paths; `updated` (TXT or name) before path_removed, then
  /// path_added, then path_reachable/path_unreachable. Only `kind` and `path` are filled in
  /// (`accessory.id` too).
  std::vector<discovery::directory_event> apply(const app::discovery_event& e);

private:
  std::string id_;
  bool present_ = false;
  std::vector<discovery::accessory_path> paths_; // as of the last event
};

} // namespace lanyard::cli
