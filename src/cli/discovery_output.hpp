// What `lanyard browse` prints of discovery's data in both its views (DNS-SD instances and
// accessories): TXT records, interfaces and paths, as JSON fields and as terminal text. TXT
// values and names come from whoever answers on the network: text is escaped
// (core::display_text), JSON strings are valid UTF-8 (json_writer), and a TXT value that is
// not UTF-8 is printed as base64 in both.
//
// Thread-safety: pure functions.
#pragma once

#include "json.hpp"

#include <lanyard/core/txt_record.hpp>
#include <lanyard/discovery/directory.hpp>
#include <lanyard/discovery/service.hpp>

#include <string>

namespace lanyard::cli {

/// TXT as a JSON object: boolean attributes true, UTF-8 values as strings, anything else as
/// {"base64": "..."} (the marker documented in docs/discovery.md).
void write_txt(json_writer& w, const core::txt_record& txt);
/// TXT as `key=value key ...`, values escaped, non-UTF-8 values as `base64:...`.
std::string txt_text(const core::txt_record& txt);

/// The keys interface, interface_index and interface_kind.
void write_interface(json_writer& w, const discovery::interface_info& i);
/// A path as a JSON object: interface fields, address, port, reachable.
void write_path(json_writer& w, const discovery::accessory_path& p);
/// A path as `IF/ADDRESS:PORT`.
std::string path_text(const discovery::accessory_path& p);

} // namespace lanyard::cli
