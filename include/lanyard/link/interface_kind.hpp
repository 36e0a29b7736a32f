/// @file
/// What kind of link a network interface is (Wi-Fi, peer-to-peer, cellular…).
///
/// Used by discovery (every browse result names its interface's kind) and by path selection
/// (policies that require or prohibit kinds). Kinds come, in this order, from:
///   1. the override list in the environment variable LANYARD_INTERFACE_KINDS
///      ("wlan0=wifi,p2p0=p2p,cell0=cellular"), so that test labs and unusual hardware can
///      name their interfaces' kinds;
///   2. the kernel (sysfs): loopback flag, /sys/class/net/IF/wireless or phy80211 → wifi,
///      uevent DEVTYPE=wlan → wifi, DEVTYPE=wwan → cellular;
///   3. the name: "p2p-…"/"p2p0" → p2p, "lo" → loopback, "wlan…"/"wl…" → wifi,
///      "ap…"/"uap…" → softap, "wwan…"/"rmnet…"/"cell…" → cellular, "eth…"/"en…"/"em…" → wired;
///   4. otherwise a device with a hardware address of type Ethernet is wired, anything else
///      `other`.
///
/// Thread-safety: all functions are safe to call from any thread (they read the environment
/// and sysfs; do not setenv() concurrently).
#pragma once

#include <lanyard/core/interface_kind.hpp>
#include <lanyard/link/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace lanyard::link {

/// The kind of a network interface: the core's enumeration (to_string and
/// parse_interface_kind are in lanyard/core/interface_kind.hpp).
using core::interface_kind;

/// One override entry: interface name → kind.
using interface_kind_override = std::pair<std::string, interface_kind>;

/// Parses an override list "IF=KIND[,IF=KIND...]" (spaces around entries are ignored).
/// Returns false and sets `error` to a one-line reason naming the bad entry (e.g.
/// "LANYARD_INTERFACE_KINDS entry 'p2p0=bluetooth': unknown kind (expected wired, wifi,
/// softap, p2p, cellular, loopback or other)").
bool parse_interface_kind_overrides(std::string_view text,
                                    std::vector<interface_kind_override>& out, std::string& error);

/// As above, the failure as data: std::errc::invalid_argument, `detail` the same line, and the
/// fields interface (the bad entry's name part, when it has one) and problem
/// ("not_interface_equals_kind", "unknown_kind"). Success: an empty link_error.
link_error parse_interface_kind_overrides(std::string_view text,
                                          std::vector<interface_kind_override>& out);

/// The kind of interface `name`, using LANYARD_INTERFACE_KINDS and /sys/class/net. A malformed
/// LANYARD_INTERFACE_KINDS is ignored here (see check_interface_kind_overrides()).
interface_kind interface_kind_of(std::string_view name);

/// As above with explicit sources, for tests: `overrides` in the LANYARD_INTERFACE_KINDS
/// syntax, `sysfs_net` the directory holding one directory per interface (/sys/class/net).
interface_kind interface_kind_of(std::string_view name, std::string_view overrides,
                                 const std::string& sysfs_net);

/// Checks LANYARD_INTERFACE_KINDS; empty string if it is unset or well-formed, else the
/// one-line reason (so a CLI can refuse a typo instead of silently guessing kinds).
std::string check_interface_kind_overrides();

} // namespace lanyard::link
