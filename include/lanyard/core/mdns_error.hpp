/// @file
/// Errors of the embedded mDNS/DNS-SD responder and its DNS message codec: one category,
/// "lanyard.mdns", shared by the reader (mdns_message.hpp), the writer (mdns_writer.hpp) and
/// the responder (mdns_responder.hpp).
///
/// The reader's codes say what is wrong with a packet from the network, each one rule of
/// RFC 1035 section 4 (with RFC 6762's changes); the responder drops such a packet whole (RFC
/// 6762 section 18: a malformed message is silently ignored) and tells nobody, because anyone
/// on the link can send one. The writer's and the configuration's codes are this program's own
/// mistakes or limits.
///
/// Thread-safety: the category is a stateless singleton; safe from any thread.
#pragma once

#include <system_error>
#include <type_traits>

namespace lanyard::core {

/// What is wrong with a DNS message, a name or record to be written, or a responder setting.
enum class mdns_errc {
  // --- reading a message from the network (protocol violations) ---
  /// The message is shorter than the 12-byte DNS header.
  header_truncated = 1,
  /// A question's type and class, or a resource record's fixed fields or its data, run past the
  /// end of the message.
  record_truncated,
  /// A name's labels run past the end of the message (no terminating zero byte).
  name_truncated,
  /// A label length byte is 64-191 (0x40-0xBF): a label holds at most 63 bytes, and these values
  /// are no compression pointer either (RFC 1035 section 4.1.4; RFC 6891's extended labels are
  /// not used by mDNS).
  label_too_long,
  /// A name is longer than 255 bytes once its compression pointers are followed
  /// (RFC 1035 section 3.1).
  name_too_long,
  /// A compression pointer points at or past the end of the message.
  pointer_out_of_range,
  /// A compression pointer does not point to an earlier part of the message than the labels
  /// that led to it: a loop, or a forward reference (which no encoder needs, and which is how a
  /// loop is built).
  compression_loop,
  /// A record's data does not have the shape its type requires: an A record that is not 4 bytes,
  /// an AAAA record that is not 16, an SRV record shorter than 7 bytes, a name in PTR, SRV or
  /// NSEC data that does not end exactly where the data ends (or, for NSEC, a bad type bitmap).
  bad_rdata,
  /// A typed accessor (as_a(), as_srv(), ...) was asked for a record of another type. This
  /// program's mistake, not the peer's.
  wrong_type,

  // --- writing a message ---
  /// The record (or question, or header) does not fit in the buffer. The message is as it was
  /// before the call: the caller can send what is there (and set TC) or start a new packet.
  no_space = 20,
  /// A name given to the writer is not valid DNS wire form: an empty or over-long label, over
  /// 255 bytes, or no terminating zero byte.
  invalid_name,
  /// A question after a record, or a record of an earlier section after one of a later section:
  /// a DNS message's sections come in order (question, answer, authority, additional).
  section_order,

  // --- configuring the responder ---
  /// The host name is not one DNS label of 1-63 bytes (the responder adds ".local").
  invalid_host_name = 30,
  /// The service instance name is not one DNS label of 1-63 bytes.
  invalid_instance_name,
  /// The service type is not "_name._tcp" or "_name._udp" with a name of 1-15 characters
  /// (RFC 6763 section 7).
  invalid_service_type,
  /// The TXT record is larger than the responder's capacity (mdns_limits::max_txt_size).
  txt_too_large,
  /// The TXT record is not a valid wire-form TXT record (see txt_reader).
  invalid_txt,
  /// More interfaces than the responder holds (mdns_limits::max_interfaces).
  too_many_interfaces,
  /// More addresses on one interface than the responder holds
  /// (mdns_limits::max_addresses_per_interface).
  too_many_addresses,
  /// The responder was stopped: it sends its goodbyes and accepts nothing new.
  stopped,
  /// The responder has no configuration yet (configure() was not called or failed).
  not_configured,
};

/// The "lanyard.mdns" category. Any thread.
const std::error_category& mdns_category() noexcept;

/// Makes a std::error_code of mdns_category(); found by argument-dependent lookup, so an
/// mdns_errc converts implicitly to std::error_code.
inline std::error_code make_error_code(mdns_errc e) noexcept {
  return {static_cast<int>(e), mdns_category()};
}

} // namespace lanyard::core

template <>
struct std::is_error_code_enum<lanyard::core::mdns_errc> : std::true_type {};
