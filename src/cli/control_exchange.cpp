#include "control_exchange.hpp"

#include "cli_error.hpp"
#include "controller_setup.hpp"
#include "discover.hpp"

#include <lanyard/client/client_channel.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <vector>

namespace lanyard::cli {

std::optional<core::app_message> answer_to(std::span<const std::byte> payload, std::uint64_t seq) {
  auto parsed = core::parse_app_message(payload);
  if (!parsed) return std::nullopt;
  const auto re = parsed.message.get_uint("re", 0, UINT64_MAX);
  if (!re || *re != seq) return std::nullopt;
  return std::move(parsed.message);
}

core::error_detail exchange_control(const parsed_args& args, const control_request& request,
                                    const control_answer& answer,
                                    std::shared_ptr<trust::trust_store>* store_out) {
  std::string host, port, why;
  if (const auto address = args.value("address"))
    if (!split_host_port(*address, host, port, why)) return {cli_errc::bad_argument, why};
  core::error_detail err;
  std::optional<tls::identity> me = load_controller_identity(args, err);
  if (!me) return err;
  std::shared_ptr<trust::trust_store> store = open_trust_store(args, err);
  if (!store) return err;
  if (store_out) *store_out = store;
  if (!store->find(request.device_id)) {
    core::error_detail e{trust::trust_errc::unknown_device,
                         "\"" + core::display_text(request.device_id) +
                             "\" is not paired: pair first"};
    return e.with(core::field_key::device_id, request.device_id);
  }
  if (host.empty()) {
    // By its id, through DNS-SD: the first path it answers on.
    const auto found = discover_accessory(request.device_id, request.timeout, err);
    if (found.empty()) return err;
    host = found.front().address().to_string();
    port = std::to_string(found.front().port());
  }

  asio::io_context io;
  client::client_options opts;
  opts.trust.device_id = request.device_id;
  opts.trust.store = store;
  client::client_channel ch(io.get_executor(), tls::context(*me), opts);
  core::error_detail outcome{std::make_error_code(std::errc::timed_out),
                             "no answer from the accessory"};
  std::optional<std::uint64_t> seq;
  std::vector<std::vector<std::byte>> early; // answers that came before our seq was known
  asio::steady_timer deadline(io);
  bool over = false;
  auto finish = [&](core::error_detail e) {
    if (over) return;
    over = true;
    outcome = std::move(e);
    ch.cancel();
    deadline.cancel();
    io.stop();
  };
  auto handle = [&](std::span<const std::byte> payload) {
    if (auto done = answer(payload, *seq)) finish(std::move(*done));
  };
  ch.set_state_handler([&](client::channel_state s, std::error_code code) {
    if (s != client::channel_state::failed) return;
    core::error_detail e = ch.last_error_detail();
    if (!e.code) e.code = code;
    finish(std::move(e));
  });
  // Only the request's service; the accessory's application messages are not looked at.
  ch.set_control_handler(
      [&](core::message_kind service, std::uint64_t, std::span<const std::byte> payload) {
        if (service != request.service || over) return;
        if (!seq) {
          early.emplace_back(payload.begin(), payload.end());
          return;
        }
        handle(payload);
      });
  ch.start({host, static_cast<std::uint16_t>(std::stoi(port))});
  channel::send_options so;
  so.completion = channel::send_completion_mode::queued;
  ch.async_send_control(request.service, request.body, so,
                        [&](std::error_code ec, std::uint64_t s) {
                          if (ec)
                            return finish({ec, "sending the request failed: " + ec.message()});
                          seq = s;
                          for (const auto& m : early)
                            if (!over) handle(m);
                        });
  deadline.expires_after(request.timeout);
  deadline.async_wait([&](std::error_code ec) {
    if (!ec)
      finish({std::make_error_code(std::errc::timed_out),
              "no answer from the accessory within " + std::to_string(request.timeout.count()) +
                  " s"});
  });
  io.run();
  return outcome;
}

} // namespace lanyard::cli
