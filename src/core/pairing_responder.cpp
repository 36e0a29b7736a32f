#include "lanyard/core/pairing_responder.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/frame.hpp"
#include "lanyard/core/pairing_error.hpp"

#include <algorithm>
#include <array>
#include <variant>

namespace lanyard::core {
namespace {

pairing_status status_of(std::error_code ec) {
  if (ec == pairing_errc::window_closed) return pairing_status::window_closed;
  if (ec == pairing_errc::too_many_attempts) return pairing_status::too_many_attempts;
  if (ec == pairing_errc::controllers_full) return pairing_status::controllers_full;
  if (ec == pairing_errc::wrong_proof) return pairing_status::wrong_proof;
  if (ec == pairing_errc::method_not_supported) return pairing_status::method_not_supported;
  if (ec == pairing_errc::accessory_failure) return pairing_status::accessory_failure;
  return pairing_status::protocol_violation;
}

} // namespace

pairing_responder::pairing_responder(pairing_crypto& crypto, pairing_responder_host& host,
                                     const pairing_binding& binding, time_point now,
                                     pairing_settings settings)
    : crypto_(crypto), host_(host), binding_(binding), deadline_(now + settings.timeout) {}

std::error_code pairing_responder::receive(std::span<const std::byte> bytes, time_point now) {
  if (done()) return outcome_.error;
  std::size_t taken = 0;
  while (!done()) {
    taken += io_.feed(bytes.subspan(taken));
    pairing_decode_result r = io_.next();
    if (r.error == channel_errc::not_paired) {
      // An app that skipped pairing (or an old one): tell it in the channel's own terms.
      close_frame c;
      c.code = static_cast<std::uint16_t>(channel_errc::not_paired);
      // On the stack: the frame's header, its code and the sentence.
      std::array<std::byte, frame_header_size + close_body_min_size + not_paired_reason.size()> out;
      c.reason = not_paired_reason;
      io_.send_raw(std::span(out).first(encode_frame(c, std::span(out))));
      fail(channel_errc::not_paired);
      break;
    }
    if (r.error) {
      refuse(pairing_status::protocol_violation, r.error);
      break;
    }
    if (!r.value) break; // every byte taken, the frame not whole yet
    handle(*r.value, now);
  }
  // What followed the exchange's last frame stays where it is: the caller's.
  if (done()) unread_ = bytes.subspan(taken);
  return done() ? outcome_.error : std::error_code{};
}

void pairing_responder::handle(const pairing_frame& f, time_point now) {
  if (const auto* s = std::get_if<pair_start_frame>(&f); s && state_ == state::awaiting_start) {
    outcome_.method = s->method;
    outcome_.set_name(s->name);
    if (std::error_code ec = host_.admit(now)) return refuse(status_of(ec), ec);
    switch (s->method) {
    case pairing_method::setup_secret:
      if (!host_.setup_secret())
        return refuse(pairing_status::method_not_supported, pairing_errc::method_not_supported);
      held_secret_proof_ = s->proof;
      break;
    case pairing_method::setup_code: {
      const setup_code_verifier* v = host_.code_verifier();
      if (v == nullptr)
        return refuse(pairing_status::method_not_supported, pairing_errc::method_not_supported);
      pair_params_frame p;
      p.iterations = v->iterations;
      p.salt = v->salt;
      p.attempts_left = attempts_left_byte();
      io_.send(p);
      state_ = state::awaiting_share;
      // The half of the answer that does not need the share is done once PARAMS has left
      // (next_deadline() asks for it now), while the controller runs its PBKDF.
      prepare_at_ = now;
      return;
    }
    case pairing_method::confirmation: {
      if (!host_.allows_confirmation())
        return refuse(pairing_status::method_not_supported, pairing_errc::method_not_supported);
      std::uint32_t code = 0;
      if (std::error_code ec = crypto_.verification_code(binding_, code))
        return refuse(pairing_status::accessory_failure, ec);
      host_.show_verification_code(code);
      return finish_paired(std::nullopt);
    }
    }
    state_ = state::holding;
    hold_until_ = host_.evaluate_not_before();
    return evaluate(now);
  }
  if (const auto* sh = std::get_if<pair_share_frame>(&f); sh && state_ == state::awaiting_share) {
    prepare_at_.reset(); // too late: respond() does it all
    held_share_ = sh->share;
    state_ = state::holding;
    hold_until_ = host_.evaluate_not_before();
    return evaluate(now);
  }
  if (const auto* c = std::get_if<pair_confirm_frame>(&f); c && state_ == state::awaiting_confirm) {
    std::error_code ec = crypto_.code_verifier_finish(c->confirm);
    if (ec == pairing_errc::wrong_proof) {
      // Counted when the challenge went out: only say so, with what is left.
      pair_result_frame r;
      r.status = pairing_status::wrong_proof;
      r.attempts_left = attempts_left_byte();
      const auto wait = host_.evaluate_not_before() - now;
      r.retry_after_ms = static_cast<std::uint32_t>(
          std::max<std::int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
      io_.send(r);
      return fail(pairing_errc::wrong_proof);
    }
    if (ec) return refuse(pairing_status::accessory_failure, ec);
    if (std::error_code rec = host_.refund_failure(now))
      return refuse(pairing_status::accessory_failure, rec);
    return finish_paired(std::nullopt);
  }
  // Anything else, including a second frame while a proof waits out the delay.
  refuse(pairing_status::protocol_violation, pairing_errc::protocol_violation);
}

void pairing_responder::evaluate(time_point now) {
  if (state_ != state::holding || now < hold_until_) return;
  // The window may have closed while the proof waited (another connection's last attempt).
  if (std::error_code ec = host_.admit(now)) return refuse(status_of(ec), ec);
  if (held_secret_proof_) return evaluate_secret(*held_secret_proof_, now);
  if (held_share_) return evaluate_share(*held_share_, now);
  refuse(pairing_status::protocol_violation, pairing_errc::protocol_violation);
}

void pairing_responder::evaluate_secret(const pairing_mac& proof, time_point now) {
  const auto secret = host_.setup_secret();
  pairing_mac expected{};
  if (std::error_code ec =
          crypto_.secret_proof(*secret, binding_, pairing_party::controller, expected))
    return refuse(pairing_status::accessory_failure, ec);
  if (!crypto_.equal(proof, expected)) return wrong_proof(now);
  pairing_mac mine{};
  if (std::error_code ec = crypto_.secret_proof(*secret, binding_, pairing_party::accessory, mine))
    return refuse(pairing_status::accessory_failure, ec);
  finish_paired(mine);
}

void pairing_responder::evaluate_share(const pairing_point& share, time_point now) {
  pair_challenge_frame c;
  // A point off the curve reveals nothing about the code: refused without counting.
  if (std::error_code ec = crypto_.code_verifier_respond(*host_.code_verifier(), binding_, share,
                                                         c.share, c.confirm))
    return refuse(pairing_status::protocol_violation, ec);
  // confirmV lets the peer check its guess offline: the attempt is counted before it leaves.
  if (std::error_code ec = host_.record_failure(now))
    return refuse(pairing_status::accessory_failure, ec);
  c.attempts_left = attempts_left_byte();
  io_.send(c);
  held_share_.reset();
  state_ = state::awaiting_confirm;
}

void pairing_responder::finish_paired(std::optional<pairing_mac> proof) {
  paired_role role = paired_role::user;
  if (std::error_code ec = host_.add_controller(binding_.controller, outcome_.name(), role))
    return refuse(status_of(ec), ec);
  pair_result_frame r;
  r.status = pairing_status::paired;
  r.role = role;
  r.attempts_left = attempts_left_byte();
  r.proof = proof;
  io_.send(r);
  outcome_.role = role;
  outcome_.error = {};
  state_ = state::done;
}

void pairing_responder::wrong_proof(time_point now) {
  if (std::error_code ec = host_.record_failure(now))
    return refuse(pairing_status::accessory_failure, ec);
  pair_result_frame r;
  r.status = pairing_status::wrong_proof;
  r.attempts_left = attempts_left_byte();
  const auto wait = host_.evaluate_not_before() - now;
  r.retry_after_ms = static_cast<std::uint32_t>(
      std::max<std::int64_t>(0, std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
  io_.send(r);
  fail(pairing_errc::wrong_proof);
}

void pairing_responder::refuse(pairing_status status, std::error_code ec) {
  pair_result_frame r;
  r.status = status;
  r.attempts_left = attempts_left_byte();
  io_.send(r);
  fail(ec);
}

void pairing_responder::abandon() noexcept {
  if (done()) return;
  fail(state_ == state::awaiting_confirm ? pairing_errc::wrong_proof
                                         : pairing_errc::protocol_violation);
}

void pairing_responder::fail(std::error_code ec) {
  outcome_.error = ec;
  state_ = state::done;
}

std::uint8_t pairing_responder::attempts_left_byte() {
  return static_cast<std::uint8_t>(std::min<std::uint32_t>(host_.attempts_left(), 255));
}

pairing_responder::time_point pairing_responder::next_deadline() const noexcept {
  if (done()) return time_point::max();
  if (state_ == state::holding) return std::min(hold_until_, deadline_);
  if (prepare_at_) return std::min(*prepare_at_, deadline_);
  return deadline_;
}

void pairing_responder::handle_deadline(time_point now) {
  if (done()) return;
  if (now >= deadline_) return fail(pairing_errc::timeout);
  if (prepare_at_ && now >= *prepare_at_) {
    prepare_at_.reset();
    // An error here costs nothing: respond() then starts afresh and reports its own.
    (void)crypto_.code_verifier_prepare(*host_.code_verifier());
  }
  evaluate(now);
}

} // namespace lanyard::core
