#include "lanyard/core/provisioning_responder.hpp"

#include "lanyard/core/error_condition.hpp"

#include <array>

namespace lanyard::core {

std::string_view provisioning_responder::refuse(std::uint64_t seq, std::string_view reason,
                                                std::string_view detail) {
  // The detail is percent-encoded into room of its own; every detail here is a fixed word or
  // sentence that fits a value.
  std::array<char, app_message::max_value_length> encoded;
  const std::size_t n = percent_encode(detail, encoded);
  app_message_writer& w = reply_.emplace("error");
  w.set("re", seq).set("reason", reason).set("detail", std::string_view(encoded.data(), n));
  return w.text();
}

std::error_code provisioning_responder::on_message(const app_message& m, std::uint64_t seq,
                                                   sender from, outcome& out) {
  return on_message(view_of(m), seq, from, out);
}

std::error_code provisioning_responder::on_message(const app_message_view& m, std::uint64_t seq,
                                                   sender from, outcome& out) {
  // Decoded apart from network_: a wifi_set that comes while the driver joins must not change
  // what the driver is reading.
  wifi_credentials_buffer c;
  const std::error_code ec = decode_wifi_credentials(m, c);
  if (ec == provisioning_errc::not_provisioning) return ec;
  out = outcome{};
  if (from != sender::admin) {
    out.reply = refuse(seq, "not_admin", "only an admin app may provision");
  } else if (phase_ == phase::done) {
    out.reply = refuse(seq, "not_in_setup_mode", "already provisioned");
  } else if (phase_ == phase::joining) {
    out.reply = refuse(seq, "busy", "already joining a network");
  } else if (ec) {
    // The code's name ("bad_passphrase"): a word a program can match, where a sentence would
    // be cut and, composed, allocate.
    const auto& category = static_cast<const lanyard_category&>(ec.category());
    out.reply = refuse(seq, "bad_field", category.code_name(ec.value()));
  } else {
    (void)write_provisioning_progress(seq, provisioning_state::connecting, {}, {},
                                      reply_); // connecting cannot fail to encode
    out.reply = reply_->text();
    network_ = c;
    out.join = network_.view();
    phase_ = phase::joining;
    re_ = seq;
  }
  return {};
}

std::error_code provisioning_responder::joined(std::span<const std::string_view> addresses,
                                               std::string_view& out) {
  return conclude(provisioning_state::connected, addresses, {}, phase::done, out);
}

std::error_code provisioning_responder::failed(provisioning_failure why, std::string_view& out) {
  return conclude(provisioning_state::failed, {}, why, phase::idle, out);
}

std::error_code provisioning_responder::conclude(provisioning_state state,
                                                 std::span<const std::string_view> addresses,
                                                 provisioning_failure why, phase next,
                                                 std::string_view& out) {
  if (phase_ != phase::joining) return provisioning_errc::bad_state;
  if (std::error_code ec = write_provisioning_progress(re_, state, addresses, why, reply_))
    return ec;
  out = reply_->text();
  phase_ = next;
  return {};
}

const char* to_string(provisioning_responder::phase p) noexcept {
  switch (p) {
  case provisioning_responder::phase::idle:
    return "idle";
  case provisioning_responder::phase::joining:
    return "joining";
  case provisioning_responder::phase::done:
    return "done";
  }
  return "?";
}

} // namespace lanyard::core
