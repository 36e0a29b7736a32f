// The app's view of accessories: the directory (what discovery sees, merged by id) joined
// with the trust store (what this app paired with), and the directory's changes in the
// terms of that view. Without a trust store (an app::accessory_browser opened without one)
// nothing is paired.
//
// Thread-safety: pure functions over the objects given.
#pragma once

#include <lanyard/app/accessory_info.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <span>
#include <string_view>
#include <vector>

namespace lanyard::app::detail {

/// One accessory by id (discovered, paired, or neither: then only `id` is set).
accessory_info describe(std::string_view id, const discovery::directory& dir,
                        const trust::trust_store* store);

/// Every accessory discovered or paired, ordered by id.
std::vector<accessory_info> list_accessories(const discovery::directory& dir,
                                             const trust::trust_store* store);

/// The directory's events of one browse event as discovery events: one per accessory and
/// batch (an `added` and its path_added events are one `appeared`).
std::vector<discovery_event> to_discovery_events(std::span<const discovery::directory_event> events,
                                                 const trust::trust_store* store);

} // namespace lanyard::app::detail
