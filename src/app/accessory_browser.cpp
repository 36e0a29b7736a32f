#include <lanyard/app/accessory_browser.hpp>

#include "discovery_feed.hpp"

#include <lanyard/discovery/browser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/trust/trust_store.hpp>

#include <asio/error.hpp>

#include <utility>

namespace lanyard::app {

struct accessory_browser::impl {
  executor_type executor;
  std::shared_ptr<detail::discovery_feed> feed;
  std::unique_ptr<discovery::client> avahi;
  std::unique_ptr<discovery::browser> browser;
  bool cancelled = false;

  ~impl() {
    browser.reset(); // before its client
    avahi.reset();
  }
};

core::error_detail accessory_browser::open(executor_type ex, accessory_browser_options options,
                                           std::unique_ptr<accessory_browser>& out) {
  auto i = std::make_unique<impl>();
  i->executor = ex;
  i->feed = std::make_shared<detail::discovery_feed>(ex, std::move(options.trust_store),
                                                     max_queued_events);
  i->avahi = std::make_unique<discovery::client>(ex);
  i->browser = std::make_unique<discovery::browser>(*i->avahi);
  // The browser's handlers run on the executor, never inside start(); the feed outlives
  // them (the browser goes first), the weak pointers only guard against a change of that.
  std::weak_ptr<detail::discovery_feed> w = i->feed;
  i->browser->on_event([w](const discovery::browse_event& e) {
    if (auto feed = w.lock()) feed->apply(e);
  });
  // The daemon going and coming back is an event of its own, queued like the others: an app
  // that was not waiting when it went still hears of it. Browsing resumes by itself.
  i->browser->on_error([w](std::error_code ec) {
    if (auto feed = w.lock()) feed->report_status(ec);
  });
  if (auto ec = i->browser->start(options.service_type, options.interface))
    return {ec, "cannot browse for '" + options.service_type + "'" +
                    (options.interface.empty() ? "" : " on '" + options.interface + "'") + ": " +
                    ec.message()};
  // What discovery_status() says now is no event; a change from it is. (The browser's
  // handlers run on the executor, never inside start(): none came before this.)
  i->feed->set_status(i->avahi->status());
  out.reset(new accessory_browser(std::move(i)));
  return {};
}

accessory_browser::accessory_browser(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

accessory_browser::~accessory_browser() {
  // Stop the browse before the feed can go: nothing reaches it while it completes its taker.
  impl_->browser.reset();
  impl_->feed->abort();
}

accessory_browser::executor_type accessory_browser::get_executor() const noexcept {
  return impl_->executor;
}

std::error_code accessory_browser::discovery_status() const noexcept {
  if (impl_->cancelled) return asio::error::operation_aborted;
  return impl_->avahi->status();
}

std::vector<accessory_info> accessory_browser::accessories() const {
  return impl_->feed->accessories();
}

void accessory_browser::cancel() {
  impl_->cancelled = true;
  // stop() is safe inside the browser's own handler (it drops the events still being
  // delivered); the client stays until destruction, idle.
  impl_->browser->stop();
  impl_->feed->abort();
}

void accessory_browser::next_impl(channel::completion<discovery_event> c) {
  impl_->feed->next(std::move(c));
}

const std::shared_ptr<detail::discovery_feed>& accessory_browser::feed() const noexcept {
  return impl_->feed;
}

} // namespace lanyard::app
