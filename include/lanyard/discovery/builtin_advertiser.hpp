/// @file
/// Publishes one DNS-SD service instance with Lanyard's own embedded mDNS responder
/// (core::mdns_responder) on asio UDP sockets: no avahi-daemon, no D-Bus. The asio driver of
/// the sans-IO responder (docs/mdns-responder.md § The asio driver), with the same surface as
/// discovery::advertiser so that an accessory node can use either (node_options::mdns).
///
/// - publish() checks the description (validate()), opens one UDP socket per family on port
///   5353 (SO_REUSEADDR + SO_REUSEPORT, so it coexists with another mDNS stack on the host),
///   joins 224.0.0.251 / ff02::fb on each interface it publishes on, and starts probing. The
///   arrival interface of each datagram comes from IP_PKTINFO / IPV6_PKTINFO (recvmsg on the
///   socket's native handle); each packet goes out on the interface the responder names.
/// - Interfaces: every interface that is up, can multicast and has an address (loopback
///   excluded), or only the one named in service_description::interface (it must exist at
///   publish(): unknown_interface otherwise). The list is read again every second: an
///   interface that appears, goes away or changes its addresses is followed (new addresses are
///   announced, removed ones get goodbyes). At most core::mdns_limits::max_interfaces.
/// - Events as discovery::advertiser's: `registered` once the instance has been announced on
///   an interface (probing done, RFC 6762 §8.3), `renamed` on a name conflict (the responder
///   renames "Lamp" to "Lamp (2)" and probes again), `failed` if the sockets cannot be opened
///   again after an interface change. `unavailable` never happens: there is no daemon.
/// - update_txt() announces the new record (RFC 6762 §8.4); withdraw() and the destructor
///   send goodbyes (TTL 0) and close the sockets.
///
/// Errors: std::error_code: validation (validation.hpp), unknown_interface, not_published,
/// txt_too_large, or the system's (address_in_use: port 5353 is held by a program that does not
/// share it).
/// Peer data is never logged: nothing here logs.
///
/// Thread-safety: distinct objects safe, shared objects unsafe; use from the executor only.
/// Handlers run on that executor, never inside the initiating call.
#pragma once

#include "lanyard/discovery/advertiser.hpp"
#include "lanyard/discovery/service.hpp"

#include <asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace lanyard::discovery {

/// Settings of a builtin_advertiser.
struct builtin_advertiser_options {
  /// The mDNS host name label (without ".local"), reduced to letters, digits and hyphens
  /// ("lamp-lab"); empty: this host's name (gethostname()). "lanyard" if nothing is left. The
  /// responder renames it ("lamp-lab-2") if another host holds it.
  std::string host_name;
};

class builtin_advertiser final {
public:
  using executor_type = asio::any_io_executor;

  /// An advertiser that publishes nothing yet.
  explicit builtin_advertiser(executor_type ex, builtin_advertiser_options options = {});
  /// Withdraws the service (goodbye packets).
  ~builtin_advertiser();
  builtin_advertiser(const builtin_advertiser&) = delete;
  builtin_advertiser& operator=(const builtin_advertiser&) = delete;

  executor_type get_executor() const noexcept;

  /// Starts publishing `d`, replacing (goodbye, then probing again) whatever this advertiser
  /// published before. Returns a validation error, unknown_interface (the interface named in
  /// `d` does not exist), or the system's error opening port 5353; progress arrives as events.
  std::error_code publish(service_description d);

  /// Replaces the TXT record and announces it. Errors: txt_too_large, not_published.
  std::error_code update_txt(core::txt_record txt);

  /// Removes the service from the network (goodbye packets) and closes the sockets.
  /// Idempotent.
  void withdraw();

  /// The current instance name (after renames); empty if nothing is published.
  const std::string& name() const noexcept;

  /// The mDNS host name in use (after renames), without ".local"; empty if nothing is
  /// published.
  std::string host_name() const;

  /// True once the instance has been announced on some interface.
  bool registered() const noexcept;

  /// The description being published (with the current TXT record).
  const service_description& description() const noexcept;

  /// Names of the interfaces published on now.
  std::vector<std::string> interfaces() const;

  /// Called for every event (replaces the previous handler).
  void on_event(std::function<void(const advertiser_event&)> handler);

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace lanyard::discovery
