// Finding one accessory by its TXT id for the CLI's one-shot commands (`lanyard pair`,
// `lanyard controllers`): a DNS-SD browse of _lanyard._tcp, through avahi-daemon.
#pragma once

#include <lanyard/core/error_detail.hpp>

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace lanyard::cli {

/// Browses _lanyard._tcp for up to `timeout` and returns the reachable paths of the first
/// sighting of the accessory whose TXT id is `device_id`. Empty, with `error` saying what to do
/// (avahi-daemon missing: the discovery code; nothing found: channel_errc::not_discovered; give
/// --address), if none.
std::vector<asio::ip::tcp::endpoint> discover_accessory(const std::string& device_id,
                                                        std::chrono::seconds timeout,
                                                        core::error_detail& error);

} // namespace lanyard::cli
