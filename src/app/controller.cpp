#include <lanyard/app/controller.hpp>

#include "controller_context.hpp"
#include "discovery_feed.hpp"
#include "pair_request.hpp"

#include <lanyard/app/accessory_browser.hpp>
#include <lanyard/core/device_id.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>

#include <filesystem>
#include <map>
#include <span>
#include <utility>

namespace lanyard::app {

namespace {

// The device id in the app's certificate on first use: the name in the characters a device
// id allows.
std::string identity_id(std::string_view name) {
  std::string id = "app-";
  for (char c : name) {
    if (id.size() >= 48) break;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    id += ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') ? c : '-';
  }
  return id;
}

} // namespace

struct controller::impl : std::enable_shared_from_this<impl> {
  std::shared_ptr<detail::controller_context> ctx;
  // Discovery: the browser's feed (its directory is ctx->directory), or with discovery off a
  // bare feed, which still reports forget() to async_next_discovery_event().
  std::unique_ptr<accessory_browser> browser;
  std::shared_ptr<detail::discovery_feed> feed;
  // The controller keeps every device it made (a pairing it started must outlive the
  // caller's temporaries) until forget() or its own end.
  std::map<std::string, std::shared_ptr<device>, std::less<>> devices;

  std::vector<std::shared_ptr<device>> live_devices() const {
    std::vector<std::shared_ptr<device>> out;
    for (const auto& [id, d] : devices)
      out.push_back(d);
    return out;
  }

  // Every browse result's directory changes reach every device, whose channel follows the
  // accessory's paths with them.
  void directory_changed(std::span<const discovery::directory_event> changes) {
    for (const auto& d : live_devices())
      d->directory_changed(changes);
  }

