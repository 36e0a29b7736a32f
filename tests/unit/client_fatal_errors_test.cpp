// The app side's "is this fatal?" decisions are one comparison each with
// core::condition::permanent: client_channel's attempt_failed() and on_link_lost(), and
// path_racer::is_refusal(). This pins that they decide as the hand-written checks they replaced
// (copied below as they were at 44fb928) for every code of every category that reaches each
// site, and lists the codes decided differently, each with the reason it cannot reach the site.
// A reclassification that changes what the channel does fails here.
#include "client/path_racer.hpp"

#include "support/condition_table.hpp"

#include <lanyard/core/channel_error.hpp>
#include <lanyard/core/error_condition.hpp>
#include <lanyard/core/pairing_error.hpp>
#include <lanyard/crypto/error.hpp>
#include <lanyard/link/error.hpp>
#include <lanyard/tls_engine/error.hpp>
#include <lanyard/trust/error.hpp>

#include <asio/error.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <system_error>
#include <vector>

using namespace lanyard;
using client::detail::path_racer;

namespace {

// client_channel::impl::fatal(), called by attempt_failed().
bool old_fatal(std::error_code ec) {
  if (ec.category() == trust::trust_category()) return true;
  if (ec.category() == core::pairing_category()) return ec != core::pairing_errc::timeout;
  return ec == tls::tls_errc::peer_rejected_certificate || ec == tls::tls_errc::alpn_mismatch ||
         ec == tls::tls_errc::no_peer_verifier || ec == core::channel_errc::not_paired;
}

// path_racer::is_refusal().
bool old_is_refusal(std::error_code ec) {
  if (ec.category() == trust::trust_category()) return true;
  return ec == tls::tls_errc::peer_rejected_certificate || ec == tls::tls_errc::alpn_mismatch ||
         ec == tls::tls_errc::no_peer_verifier;
}

// client_channel::impl::on_link_lost(): fail instead of waiting.
bool old_link_lost_fails(std::error_code ec) {
  return ec == core::channel_errc::not_paired;
}

bool permanent(std::error_code ec) {
  return ec == core::condition::permanent;
}

// A code the new check decides differently, and why it never reaches the site.
struct difference {
  std::error_code code;
  const char* why;
};

// What a site sees: the categories whose codes reach it, and the differences.
struct site {
  std::function<bool(std::error_code)> before;
  std::function<bool(std::error_code)> now;
  std::vector<const std::error_category*> reaching;
  std::vector<difference> differences;
};

// System and asio codes the sites see (connect, read, write, resolve, timers, cancel).
const std::vector<std::error_code>& system_codes() {
  static const std::vector<std::error_code> codes = {
      asio::error::operation_aborted,
      asio::error::timed_out,
      asio::error::connection_refused,
      asio::error::connection_reset,
      asio::error::network_down,
      asio::error::network_unreachable,
      asio::error::host_unreachable,
      asio::error::broken_pipe,
      asio::error::eof,
      asio::error::host_not_found,
      asio::error::access_denied,
      asio::error::address_in_use,
      std::make_error_code(std::errc::invalid_argument),
  };
  return codes;
}

void pin(const site& s) {
  std::vector<std::error_code> codes = system_codes();
  for (const std::error_category* cat : s.reaching)
    for (int v = 0; v < 1024; ++v)
      if (test::is_defined(*cat, v)) codes.emplace_back(v, *cat);
  for (const std::error_code& ec : codes) {
    const difference* d = nullptr;
    for (const difference& x : s.differences)
      if (x.code == ec) d = &x;
    INFO(ec.category().name() << " " << ec.value() << ": " << ec.message());
    if (d == nullptr) {
      CHECK(s.now(ec) == s.before(ec));
    } else {
      INFO("listed as different: " << d->why);
      CHECK(s.now(ec) != s.before(ec));
    }
  }
  // Every listed difference is a code of a reaching category, and really differs.
  for (const difference& x : s.differences) {
    INFO(x.code.category().name() << " " << x.code.value());
    CHECK(s.now(x.code) != s.before(x.code));
  }
}

// TLS codes that only a TLS handshake or loading an identity produce.
constexpr const char* before_any_attempt =
    "API misuse or identity loading: the tls::context exists before the channel starts";

} // namespace

