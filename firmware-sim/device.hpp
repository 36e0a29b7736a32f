// One boot of the simulated accessory: everything that a reboot loses (sessions, timers, the
// advertisement) lives here; what survives is in the state directory. Built and run on the
// main io_context; not thread-safe (the control thread reaches it through asio::post).
#pragma once

#include "behaviour.hpp"
#include "options.hpp"
#include "setup_secrets.hpp"
#include "state_dir.hpp"

#include <lanyard/accessory/server.hpp>
#include <lanyard/core/provisioning.hpp>
#include <lanyard/core/provisioning_responder.hpp>
#include <lanyard/discovery/advertiser.hpp>
#include <lanyard/discovery/client.hpp>
#include <lanyard/tls/identity.hpp>
#include <lanyard/trust/controller_store.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

  /// Loads the identity and controllers, listens, advertises, prints the payload. False with
  /// `error` (one sentence naming the file or address and what to do) on a fatal problem.
  bool start(std::string& error);

  /// Withdraws the advertisement and closes the server (every connection ends). Idempotent.
  void stop();

  /// ctl status: one JSON object.
  std::string status_json() const;

  /// ctl pairing-window open|close. Empty on success, else the error sentence.
  std::string set_pairing_window(bool open);

  bool setup_mode() const noexcept { return setup_mode_; }

private:
  void on_message(const core::fingerprint& from, std::uint64_t seq,
                  std::span<const std::byte> payload);
  void on_control(const core::fingerprint& from, core::message_kind service, std::uint64_t seq,
                  std::span<const std::byte> payload);
  void provision(const core::fingerprint& from, std::uint64_t seq, const core::app_message& m);
  void try_join(const core::fingerprint& from, network_entry net,
                std::chrono::steady_clock::time_point deadline);
  void join_failed(const core::fingerprint& to, core::provisioning_failure why);
  void report(const core::fingerprint& to, const std::string& text);
  void send(const core::fingerprint& to, const core::app_message& m);
  void send_text(const core::fingerprint& to, const std::string& text,
                 core::message_kind kind = core::message_kind::application);
  void send_control(const core::fingerprint& to, core::message_kind service,
                    const core::app_message& m);
  void push_to_others(const core::fingerprint& except, const core::app_message& m);
  void schedule_housekeeping();
  void schedule_reading();
  bool window_open() const;
  /// --pairing-method confirm: no setup secret, pairing by a compared verification code.
  bool confirmation_pairing() const noexcept { return config_.pairing == pairing_mode::confirm; }
  core::txt_record txt() const;
  void refresh_txt(bool force = false);
  void make_server();
  // Listens on the SoftAP address in setup mode, else on --listen.
  bool listen(std::string& error);
  void join_home_network();
  void emit_ready();
  void advertise();
  void print_payload();

  asio::io_context& io_;
  const run_options& opts_;
  const state_paths& paths_;
  device_config config_;
  fault_settings& faults_;
  std::function<void()> restart_;
  behaviour behaviour_;

  tls::identity identity_;
  std::shared_ptr<trust::controller_store> store_;
  setup_secrets secrets_;
  std::optional<wifi_config> wifi_;
  bool setup_mode_ = false;
  std::unique_ptr<accessory::server> server_;
  asio::ip::tcp::endpoint endpoint_;
  std::string softap_interface_;
  std::unique_ptr<discovery::client> avahi_;
  std::unique_ptr<discovery::advertiser> advertiser_;
  bool advertised_window_open_ = false;
  unsigned config_number_ = 1;
  std::string payload_;
  asio::steady_timer housekeeping_;
  asio::steady_timer reading_timer_;
  asio::steady_timer join_timer_;
  core::provisioning_responder responder_;
  std::uint64_t messages_in_ = 0;
  std::uint64_t messages_out_ = 0;
  std::uint64_t sends_failed_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace lanyard::sim