  std::shared_ptr<device> get(std::string_view id) {
    if (auto it = devices.find(id); it != devices.end()) return it->second;
    auto d = std::make_shared<device>(device::passkey{}, std::string(id), ctx);
    devices.emplace(std::string(id), d);
    feed->resume(); // the app uses the controller again after cancel()
    return d;
  }
};

core::error_detail controller::open(executor_type ex, controller_options options,
                                    std::unique_ptr<controller>& out) {
  if (options.state_dir.empty())
    return {std::make_error_code(std::errc::invalid_argument),
            "controller_options::state_dir is empty: give the directory where the app keeps its "
            "identity and trust store"};
  // First use: the state directory is made private (it will hold the app's key).
  std::error_code dir_ec;
  if (!std::filesystem::exists(options.state_dir, dir_ec)) {
    std::filesystem::create_directories(options.state_dir, dir_ec);
    if (!dir_ec)
      std::filesystem::permissions(options.state_dir, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, dir_ec);
    if (dir_ec)
      return core::error_detail{dir_ec, "cannot create the app's state directory " +
                                            options.state_dir.string() + ": " + dir_ec.message()}
          .with("path", options.state_dir.string());
  }
  core::error_detail error;
  const std::filesystem::path identity_dir =
      options.identity_dir.empty() ? options.state_dir / "identity" : options.identity_dir;
  // An existing identity is the app's, whatever it is called now: renaming the app must not
  // make it a stranger to every accessory it paired with.
  tls::identity me =
      std::filesystem::exists(identity_dir / tls::identity_files::key_file_name, dir_ec)
          ? tls::identity_files::load(identity_dir, error)
          : tls::identity_files::load_or_create(
                identity_dir,
                options.identity_id.empty() ? identity_id(options.name) : options.identity_id,
                error);
  if (error) return error;
  tls::context tls = tls::context::create(std::move(me), {}, error);
  if (error) return error;
  auto store = std::make_shared<trust::trust_store>(
      options.trust_store.empty() ? options.state_dir / "trust-store.json" : options.trust_store);
  if (trust::store_status s = store->load(); s.failed()) return s;

  auto i = std::make_shared<impl>();
  if (options.discovery) {
    accessory_browser_options bo;
    bo.service_type = options.service_type;
    bo.trust_store = store;
    if (auto e = accessory_browser::open(ex, std::move(bo), i->browser)) return e;
    i->feed = i->browser->feed();
  } else {
    i->feed =
        std::make_shared<detail::discovery_feed>(ex, store, accessory_browser::max_queued_events);
  }
  std::weak_ptr<impl> w = i;
  i->feed->on_directory_changes([w](std::span<const discovery::directory_event> changes) {
    if (auto self = w.lock()) self->directory_changed(changes);
  });
  i->ctx = std::make_shared<detail::controller_context>(detail::controller_context{
      ex, std::move(tls), std::move(store), i->feed->directory(), std::move(options)});
  out.reset(new controller(std::move(i)));
  return {};
}

controller::controller(std::shared_ptr<impl> i) : impl_(std::move(i)) {}

controller::~controller() {
  impl_->browser.reset(); // stops browsing
  impl_->feed->abort();   // a pending async_next_discovery_event(): operation_aborted
}

controller::executor_type controller::get_executor() const noexcept {
  return impl_->ctx->executor;
}

const core::fingerprint& controller::fingerprint() const noexcept {
  return impl_->ctx->tls.local_identity().fingerprint();
}

std::error_code controller::discovery_status() const noexcept {
  if (!impl_->browser) return std::make_error_code(std::errc::operation_not_supported);
  return impl_->browser->discovery_status();
}

std::vector<accessory_info> controller::accessories() const {
  return impl_->feed->accessories();
}

std::shared_ptr<device> controller::get(std::string_view device_id) {
  return impl_->get(device_id);
}

core::error_detail controller::forget(std::string_view device_id) {
  if (trust::store_status s = impl_->ctx->store->forget(device_id); s.failed()) return s;
  impl_->ctx->tls.forget_session(device_id);
  if (auto it = impl_->devices.find(device_id); it != impl_->devices.end()) {
    it->second->cancel();
    impl_->devices.erase(it); // a holder keeps its object; get() makes a new one
  }
  impl_->feed->push(discovery_event{discovery_event::kind::changed,
                                    impl_->feed->describe(device_id),
                                    accessory_change::pairing,
                                    {}});
  return {};
}

void controller::cancel() {
  // Not the browser's cancel(): the controller keeps browsing for its devices, and get()
  // makes it usable again.
  impl_->feed->abort();
  for (const auto& d : impl_->live_devices())
    d->cancel();
}

void controller::next_discovery_impl(channel::completion<discovery_event> c) {
  impl_->feed->next(std::move(c));
}

void controller::pair_payload_impl(const core::setup_payload& p, const pair_options& o,
                                   channel::completion<pairing_result> c) {
  // Paired before (the payload of an operational accessory has no secret): connecting with
  // the pin is all there is to do unless asked to prove the secret again; a pin of another
  // key fails the channel with key_changed.
  detail::pair_request r;
  r.expected = p.device_fingerprint;
  r.prove_again = o.prove_again;
  const bool pinned = impl_->ctx->store->find(p.device_id).has_value();
  if (p.setup_secret)
    r.credentials =
        core::pairing_credentials{core::pairing_method::setup_secret, *p.setup_secret, {}};
  else if (!pinned || o.prove_again)
    return c.complete(core::payload_errc::no_setup_secret, {});
  impl_->get(p.device_id)->pair_impl(std::move(r), std::move(c));
}

void controller::pair_code_impl(std::string id, std::string code, const pair_options& o,
                                channel::completion<pairing_result> c) {
  const core::setup_code_parse_result parsed = core::parse_setup_code(code);
  if (parsed.code) return c.complete(parsed.code, {});
  if (!core::is_valid_device_id(id)) return c.complete(trust::trust_errc::invalid_record, {});
  detail::pair_request r;
  r.credentials = core::pairing_credentials{
      core::pairing_method::setup_code, {}, std::string(parsed.value.view())};
  r.prove_again = o.prove_again;
  impl_->get(id)->pair_impl(std::move(r), std::move(c));
}

void controller::pair_confirmation_impl(std::string id, client::confirm_handler confirm,
                                        const pair_options& o,
                                        channel::completion<pairing_result> c) {
  if (!core::is_valid_device_id(id)) return c.complete(trust::trust_errc::invalid_record, {});
  if (!confirm) return c.complete(std::make_error_code(std::errc::invalid_argument), {});
  detail::pair_request r;
  r.credentials = core::pairing_credentials{core::pairing_method::confirmation, {}, {}};
  r.prove_again = o.prove_again;
  r.confirm = std::move(confirm);
  impl_->get(id)->pair_impl(std::move(r), std::move(c));
}

} // namespace lanyard::app
