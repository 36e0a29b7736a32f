#include "service_advertising.hpp"

#include <lanyard/discovery/builtin_advertiser.hpp>
#include <lanyard/discovery/client.hpp>

namespace lanyard::node {
namespace {

// avahi-daemon: one client (the D-Bus connection) and its advertiser.
class avahi_advertising final : public service_advertising {
public:
  explicit avahi_advertising(asio::any_io_executor ex)
      : client_(std::make_unique<discovery::client>(std::move(ex))),
        adv_(std::make_unique<discovery::advertiser>(*client_)) {}
  ~avahi_advertising() override { adv_.reset(); } // before its client

  std::error_code publish(discovery::service_description d) override {
    return adv_->publish(std::move(d));
  }
  std::error_code update_txt(core::txt_record txt) override {
    return adv_->update_txt(std::move(txt));
  }
  void withdraw() override { adv_->withdraw(); }
  bool registered() const override { return adv_->registered(); }
  void on_event(std::function<void(const discovery::advertiser_event&)> h) override {
    adv_->on_event(std::move(h));
  }

private:
  std::unique_ptr<discovery::client> client_;
  std::unique_ptr<discovery::advertiser> adv_;
};

// The embedded responder on the node's io_context.
class builtin_advertising final : public service_advertising {
public:
  builtin_advertising(asio::any_io_executor ex, const std::string& host_name)
      : adv_(std::move(ex), discovery::builtin_advertiser_options{host_name}) {}

  std::error_code publish(discovery::service_description d) override {
    return adv_.publish(std::move(d));
  }
  std::error_code update_txt(core::txt_record txt) override {
    return adv_.update_txt(std::move(txt));
  }
  void withdraw() override { adv_.withdraw(); }
  bool registered() const override { return adv_.registered(); }
  void on_event(std::function<void(const discovery::advertiser_event&)> h) override {
    adv_.on_event(std::move(h));
  }

private:
  discovery::builtin_advertiser adv_;
};

} // namespace

std::unique_ptr<service_advertising> service_advertising::make(asio::any_io_executor ex,
                                                               mdns_backend backend,
                                                               const std::string& host_name) {
  if (backend == mdns_backend::builtin)
    return std::make_unique<builtin_advertising>(std::move(ex), host_name);
  return std::make_unique<avahi_advertising>(std::move(ex));
}

} // namespace lanyard::node