TEST_CASE("attempt_failed(): permanent decides as fatal() did", "[channel][error_condition]") {
  pin({old_fatal,
       permanent,
       // Resolving, racing (socket, binding, TLS with the pin check), pairing, attaching. The
       // crypto category's codes are translated into pairing and channel codes
       // (src/crypto/pairing_crypto.cpp) except bad_input and wrong_state, listed below.
       // lanyard.channel includes the channel runtime's codes (no_address, not_discovered, ...).
       {&core::channel_category(), &core::pairing_category(), &trust::trust_category(),
        &tls::tls_category(), &link::link_category(), &crypto::crypto_category()},
       {
           {core::pairing_errc::accessory_failure,
            "deliberate (error-model.md step 17): the accessory's storage failed and it says "
            "\"try again\"; the channel now retries with backoff instead of ending, which also "
            "stops a neighbour posing as the accessory from ending the owner's channel with it"},
           {core::pairing_errc::needs_full_handshake,
            "only the accessory's application hears it (server::pairing_report); the app sees "
            "the connection close, and never offers a resumed session before pairing"},
           {tls::tls_errc::peer_certificate_missing,
            "a TLS 1.2 ECDHE-ECDSA server always sends its certificate; only an accessory sees "
            "this"},
           {tls::tls_errc::not_connected,
            "async_pair's one source, a connection without an exporter, is a resumed "
            "handshake, which a channel that may pair never offers"},
           {tls::tls_errc::already_handshaken, before_any_attempt},
           {tls::tls_errc::bad_identity_file, before_any_attempt},
           {tls::tls_errc::identity_permissions, before_any_attempt},
           {tls::tls_errc::identity_io, before_any_attempt},
           {tls::tls_errc::invalid_device_id, before_any_attempt},
           {core::channel_errc::message_too_large,
            "the channel sends nothing through attempt_failed()"},
           {core::channel_errc::session_closed,
            "runner->attach() on a closed session: the channel failed before"},
           {core::channel_errc::invalid_state,
            "runner->attach() twice without a disconnect: a bug, not a situation"},
           {link::link_errc::family_mismatch,
            "the racer opens each socket in its endpoint's address family"},
           {crypto::crypto_errc::bad_input, "pairing credentials are checked when they are made"},
           {crypto::crypto_errc::bad_point,
            "translated into channel_errc::invalid_frame_field before it leaves the crypto"},
           {crypto::crypto_errc::confirmation_mismatch,
            "translated into a pairing code before it leaves the crypto"},
           {crypto::crypto_errc::wrong_state, "the pairing initiator calls the crypto in order"},
       }});
}

TEST_CASE("path_racer::is_refusal(): permanent decides as the hand-written check did",
          "[channel][error_condition]") {
  pin({old_is_refusal,
       path_racer::is_refusal,
       // A race opens sockets, binds them to interfaces and runs the TLS handshake with the pin
       // check (trust codes); no session, pairing or crypto runs inside it.
       {&trust::trust_category(), &tls::tls_category(), &link::link_category()},
       {
           {tls::tls_errc::peer_certificate_missing,
            "a TLS 1.2 ECDHE-ECDSA server always sends its certificate"},
           {tls::tls_errc::not_connected, "a handshake in progress is never 'not connected'"},
           {tls::tls_errc::already_handshaken, "each attempt runs one handshake on a new stream"},
           {tls::tls_errc::bad_identity_file, before_any_attempt},
           {tls::tls_errc::identity_permissions, before_any_attempt},
           {tls::tls_errc::identity_io, before_any_attempt},
           {tls::tls_errc::invalid_device_id, before_any_attempt},
           {link::link_errc::family_mismatch,
            "the racer opens each socket in its endpoint's address family"},
       }});
}

TEST_CASE("on_link_lost(): permanent decides as the not_paired check did",
          "[channel][error_condition]") {
  pin({old_link_lost_fails,
       permanent,
       // A session's connection ends with the session's connection errors, a TLS read or write
       // error, a socket error, or a replacement (connection_replaced: lanyard.channel too).
       {&core::channel_category(), &tls::tls_category()},
       {
           {core::channel_errc::message_too_large, "a send error, never a connection's end"},
           {core::channel_errc::session_closed,
            "the session closed first: the channel is failed or cancelled, and on_link_lost() "
            "returns at once"},
           {core::channel_errc::invalid_state,
            "only the accessory's session fails a connection with it (HELLO handling)"},
           {tls::tls_errc::alpn_mismatch, "a handshake error: a session starts after it"},
           {tls::tls_errc::peer_certificate_missing, "a handshake error"},
           {tls::tls_errc::peer_rejected_certificate, "a handshake error"},
           {tls::tls_errc::no_peer_verifier, "a handshake error"},
           {tls::tls_errc::not_connected,
            "the first error of a connection ends it; not_connected only follows another"},
           {tls::tls_errc::already_handshaken, before_any_attempt},
           {tls::tls_errc::bad_identity_file, before_any_attempt},
           {tls::tls_errc::identity_permissions, before_any_attempt},
           {tls::tls_errc::identity_io, before_any_attempt},
           {tls::tls_errc::invalid_device_id, before_any_attempt},
       }});
}
