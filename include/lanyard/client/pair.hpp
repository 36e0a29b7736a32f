/// @file
/// Pairing from the app: on a fresh TLS connection to an accessory (tls::stream, handshaken
/// with a verifier that accepts the accessory's key tentatively), prove the setup secret of its
/// setup payload, or run SPAKE2+ with its 8-digit setup code, or — for an accessory without a
/// code — ask for pairing after the user compared the verification code. The accessory proves
/// itself in return: once async_pair() succeeds, the key on this connection is the one that
/// knows the secret, and the app may pin it. The connection then carries the channel (HELLO),
/// or is closed. docs/trust.md § Pairing has the whole flow.
///
/// @code
///   client::pairing_stream s(std::move(socket), ctx);    // a tcp::socket; ctx: tickets off
///   co_await s.async_handshake(tls::role::client, use_awaitable);
///   client::pairing_request req;
///   req.credentials.method = core::pairing_method::setup_code;
///   req.credentials.code = "12345670";                     // from core::parse_setup_code()
///   req.name = "Anna's phone";
///   auto [ec, outcome] = co_await client::async_pair(s, req, as_tuple(use_awaitable));
///   if (ec == core::pairing_errc::wrong_proof) ... outcome.attempts_left ...
/// @endcode
///
/// Thread-safety: as the stream's: one operation on a stream at a time. Cancellation: close the
/// stream's socket; the operation completes with asio::error::operation_aborted.
#pragma once

#include <lanyard/channel/transport.hpp>
#include <lanyard/core/pairing_initiator.hpp>
#include <lanyard/tls/stream.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/execution.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

namespace lanyard::client {

/// The channel's TLS stream (channel::transport converts from a tcp::socket), so the connection
/// that paired goes on with the channel.
using pairing_stream = tls::stream<channel::transport>;

/// What to prove and how this controller calls itself.
struct pairing_request {
  core::pairing_credentials credentials;
  /// This controller's display name in the accessory's list (at most 64 bytes are sent).
  std::string name;
  core::pairing_settings settings;
};

/// The six-digit verification code of a handshaken connection (the accessory shows the same
/// one), for confirmation pairing: show it to the user, pair only if they confirm. Errors: the
/// handshake has not completed (tls_errc::not_connected), crypto errors.
std::error_code verification_code(const pairing_stream& s, std::uint32_t& out);

namespace detail {
using pairing_callback = std::function<void(std::error_code, core::pairing_outcome)>;
/// Runs the exchange; `done` is called once, from inside a handler (never from this call).
void start_pairing(pairing_stream& s, pairing_request req, pairing_callback done);
} // namespace detail

/// Runs the pairing exchange on handshaken stream `s`.
///
/// @par Completion Signature
/// @code void(std::error_code ec, core::pairing_outcome outcome) @endcode
/// `ec` is empty when the accessory paired this controller (outcome.role says as what); else
/// core::pairing_errc (wrong_proof — outcome.attempts_left says how many tries the accessory
/// still takes —, accessory_unverified, window_closed, too_many_attempts, controllers_full,
/// method_not_supported, timeout, protocol_violation, accessory_failure), a frame error, a
/// transport error. Never completes inside this call.
///
/// Per-operation cancellation (a cancellation slot bound to the handler): terminal only. The
/// exchange stops where it is (its pending read or write on `s` is cancelled; the accessory
/// may have counted the attempt), it completes with asio::error::operation_aborted, and `s`
/// must not be used for pairing again. Partial and total cancellation are not honoured.
template <class CompletionToken>
auto async_pair(pairing_stream& s, pairing_request req, CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code, core::pairing_outcome)>(
      [&s](auto handler, pairing_request r) {
        using handler_type = decltype(handler);
        auto work = asio::prefer(asio::get_associated_executor(handler, s.get_executor()),
                                 asio::execution::outstanding_work.tracked);
        asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler);
        auto h = std::make_shared<handler_type>(std::move(handler));
        // Set when the exchange ends: a cancellation posted before it must not touch `s`, which
        // the caller may destroy once the handler ran.
        auto over = std::make_shared<bool>(false);
        if (slot.is_connected())
          slot.assign([&s, over, ex = s.get_executor()](asio::cancellation_type type) {
            if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none) return;
            asio::post(ex, [&s, over] {
              std::error_code ignored;
              if (!*over) s.next_layer().cancel(ignored);
            });
          });
        detail::start_pairing(
            s, std::move(r),
            [h, work, slot, over](std::error_code ec, core::pairing_outcome o) mutable {
              *over = true;
              if (slot.is_connected()) slot.clear();
              asio::post(work, [h, ec, o]() mutable { std::move (*h)(ec, o); });
            });
      },
      token, std::move(req));
}

} // namespace lanyard::client
