// The node's advertisement, on either mDNS backend (node_options::mdns): avahi-daemon
// (discovery::client + discovery::advertiser) or the embedded responder
// (discovery::builtin_advertiser). Both report discovery::advertiser_event; the node sees only
// this interface. Use from the node's executor.
#pragma once

#include <lanyard/discovery/advertiser.hpp>
#include <lanyard/discovery/service.hpp>
#include <lanyard/node/node_options.hpp>

#include <asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <system_error>

namespace lanyard::node {

class service_advertising {
public:
  /// The backend `backend` names, publishing nothing yet. `host_name`: the embedded
  /// responder's mDNS host name (avahi-daemon has its own).
  static std::unique_ptr<service_advertising> make(asio::any_io_executor ex, mdns_backend backend,
                                                   const std::string& host_name);

  virtual ~service_advertising() = default;
  /// As discovery::advertiser::publish().
  virtual std::error_code publish(discovery::service_description d) = 0;
  /// As discovery::advertiser::update_txt().
  virtual std::error_code update_txt(core::txt_record txt) = 0;
  /// Goodbye packets; idempotent.
  virtual void withdraw() = 0;
  virtual bool registered() const = 0;
  virtual void on_event(std::function<void(const discovery::advertiser_event&)> handler) = 0;
};

} // namespace lanyard::node
