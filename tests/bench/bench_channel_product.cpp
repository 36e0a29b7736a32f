#include "bench_channel_product.hpp"

#include <lanyard/app/controller.hpp>
#include <lanyard/app/device.hpp>
#include <lanyard/node/node.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <system_error>
#include <utility>

namespace lanyard::bench {
namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr channel::send_options queued{channel::send_mode::wait,
                                       channel::send_completion_mode::queued};
constexpr const char* device_id = "bench-node";

} // namespace

struct product_link::impl {
  asio::io_context io;
  std::unique_ptr<node::node> n;
  std::unique_ptr<app::controller> ctl;
  std::shared_ptr<app::device> dev;
  node::controller_id app_id; // the app, as the node knows it
  std::size_t node_bytes = 0, node_messages = 0;
  std::size_t app_bytes = 0, app_messages = 0;
  bool echo = false;
  bool closing = false;
  std::error_code send_error, receive_error;

  ~impl() {
    // The receive loops' pending completions find `closing` (or never run: the io_context
    // goes last and destroys what it still holds).
    closing = true;
    if (dev) dev->cancel();
    dev.reset();
    ctl.reset();
    n.reset();
  }

  // Runs the loop until `done` (true) or 30 s without it (false).
  template <class Pred>
  bool run_until(Pred done) {
    auto deadline = clock_type::now() + std::chrono::seconds(30);
    while (!done()) {
      if (clock_type::now() > deadline) return false;
      io.run_one_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  // The node's receive loop: always one node::async_receive() waiting, as an accessory's
  // per-controller loop does; echoes while `echo` is set.
  void pull_node() {
    n->async_receive(app_id, [this](std::error_code ec, core::message m) {
      if (closing) return;
      if (ec) {
        receive_error = ec;
        return;
      }
      node_bytes += m.payload.size();
      ++node_messages;
      if (echo)
        n->async_send(app_id, m.payload, queued, [this](std::error_code e, std::uint64_t) {
          if (e && !closing) send_error = e;
        });
      pull_node();
    });
  }

  // The app's receive loop: always one device::async_receive() waiting.
  void pull_app() {
    dev->async_receive([this](std::error_code ec, core::message m) {
      if (closing) return;
      if (ec) {
        receive_error = ec;
        return;
      }
      app_bytes += m.payload.size();
      ++app_messages;
      pull_app();
    });
  }

  // One more message, completing once acknowledged: acknowledgements are cumulative, so every
  // earlier message of that sender was taken and acknowledged then (the next phase starts
  // clean). Untimed. `from_app`: the device sends, else the node.
  bool settle(bool from_app) {
    const std::byte one{0x01};
    std::optional<std::error_code> done;
    auto h = [&](std::error_code ec, std::uint64_t) { done = ec; };
    if (from_app)
      dev->async_send(std::span(&one, 1), h);
    else
      n->async_send(app_id, std::span(&one, 1), h);
    return run_until([&] { return done.has_value(); }) && !*done;
  }

  std::string failure(const char* what) const {
    std::string s = std::string("device/node ") + what + ": ";
    if (send_error) return s + send_error.message();
    if (receive_error) return s + "receive: " + receive_error.message();
    return s + "timed out";
  }

  // `count` messages of `size` bytes, `window` sends outstanding (the queued completion
  // refills as soon as the replay buffer took one); done when the receiver's `bytes` reached
  // the target.
  template <class Send>
  double run_transfer(std::size_t count, std::size_t size, std::size_t window,
                      const std::size_t& bytes, Send send, bool from_app, std::string& error) {
    std::vector<std::byte> payload(size, std::byte{0x5a});
    const std::size_t target = bytes + count * size;
    std::size_t issued = 0, completed = 0;
    std::function<void()> issue = [&] {
      while (issued < count && issued - completed < window) {
        ++issued;
        send(payload, [&](std::error_code ec, std::uint64_t) {
          ++completed;
          if (ec) send_error = ec;
          issue();
        });
      }
    };
    auto t0 = clock_type::now();
    issue();
    bool ok = run_until([&] { return bytes >= target || send_error || receive_error; });
    double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    if (!ok || send_error || receive_error) {
      error = failure("transfer");
      return -1;
    }
    if (!run_until([&] { return completed == issued; }) || !settle(from_app)) {
      error = failure("transfer: sends did not complete");
      return -1;
    }
    return s;
  }
};

product_link::product_link(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
product_link::~product_link() = default;

std::unique_ptr<product_link> product_link::open(const fs::path& dir, std::string& error) {
  auto p = std::make_unique<impl>();
  node::node_options no;
  no.state_dir = dir / "node";
  no.device_id = device_id;
  no.listen = {{asio::ip::make_address("127.0.0.1"), 0}};
  no.advertise = false;
  if (core::error_detail e = node::node::open(p->io.get_executor(), std::move(no), p->n)) {
    error = "node: " + e.message();
    return nullptr;
  }
  app::controller_options co;
  co.state_dir = dir / "app";
  co.name = "bench-app";
  co.discovery = false;
  co.paths.static_paths = {{asio::ip::make_address("127.0.0.1"), p->n->ports().at(0), ""}};
  if (core::error_detail e = app::controller::open(p->io.get_executor(), std::move(co), p->ctl)) {
    error = "controller: " + e.message();
    return nullptr;
  }
  // Pairing once, before anything is measured.
  std::optional<std::error_code> paired;
  p->ctl->async_pair(p->n->setup_payload(),
                     [&](std::error_code ec, app::pairing_result) { paired = ec; });
  if (!p->run_until([&] { return paired.has_value(); }) || *paired) {
    error = "device/node pairing: " + (paired ? paired->message() : std::string("timed out"));
    return nullptr;
  }
  p->app_id = p->ctl->fingerprint();
  p->dev = p->ctl->get(device_id);
  if (!p->run_until([&] { return !p->n->sessions().empty(); }) ||
      p->dev->state() != client::channel_state::ready) {
    error = "device/node: the device is not ready after pairing (" +
            std::string(to_string(p->dev->state())) + ", " + p->dev->last_error().message() + ")";
    return nullptr;
  }
  p->pull_node();
  p->pull_app();
  return std::unique_ptr<product_link>(new product_link(std::move(p)));
}

double product_link::transfer(std::size_t count, std::size_t size, std::size_t window,
                              std::string& error) {
  impl& p = *impl_;
  return p.run_transfer(
      count, size, window, p.node_bytes,
      [&p](std::span<const std::byte> m, auto&& h) {
        p.dev->async_send(m, queued, std::forward<decltype(h)>(h));
      },
      true, error);
}

double product_link::transfer_to_app(std::size_t count, std::size_t size, std::size_t window,
                                     std::string& error) {
  impl& p = *impl_;
  return p.run_transfer(
      count, size, window, p.app_bytes,
      [&p](std::span<const std::byte> m, auto&& h) {
        p.n->async_send(p.app_id, m, queued, std::forward<decltype(h)>(h));
      },
      false, error);
}

bool product_link::round_trips(std::size_t iterations, std::size_t size,
                               std::vector<double>& samples_us, std::string& error) {
  impl& p = *impl_;
  std::vector<std::byte> payload(size, std::byte{0x33});
  p.echo = true;
  for (std::size_t i = 0; i < iterations; ++i) {
    const std::size_t want = p.app_messages + 1;
    auto t0 = clock_type::now();
    p.dev->async_send(payload, queued, [&p](std::error_code ec, std::uint64_t) {
      if (ec) p.send_error = ec;
    });
    if (!p.run_until([&] { return p.app_messages >= want || p.send_error || p.receive_error; }) ||
        p.send_error || p.receive_error) {
      error = p.failure("round trip");
      p.echo = false;
      return false;
    }
    samples_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
  }
  p.echo = false;
  if (!p.settle(true)) {
    error = p.failure("round trip: settling");
    return false;
  }
  return true;
}

} // namespace lanyard::bench
