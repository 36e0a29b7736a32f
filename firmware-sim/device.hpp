// One boot of the simulated accessory: a lanyard::node::node (identity, controllers, pairing
// window, sessions, provisioning, the advertisement and its TXT record) plus what a simulator
// adds: the lamp or sensor behaviour, faults, the lab's radio and the output lines. Everything
// a reboot loses lives here; what survives is in the state directory. Built and run on the main
// io_context; not thread-safe (the control thread reaches it through asio::post).
#pragma once

#include "behaviour.hpp"
#include "lab_radio.hpp"
#include "options.hpp"
#include "setup_secrets.hpp"
#include "state_dir.hpp"
#include "status.hpp"

#include <lanyard/node/node.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace lanyard::sim {

/// Fault settings shared by the control thread and the device (atomics: read on the main
/// thread, written on the control thread).
struct fault_settings {
  std::atomic<unsigned> slow_ms{0};
  /// The port the previous boot bound (main thread only): a reboot of an accessory started
  /// with port 0 comes back on the same port, as a real one would.
  std::uint16_t remembered_port = 0;
};

class device {
public:
  /// `restart` asks the process for a reboot (if it cannot serve the home network after
  /// provisioning); called on this thread.
  device(asio::io_context& io, const run_options& opts, const state_paths& paths,
         const device_config& config, fault_settings& faults, std::function<void()> restart);
  ~device();

  /// Opens the node (identity, controllers, listening, advertising) and prints the payload.
  /// False with `error` (one sentence naming the file or address and what to do) on a fatal
  /// problem.
  bool start(std::string& error);

  /// Withdraws the advertisement and closes the node (every connection ends). Idempotent.
  void stop();

  /// ctl status (status.hpp: to_json() writes it).
  device_status status() const;

  /// ctl pairing-window open|close. Empty on success, else the error sentence.
  std::string set_pairing_window(bool open);

  bool setup_mode() const noexcept { return setup_mode_; }

private:
  void next_event();
  void on_event(const node::node_event& e);
  void receive_from(const core::fingerprint& controller);
  void on_message(const core::fingerprint& from, std::uint64_t seq,
                  std::span<const std::byte> payload);
  void send(const core::fingerprint& to, const core::app_message& m);
  void push_to_others(const core::fingerprint& except, const core::app_message& m);
  void schedule_reading();
  bool window_open() const;
  /// --pairing-method confirm: no setup secret, pairing by a compared verification code.
  bool confirmation_pairing() const noexcept { return config_.pairing == pairing_mode::confirm; }
  /// The product's TXT keys (md, c#) around the node's (id, pv, sf), in the simulator's order.
  core::txt_record product_txt() const;
  // The endpoint of setup mode (the SoftAP, else loopback) or of --listen.
  bool listen_endpoint(asio::ip::tcp::endpoint& ep, std::string& error);
  void join_home_network();
  void emit_ready();
  void print_payload();

  asio::io_context& io_;
  const run_options& opts_;
  const state_paths& paths_;
  device_config config_;
  fault_settings& faults_;
  std::function<void()> restart_;
  behaviour behaviour_;

  setup_secrets secrets_;
  std::optional<wifi_config> wifi_;
  bool setup_mode_ = false;
  std::string softap_interface_;
  std::shared_ptr<lab_radio> radio_;
  std::unique_ptr<node::node> node_;
  std::set<core::fingerprint> receiving_; // controllers with a receive loop
  bool shown_window_open_ = false;        // what the last pairing-window line said
  unsigned config_number_ = 1;            // TXT c#: bumped whenever sf changes
  std::uint64_t txt_published_ = 0;       // records the node published (advertising_event)
  std::string payload_;
  asio::steady_timer reading_timer_;
  std::uint64_t messages_in_ = 0;
  std::uint64_t messages_out_ = 0;
  std::uint64_t sends_failed_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace lanyard::sim
