#include "lanyard/core/provisioning_responder.hpp"

namespace lanyard::core {
namespace {

// "v1 error re=N reason=R detail=D": the detail is percent-encoded and cut to 40 bytes so the
// reply stays one short line whatever the decoder said.
std::string refusal(std::uint64_t seq, const char* reason, const std::string& detail) {
  app_message e("error");
  e.set("re", seq).set("reason", reason).set("detail", percent_encode(detail.substr(0, 40)));
  std::string text;
  (void)encode_app_message(e, text); // 40 bytes percent-encoded stay within a value's limit
  return text;
}

} // namespace

std::error_code provisioning_responder::on_message(const app_message& m, std::uint64_t seq,
                                                   sender from, outcome& out) {
  return on_message(view_of(m), seq, from, out);
}

std::error_code provisioning_responder::on_message(const app_message_view& m, std::uint64_t seq,
                                                   sender from, outcome& out) {
  wifi_credentials c;
  const std::error_code ec = decode_wifi_credentials(m, c);
  if (ec == provisioning_errc::not_provisioning) return ec;
  out = outcome{};
  if (from != sender::admin) {
    out.reply = refusal(seq, "not_admin", "only an admin app may provision");
  } else if (phase_ == phase::done) {
    out.reply = refusal(seq, "not_in_setup_mode", "already provisioned");
  } else if (phase_ == phase::joining) {
    out.reply = refusal(seq, "busy", "already joining a network");
  } else if (ec) {
    out.reply = refusal(seq, "bad_field", ec.message());
  } else {
    provisioning_progress p;
    p.re = seq;
    p.state = provisioning_state::connecting;
    (void)encode_provisioning_progress(p, out.reply); // connecting cannot fail to encode
    out.join = std::move(c);
    phase_ = phase::joining;
    re_ = seq;
  }
  return {};
}

std::error_code provisioning_responder::joined(const std::vector<std::string>& addresses,
                                               std::string& out) {
  provisioning_progress p;
  p.state = provisioning_state::connected;
  p.addresses = addresses;
  return conclude(p, phase::done, out);
}

std::error_code provisioning_responder::failed(provisioning_failure why, std::string& out) {
  provisioning_progress p;
  p.state = provisioning_state::failed;
  p.reason = why;
  return conclude(p, phase::idle, out);
}

std::error_code provisioning_responder::conclude(provisioning_progress p, phase next,
                                                 std::string& out) {
  if (phase_ != phase::joining) return provisioning_errc::bad_state;
  p.re = re_;
  std::string text;
  if (std::error_code ec = encode_provisioning_progress(p, text)) return ec;
  out = std::move(text);
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
