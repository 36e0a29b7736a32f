// The Avahi C API baseline of `lanyard-bench discovery`: a publisher and a browser written
// directly against libavahi-client (AvahiSimplePoll in the process's one thread), doing what
// Lanyard's advertiser and browser do, with nothing of Lanyard in them. They are this same
// binary run on a lab host with `lanyard-bench discovery --peer ROLE`, as `lanyard advertise` /
// `lanyard browse` are for Lanyard, and they print one line per event on stdout, flushed, which
// the benchmark follows as it follows the Lanyard CLI's output.
//
// Every field of a line is escaped with escape_field() (peers are untrusted: names, host names
// and TXT come from whoever answers on the network), so fields never contain a space and a line
// can be split on spaces.
#pragma once

#include "cli/args.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace lanyard::bench {

/// Runs one peer and returns its exit status:
///  - "avahi-publish --name NAME --type TYPE --port PORT [--txt K=V]...": an entry group with
///    the service (avahi_entry_group_add_service_strlst, all interfaces and protocols) until
///    SIGINT/SIGTERM, then freed (goodbye packets). Each line on standard input is a new TXT
///    record (words K=V or K), published in place with
///    avahi_entry_group_update_service_txt_strlst. Prints "registered NAME" (ESTABLISHED),
///    "txt-updated NAME", "failed REASON".
///  - "avahi-browse --type TYPE": an avahi_service_browser; for each instance it reports (one
///    per interface and protocol) an avahi_service_resolver (any address family) kept open for
///    the instance's life, which reports again whenever the resolved data changes, and an
///    avahi_record_browser on the instance's TXT record. Prints
///      "resolved NAME IF PROTO HOST ADDRESS PORT [TXT...]" for every resolver report,
///      "txt NAME IF PROTO [TXT...]" for every TXT record the record browser reports new,
///      "removed NAME IF PROTO", "resolve-failed NAME IF PROTO REASON", "failed REASON".
int run_avahi_c_peer(const std::string& role, const cli::parsed_args& args);

/// Bytes 0x21-0x7e other than '\' as they are, every other byte as \xHH.
std::string escape_field(std::string_view field);

/// The fields of a peer's line (split on single spaces).
std::vector<std::string> split_fields(const std::string& line);

} // namespace lanyard::bench
