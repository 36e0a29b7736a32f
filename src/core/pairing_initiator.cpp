#include "lanyard/core/pairing_initiator.hpp"

#include "lanyard/core/channel_error.hpp"
#include "lanyard/core/pairing_error.hpp"

#include <utility>
#include <variant>

namespace lanyard::core {
namespace {

std::error_code error_of(pairing_status s) {
  switch (s) {
  case pairing_status::paired:
    return {};
  case pairing_status::wrong_proof:
    return pairing_errc::wrong_proof;
  case pairing_status::window_closed:
    return pairing_errc::window_closed;
  case pairing_status::too_many_attempts:
    return pairing_errc::too_many_attempts;
  case pairing_status::controllers_full:
    return pairing_errc::controllers_full;
  case pairing_status::method_not_supported:
    return pairing_errc::method_not_supported;
  case pairing_status::protocol_violation:
    return pairing_errc::protocol_violation;
  case pairing_status::accessory_failure:
    return pairing_errc::accessory_failure;
  }
  return pairing_errc::protocol_violation;
}

} // namespace

pairing_initiator::pairing_initiator(pairing_crypto& crypto, const pairing_binding& binding,
                                     pairing_credentials credentials, std::string name,
                                     pairing_settings settings)
    : crypto_(crypto), binding_(binding), credentials_(std::move(credentials)),
      name_(std::move(name)), settings_(settings) {
  if (name_.size() > max_pairing_name) name_.resize(max_pairing_name);
}

std::error_code pairing_initiator::verification_code(std::uint32_t& out) {
  return crypto_.verification_code(binding_, out);
}

void pairing_initiator::start(time_point now) {
  if (state_ != state::idle) return;
  deadline_ = now + settings_.timeout;
  pair_start_frame s;
  s.method = credentials_.method;
  s.name = name_;
  if (credentials_.method == pairing_method::setup_secret) {
    pairing_mac proof{};
    if (std::error_code ec =
            crypto_.secret_proof(credentials_.secret, binding_, pairing_party::controller, proof))
      return fail(ec);
    s.proof = proof;
  }
  io_.send(s);
  switch (credentials_.method) {
  case pairing_method::setup_code:
    state_ = state::awaiting_params;
    break;
  case pairing_method::setup_secret:
  case pairing_method::confirmation:
    state_ = state::awaiting_result;
    break;
  }
}

std::error_code pairing_initiator::receive(std::span<const std::byte> bytes, time_point) {
  if (done()) return outcome_.error;
  std::size_t taken = 0;
  while (!done()) {
    taken += io_.feed(bytes.subspan(taken));
    pairing_decode_result r = io_.next();
    if (r.error) {
      // A channel frame where the accessory's pairing answer belongs: its protocol is broken.
      fail(r.error == channel_errc::not_paired ? pairing_errc::protocol_violation : r.error);
      break;
    }
    if (!r.value) break;
    handle(*r.value);
  }
  return done() ? outcome_.error : std::error_code{};
}

void pairing_initiator::handle(const pairing_frame& f) {
  if (const auto* p = std::get_if<pair_params_frame>(&f); p && state_ == state::awaiting_params) {
    outcome_.attempts_left = p->attempts_left;
    pairing_point share{};
    if (std::error_code ec =
            crypto_.code_prover_start(credentials_.code, p->salt, p->iterations, binding_, share))
      return fail(ec);
    io_.send(pair_share_frame{share});
    state_ = state::awaiting_challenge;
    return;
  }
  if (const auto* c = std::get_if<pair_challenge_frame>(&f);
      c && state_ == state::awaiting_challenge) {
    // The accessory counted this attempt before answering: if the confirmation is wrong, this
    // is what remains.
    outcome_.attempts_left = c->attempts_left;
    pairing_mac confirm{};
    if (std::error_code ec = crypto_.code_prover_finish(c->share, c->confirm, confirm))
      return fail(ec);
    io_.send(pair_confirm_frame{confirm});
    state_ = state::awaiting_result;
    return;
  }
  if (const auto* r = std::get_if<pair_result_frame>(&f); r && state_ != state::idle) {
    outcome_.attempts_left = r->attempts_left;
    outcome_.retry_after = std::chrono::milliseconds(r->retry_after_ms);
    if (std::error_code ec = error_of(r->status)) return fail(ec);
    if (credentials_.method == pairing_method::setup_secret) {
      // Mutual: the accessory must show it knows the secret too, on this very connection.
      pairing_mac expected{};
      if (std::error_code ec = crypto_.secret_proof(credentials_.secret, binding_,
                                                    pairing_party::accessory, expected))
        return fail(ec);
      if (!r->proof || !crypto_.equal(*r->proof, expected))
        return fail(pairing_errc::accessory_unverified);
    } else if (credentials_.method == pairing_method::setup_code &&
               state_ != state::awaiting_result) {
      return fail(pairing_errc::protocol_violation); // "paired" before SPAKE2+ finished
    }
    outcome_.role = r->role;
    outcome_.error = {};
    state_ = state::done;
    return;
  }
  fail(pairing_errc::protocol_violation);
}

void pairing_initiator::handle_deadline(time_point now) {
  if (!done() && now >= deadline_) fail(pairing_errc::timeout);
}

void pairing_initiator::fail(std::error_code ec) {
  outcome_.error = ec;
  state_ = state::done;
}

} // namespace lanyard::core
