#include "lab_radio.hpp"

#include "events.hpp"
#include "netif.hpp"

namespace lanyard::sim {

lab_radio::lab_radio(asio::any_io_executor ex, const run_options& opts, const state_paths& paths)
    : opts_(opts), paths_(paths), timer_(std::move(ex)) {}

void lab_radio::join(const core::wifi_credentials& network, join_handler done) {
  const network_entry* net = nullptr;
  for (const auto& n : opts_.networks)
    if (n.ssid == network.ssid) net = &n;
  if (net == nullptr || net->passphrase != network.passphrase) {
    const auto why = net == nullptr ? core::provisioning_failure::network_not_found
                                    : core::provisioning_failure::auth_error;
    // A radio takes a moment to find out; answering at once would hide ordering bugs in apps.
    timer_.expires_after(std::chrono::milliseconds(300));
    timer_.async_wait([w = weak_from_this(), why, done = std::move(done)](std::error_code ec) {
      if (!ec && !w.expired()) done({{}, why});
    });
    return;
  }
  // Checked at once (the interface may be up already), so never inside this call: posted.
  timer_.expires_after(std::chrono::milliseconds(0));
  timer_.async_wait([w = weak_from_this(), net = *net, done = std::move(done),
                     deadline = std::chrono::steady_clock::now() +
                                opts_.join_timeout](std::error_code ec) mutable {
    if (auto self = w.lock(); self && !ec) self->poll(std::move(net), deadline, std::move(done));
  });
}

void lab_radio::poll(network_entry net, std::chrono::steady_clock::time_point deadline,
                     join_handler done) {
  std::vector<std::string> addresses = net.interface.empty() ? std::vector<std::string>{"127.0.0.1"}
                                                             : usable_addresses(net.interface);
  if (!addresses.empty()) {
    std::string error;
    if (!write_wifi_config(paths_, wifi_config{net.ssid}, error)) {
      emit("warning", {{"value", "provisioning: " + error}});
      return done({{}, core::provisioning_failure::timeout});
    }
    joined_ = net;
    return done({std::move(addresses), std::nullopt});
  }
  if (std::chrono::steady_clock::now() >= deadline)
    return done({{}, core::provisioning_failure::timeout});
  timer_.expires_after(std::chrono::milliseconds(200));
  timer_.async_wait([w = weak_from_this(), net = std::move(net), deadline,
                     done = std::move(done)](std::error_code ec) mutable {
    if (auto self = w.lock(); self && !ec) self->poll(std::move(net), deadline, std::move(done));
  });
}

void lab_radio::cancel() {
  timer_.cancel();
}

} // namespace lanyard::sim
