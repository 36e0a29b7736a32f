#include <lanyard/tls_engine/engine.hpp>

#include <lanyard/core/diagnostic.hpp>
#include <lanyard/core/display_text.hpp>
#include <lanyard/tls_engine/diagnostics.hpp>
#include <lanyard/tls_engine/error.hpp>

#include "context_impl.hpp"
#include "mbedtls_util.hpp"

#include <mbedtls/ssl.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/x509.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

namespace lanyard::tls {
namespace {

using level = core::diagnostic_level;
namespace fk = core::field_key;

// An mbedTLS return code as a field: negative, as mbedTLS returns it, so a program compares it
// with MBEDTLS_ERR_* directly.
core::field mbedtls_field(int ret) {
  return {fk::mbedtls_error, std::int64_t{ret}};
}

constexpr unsigned char alert_record_type = 21; // TLS ContentType alert

const char* alert_name(int alert) {
  switch (alert) {
  case MBEDTLS_SSL_ALERT_MSG_CLOSE_NOTIFY:
    return "close_notify";
  case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE:
    return "unexpected_message";
  case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC:
    return "bad_record_mac";
  case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
    return "handshake_failure";
  case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
    return "bad_certificate";
  case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
    return "unsupported_certificate";
  case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
    return "certificate_revoked";
  case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
    return "certificate_expired";
  case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
    return "certificate_unknown";
  case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER:
    return "illegal_parameter";
  case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
    return "unknown_ca";
  case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
    return "access_denied";
  case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR:
    return "decode_error";
  case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR:
    return "decrypt_error";
  case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
    return "protocol_version";
  case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY:
    return "insufficient_security";
  case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR:
    return "internal_error";
  case MBEDTLS_SSL_ALERT_MSG_NO_RENEGOTIATION:
    return "no_renegotiation";
  case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_EXT:
    return "unsupported_extension";
  case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL:
    return "no_application_protocol";
  default:
    return "unknown alert";
  }
}

// What a fatal alert from the peer means for the caller.
tls_errc classify_alert(int alert) {
  switch (alert) {
  case MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL:
    return tls_errc::alpn_mismatch;
  case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
  case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
  case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
  case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
  case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
  case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
  case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
    return tls_errc::peer_rejected_certificate;
  case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
  case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
  case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY:
    return tls_errc::handshake_failed;
  default:
    return tls_errc::peer_alert;
  }
}

} // namespace

namespace detail {
// The engine whose mbedtls_ssl_handshake() is running on this thread. mbedTLS's ticket
// callback gets only the (shared) ticket context, not the connection; the handshake call is
// synchronous, so this is how the callback finds the connection's verifier.
thread_local engine::impl* current_handshake = nullptr;
} // namespace detail

// engine_buffers need not hold a record: mbedTLS assembles records in its own buffers
// (MBEDTLS_SSL_IN_BUFFER_LEN / OUT_BUFFER_LEN), reads ciphertext through bio_recv in whatever
// pieces the input buffer holds, and keeps what bio_send could not hand over (ssl.out_left)
// until the caller made room. The output minimum only has to exceed one record's expansion, so
// that write_bounded() can always put at least one byte of content in a record.
static_assert(engine_buffers::min_output_bytes > 64);

struct engine::impl {
  // Without buffers (empty spans) the engine allocates its own; with them it uses the caller's.
  // One constructor for both, which engine::reset() calls again (code size).
  impl(context c, engine_buffers b)
      : ctx(std::move(c)), conf(ctx.internal().get()), caller_buffers(!b.input.empty()),
        user_in(b.input), user_out(b.output) {
    mbedtls_ssl_init(&ssl);
    in_capacity = user_in.size();
  }
  ~impl() { mbedtls_ssl_free(&ssl); }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  enum class phase { idle, handshaking, connected, failed };

  context ctx;
  context::impl* conf;
  mbedtls_ssl_context ssl;
  phase state = phase::idle;
  role local_role = role::client;
  bool peer_closed = false;  // received close_notify
  bool local_closed = false; // sent close_notify

  // Ciphertext received and not yet handed to mbedTLS. Not zero-filled, and freed while empty
  // (release_input): an idle connection should not hold 16.5 KiB it is not using.
  std::unique_ptr<std::uint8_t[]> in;
  std::size_t in_capacity = 0;
  std::size_t in_pos = 0, in_end = 0;
  std::vector<std::uint8_t> out;
  std::size_t out_pos = 0;
  // engine_buffers: ciphertext lives in the caller's spans instead, never reallocated. Input
  // uses in_pos/in_end over user_in; output is user_out[out_pos, out_end).
  bool caller_buffers = false;
  std::span<std::uint8_t> user_in;
  std::span<std::uint8_t> user_out;
  std::size_t out_end = 0;
  bool out_partial = false; // bio_send took part of a record: the next call continues it

  peer_verifier verifier;
  bool has_own_verifier = false;
  std::string peer_id;

  bool verify_called = false;      // the verify callback ran: a full handshake
  bool resumption_checked = false; // the verifier accepted the session offered/received
  std::error_code verify_error;
  core::fingerprint peer_fp{};
  // The peer's subject CN, in the engine: a connection allocates nothing for it. At most RFC
  // 5280's upper bound (ub-common-name); a certificate with a longer one is refused
  // (bad_peer_certificate), and peer_cn_refused keeps its length for the sentence.
  std::array<char, max_peer_subject> peer_cn_bytes{};
  std::size_t peer_cn_size = 0;
  std::size_t peer_cn_refused = 0;
  std::string_view peer_cn() const noexcept { return {peer_cn_bytes.data(), peer_cn_size}; }
  bool set_peer_cn(std::string_view cn) noexcept {
    if (cn.size() > peer_cn_bytes.size()) {
      peer_cn_size = 0;
      peer_cn_refused = cn.size();
      return false;
    }
    std::copy(cn.begin(), cn.end(), peer_cn_bytes.begin());
    peer_cn_size = cn.size();
    peer_cn_refused = 0;
    return true;
  }
  int last_sent_alert = -1;
  bool resumed = false;
  // The RFC 5705 exporter: the callback keeps what it needs but the master secret (which stays
  // in ssl.session), and exporter() computes it on first use. Only pairing asks for it, so a
  // resumed reconnect does not pay a TLS PRF for nothing.
  std::array<std::uint8_t, 64> exporter_randoms{}; // client_random || server_random
  mbedtls_tls_prf_types exporter_prf = MBEDTLS_SSL_TLS_PRF_NONE;
  bool has_exporter_inputs = false;
  mutable std::array<std::uint8_t, 32> exporter{};
  mutable bool has_exporter = false;
  std::string_view alpn; // the context's (negotiated only if it is the same): no copy
  std::string_view suite;
  // The last failure or refusal noted: what last_error() returns (and last_error_detail() its
  // sentence).
  core::error_detail last;

  std::size_t out_size() const noexcept { return caller_buffers ? out_end : out.size(); }
  const std::uint8_t* out_data() const noexcept {
    return caller_buffers ? user_out.data() : out.data();
  }
  std::uint8_t* in_data() noexcept { return caller_buffers ? user_in.data() : in.get(); }
  bool has_output() const noexcept { return out_pos < out_size(); }

  // Caller's output buffer: moves what is pending to the front (output() spans end here) and
  // returns the free room after it.
  std::size_t out_room() noexcept {
    if (out_pos == out_end) {
      out_pos = out_end = 0;
    } else if (out_pos > 0) {
      std::memmove(user_out.data(), user_out.data() + out_pos, out_end - out_pos);
      out_end -= out_pos;
      out_pos = 0;
    }
    return user_out.size() - out_end;
  }

  // What a site would say, computed only if asked: a reference to the site's lambda (valid
  // during the call it is passed to). Not a template parameter, so that note() exists once
  // rather than once per site (firmware code size).
  template <class R>
  class deferred {
  public:
    template <class F>
    deferred(const F& f) noexcept // NOLINT: made from the site's lambda
        : f_(&f), call_([](const void* p) -> R { return (*static_cast<const F*>(p))(); }) {}
    R operator()() const { return call_(f_); }

  private:
    const void* f_;
    R (*call_)(const void*);
  };

  // A failure's sentence and the site's own fields.
  struct description {
    std::string line;
    std::vector<core::field> fields;
  };

  // Records a failure as last_error() and reports it (context_options::diagnostics, else the
  // `log` line, unchanged). `describe()` gives the sentence and the site's own fields; who the
  // peer is is added here, so that every site says it the same way. Without
  // context_options::describe_failures only the code is kept: nothing is composed, so nothing
  // is allocated (firmware: a stranger's failed handshake costs no heap).
  void note(std::string_view id, level lvl, std::error_code code, deferred<description> describe) {
    if (!conf->options.describe_failures) {
      last = core::error_detail{code};
      return;
    }
    description d = describe();
    std::vector<core::field>& fields = d.fields;
    fields.insert(fields.begin(), core::field{diag::key::role, std::string(to_string(local_role))});
    if (!peer_id.empty()) fields.push_back({fk::device_id, peer_id});
    if (peer_fp != core::fingerprint{})
      fields.push_back({fk::fingerprint_presented, core::to_string(peer_fp)});
    // The peer wrote its CN: escaped, as in the sentence.
    if (peer_cn_size > 0)
      fields.push_back({diag::key::peer_name, core::display_text(peer_cn(), 64)});
    last = core::error_detail{code, std::move(d.line), std::move(fields)};
    conf->emit(core::diagnostic{lvl, id, last.code, last.detail, last.fields});
  }

  // --- mbedTLS callbacks (static trampolines to this object). ---

  static int bio_send(void* p, const unsigned char* buf, size_t len) {
    auto* self = static_cast<impl*>(p);
    // Remember the last plaintext alert we send (before encryption starts, a record of type
    // 21 and length 2): it tells us why our side failed, e.g. no_application_protocol.
    // Only at the start of a record: with the caller's buffers a record may go out in pieces.
    if (!self->out_partial && len >= 7 && buf[0] == alert_record_type && buf[3] == 0 && buf[4] == 2)
      self->last_sent_alert = buf[6];
    if (!self->caller_buffers) {
      self->out.insert(self->out.end(), buf, buf + len);
      return static_cast<int>(len);
    }
    // What fits; mbedTLS keeps the rest (ssl.out_left) and sends it on the next call, after
    // the caller made room: its operations return want::output_and_retry meanwhile.
    const std::size_t room = self->out_room();
    if (room == 0) return MBEDTLS_ERR_SSL_WANT_WRITE;
    const std::size_t n = std::min(room, len);
    std::memcpy(self->user_out.data() + self->out_end, buf, n);
    self->out_end += n;
    self->out_partial = n < len;
    return static_cast<int>(n);
  }

  static int bio_recv(void* p, unsigned char* buf, size_t len) {
    auto* self = static_cast<impl*>(p);
    std::size_t avail = self->in_end - self->in_pos;
    if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
    std::size_t n = std::min(avail, len);
    std::memcpy(buf, self->in_data() + self->in_pos, n);
    self->in_pos += n;
    return static_cast<int>(n);
  }

  static int verify_cb(void* p, mbedtls_x509_crt* crt, int depth, uint32_t* flags) {
    auto* self = static_cast<impl*>(p);
    // Only the leaf (the peer's own key) is pinned. Any certificate above it keeps its flags,
    // which fails the handshake: Lanyard peers send one self-signed certificate.
    if (depth != 0) return 0;
    self->verify_called = true;
    self->peer_fp = detail::spki_fingerprint(*crt);
    std::error_code ec;
    if (!self->set_peer_cn(detail::subject_cn_view(*crt)))
      ec = tls_errc::bad_peer_certificate; // fail_handshake() says why (peer_cn_refused)
    else
      ec = self->run_verifier(*crt, /*resumed=*/false);
    if (ec) {
      self->verify_error = ec;
      // A non-zero return aborts the handshake (mbedTLS sends access_denied), whatever the
      // authmode.
      return MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    }
    // The pin accepted the key: that is the trust. The absence of a CA is not a flaw here, and
    // neither are validity dates: an accessory without a real-time clock boots in 1970, and its
    // peers' certificates (and its own, seen from a phone) would be "not yet valid" or
    // "expired" to it. Pinning is the authentication; dates never refuse a pinned key.
    *flags &= ~static_cast<uint32_t>(MBEDTLS_X509_BADCERT_NOT_TRUSTED |
                                     MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    return 0;
  }

  std::error_code run_verifier(const mbedtls_x509_crt& crt, bool is_resumed) {
    const peer_verifier& v = has_own_verifier ? verifier : conf->options.verifier;
    if (!v) return tls_errc::no_peer_verifier;
    peer_cert_info info;
    info.local_role = local_role;
    info.subject_cn = peer_cn();
    info.expected_peer_id = peer_id;
    info.der = std::span<const std::uint8_t>(crt.raw.p, crt.raw.len);
    info.resumed = is_resumed;
#if defined(__cpp_exceptions)
    try {
      return v(peer_fp, info);
    } catch (const std::exception& e) {
      // Never let an exception unwind through mbedTLS's C frames; refuse instead.
      const auto ec = std::make_error_code(std::errc::state_not_recoverable);
      note(diag::verifier_threw, level::error, ec, [&] {
        return description{std::string("pin verifier threw: ") + e.what(), {}};
      });
      return ec;
    } catch (...) {
      const auto ec = std::make_error_code(std::errc::state_not_recoverable);
      note(diag::verifier_threw, level::error, ec, [] {
        return description{"pin verifier threw a non-std exception", {}};
      });
      return ec;
    }
#else
    // Built without exceptions (firmware): the verifier, compiled likewise, cannot throw.
    return v(peer_fp, info);
#endif
  }

  // --- Handshake. ---

  std::string peer_description() const {
    if (peer_cn_size == 0) return "peer";
    // The name is the peer's claim: escaped, it cannot rewrite a terminal or forge a log line.
    return "peer \"" + core::display_text(peer_cn(), 64) + "\" (" + core::to_string(peer_fp) + ")";
  }

  want fail_handshake(int ret, std::error_code& ec) {
    state = phase::failed;
    // Why, first as codes: the sentence is composed only if failures are described.
    enum class why {
      long_subject,
      pin_refused,
      peer_alert,
      no_alpn,
      no_certificate,
      bad_certificate,
      other
    };
    why w = why::other;
    std::string_view cause = diag::cause::mbedtls;
    const int alert =
        ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && ssl.in_msg != nullptr ? ssl.in_msg[1] : -1;
    if (peer_cn_refused > 0) {
      w = why::long_subject;
      ec = tls_errc::bad_peer_certificate;
      cause = diag::cause::bad_certificate;
    } else if (verify_error) {
      w = why::pin_refused;
      ec = verify_error;
      cause = diag::cause::pin_verifier;
    } else if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
      w = why::peer_alert;
      ec = classify_alert(alert);
      cause = diag::cause::peer_alert;
    } else if (last_sent_alert == MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL) {
      w = why::no_alpn;
      ec = tls_errc::alpn_mismatch;
      cause = diag::cause::alpn;
    } else if (ret == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
      w = why::no_certificate;
      ec = tls_errc::peer_certificate_missing;
      cause = diag::cause::no_certificate;
    } else if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
               ret == MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE ||
               (ret <= -0x2000 && ret > -0x3000)) { // the X.509 module's error range
      w = why::bad_certificate;
      ec = tls_errc::bad_peer_certificate;
      cause = diag::cause::bad_certificate;
    } else {
      ec = tls_errc::handshake_failed;
    }
    if (local_role == role::client && !peer_id.empty()) conf->erase_session(peer_id);
    note(diag::handshake_failed, level::warning, ec, [&] {
      description d{std::string("TLS handshake as ") + to_string(local_role) + " failed: ",
                    {mbedtls_field(ret)}};
      std::string& line = d.line;
      // What this end answered with (mbedTLS sends an alert before it returns the failure).
      if (last_sent_alert >= 0)
        d.fields.push_back({diag::key::alert_sent, static_cast<std::uint64_t>(last_sent_alert)});
      switch (w) {
      case why::long_subject:
        static_assert(max_peer_subject == 64, "the sentence below says 64");
        line += "the peer's certificate names a subject CN of " + std::to_string(peer_cn_refused) +
                " bytes, more than RFC 5280's 64";
        break;
      case why::pin_refused:
        line += peer_description() + " refused by the pin verifier: " + ec.message();
        break;
      case why::peer_alert:
        if (alert >= 0) d.fields.push_back({fk::tls_alert, static_cast<std::uint64_t>(alert)});
        line += std::string("the peer sent fatal alert ") + alert_name(alert) + " (" +
                std::to_string(alert) + "): " + ec.message();
        break;
      case why::no_alpn:
        line += "the peer offered no ALPN \"" + conf->options.alpn + "\"; " +
                detail::mbedtls_error_text(ret);
        break;
      case why::no_certificate:
        line += "the client sent no certificate";
        break;
      case why::bad_certificate: {
        char info[512] = "";
        uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
        if (flags != 0 && flags != static_cast<uint32_t>(-1))
          mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        line += peer_description() +
                "'s certificate is unusable: " + detail::mbedtls_error_text(ret) +
                (info[0] != '\0' ? "; " : "") + info;
        break;
      }
      case why::other:
        line += detail::mbedtls_error_text(ret);
        break;
      }
      d.fields.push_back({diag::key::cause, std::string(cause)});
      return d;
    });
    return has_output() ? want::output : want::nothing;
  }

  // Refuses after mbedTLS finished the handshake (ALPN, resumed-session pin): a fatal alert,
  // never an application byte.
  // `line()` says why (composed only if failures are described).
  want refuse_after_handshake(int alert, std::error_code err, std::error_code& ec,
                              std::string_view cause, deferred<std::string> line) {
    mbedtls_ssl_send_alert_message(&ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                   static_cast<unsigned char>(alert));
    state = phase::failed;
    ec = err;
    if (local_role == role::client && !peer_id.empty()) conf->erase_session(peer_id);
    note(diag::handshake_failed, level::warning, err, [&] {
      return description{std::string("TLS handshake as ") + to_string(local_role) +
                             " failed: " + line(),
                         {{diag::key::alert_sent, static_cast<std::uint64_t>(alert)},
                          {diag::key::cause, std::string(cause)}}};
    });
    return has_output() ? want::output : want::nothing;
  }

  want complete_handshake(std::error_code& ec) {
    resumed = !verify_called;
    const char* negotiated = mbedtls_ssl_get_alpn_protocol(&ssl);
    if (negotiated == nullptr || conf->options.alpn != negotiated)
      return refuse_after_handshake(
          MBEDTLS_SSL_ALERT_MSG_NO_APPLICATION_PROTOCOL, tls_errc::alpn_mismatch, ec,
          diag::cause::alpn,
          [&] { return "the peer did not negotiate ALPN \"" + conf->options.alpn + "\""; });
    const mbedtls_x509_crt* cert = mbedtls_ssl_get_peer_cert(&ssl);
    if (cert == nullptr)
      return refuse_after_handshake(
          MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE, tls_errc::peer_certificate_missing, ec,
          diag::cause::no_certificate,
          [] { return std::string("the session carries no peer certificate"); });
    if (resumed && !resumption_checked) {
      // No certificate crossed the wire; the pin is checked on the one the session was
      // established with. (Normally done earlier, before offering / accepting the session.)
      peer_fp = detail::spki_fingerprint(*cert);
      // A CN over the bound is refused as bad_peer_certificate, through the verifier's path:
      // it cannot come here, as the full handshake that made the session refused it already.
      std::error_code v = tls_errc::bad_peer_certificate;
      if (set_peer_cn(detail::subject_cn_view(*cert))) v = run_verifier(*cert, /*resumed=*/true);
      if (v)
        return refuse_after_handshake(
            MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED, v, ec, diag::cause::pin_verifier, [&] {
              return peer_description() +
                     " (resumed session) refused by the pin verifier: " + v.message();
            });
    }
    alpn = conf->options.alpn;
    suite = mbedtls_ssl_get_ciphersuite(&ssl);
    state = phase::connected;
    if (local_role == role::client && !peer_id.empty() && conf->options.session_tickets)
      save_session();
    return has_output() ? want::output : want::nothing;
  }

  void save_session() {
    auto cached = std::make_shared<cached_session>();
    if (mbedtls_ssl_get_session(&ssl, &cached->session) != 0) return;
    // peer_fp and peer_cn are this connection's peer key, verified (a full handshake) or
    // checked on this very session (a resumed one).
    cached->peer_fp = peer_fp;
    cached->peer_cn = peer_cn();
    conf->store_session(peer_id, std::move(cached));
  }

  void offer_cached_session() {
    if (peer_id.empty() || !conf->options.session_tickets) return;
    std::shared_ptr<const cached_session> cached = conf->load_session(peer_id);
    if (!cached) return;
    // Ask the verifier before offering the session, so a session whose key is no longer
    // trusted never resumes: the full handshake then shows the verifier the certificate the
    // peer really has.
    const mbedtls_x509_crt* cert = cached->session.peer_cert;
    if (cert == nullptr || cert->raw.p == nullptr) return conf->erase_session(peer_id);
    peer_fp = cached->peer_fp;
    if (!set_peer_cn(cached->peer_cn) || !verifier_accepts_session(*cert))
      return conf->erase_session(peer_id);
    if (mbedtls_ssl_set_session(&ssl, &cached->session) == 0) resumption_checked = true;
  }

  // The verifier's verdict on a session's certificate (client: a cached session; server: a
  // ticket), peer_fp and peer_cn being its key's. Refusal only costs the abbreviated handshake.
  bool verifier_accepts_session(const mbedtls_x509_crt& cert) {
    if (std::error_code v = run_verifier(cert, /*resumed=*/true)) {
      note(diag::session_not_resumed, level::notice, v, [&] {
        return description{peer_description() +
                               ": session not resumed, the pin verifier refused its key (" +
                               v.message() + "); doing a full handshake",
                           {}};
      });
      return false;
    }
    return true;
  }

  // The same for a ticket the server just parsed: its key's fingerprint is computed here.
  bool session_acceptable(const mbedtls_x509_crt* cert) {
    if (cert == nullptr || cert->raw.p == nullptr) return false;
    peer_fp = detail::spki_fingerprint(*cert);
    return set_peer_cn(detail::subject_cn_view(*cert)) && verifier_accepts_session(*cert);
  }

  want handshake(role r, std::error_code& ec) {
    ec.clear();
    if (state == phase::connected || state == phase::failed) {
      ec = tls_errc::already_handshaken;
      return want::nothing;
    }
    if (state == phase::idle) {
      local_role = r;
      int ret = mbedtls_ssl_setup(&ssl, conf->conf(r));
      if (ret != 0) {
        state = phase::failed;
        ec = tls_errc::crypto_failure;
        note(diag::setup_failed, level::error, ec, [&] {
          return description{"TLS setup failed: " + detail::mbedtls_error_text(ret),
                             {mbedtls_field(ret)}};
        });
        return want::nothing;
      }
      mbedtls_ssl_set_bio(&ssl, this, &impl::bio_send, &impl::bio_recv, nullptr);
      mbedtls_ssl_set_verify(&ssl, &impl::verify_cb, this);
      if (r == role::client) {
        // No host name: the pin, not a name, is the identity. A patched mbedTLS (the
        // CVE-2025-27809 fix) refuses a client handshake unless this was called, even with NULL.
        ret = mbedtls_ssl_set_hostname(&ssl, nullptr);
        if (ret != 0) {
          state = phase::failed;
          ec = tls_errc::crypto_failure;
          note(diag::setup_failed, level::error, ec, [&] {
            return description{"TLS setup failed: " + detail::mbedtls_error_text(ret),
                               {mbedtls_field(ret)}};
          });
          return want::nothing;
        }
        offer_cached_session();
      }
      state = phase::handshaking;
    }
    int ret = 0;
    {
      struct current_guard {
        explicit current_guard(impl* e) { detail::current_handshake = e; }
        ~current_guard() { detail::current_handshake = nullptr; }
      } guard(this);
      ret = mbedtls_ssl_handshake(&ssl);
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ)
      return has_output() ? want::output_and_retry : want::input_and_retry;
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) return want::output_and_retry;
    if (ret != 0) return fail_handshake(ret, ec);
    return complete_handshake(ec);
  }

  // --- Data. ---

  want read(std::span<std::uint8_t> buf, std::size_t& n, std::error_code& ec) {
    ec.clear();
    n = 0;
    if (peer_closed) {
      ec = tls_errc::closed_by_peer;
      return want::nothing;
    }
    if (state != phase::connected) {
      ec = tls_errc::not_connected;
      return want::nothing;
    }
    if (buf.empty()) return want::nothing;
    int ret = mbedtls_ssl_read(&ssl, buf.data(), buf.size());
    if (ret > 0) {
      n = static_cast<std::size_t>(ret);
      return has_output() ? want::output : want::nothing;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ)
      return has_output() ? want::output_and_retry : want::input_and_retry;
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) return want::output_and_retry;
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      peer_closed = true;
      ec = tls_errc::closed_by_peer;
      return has_output() ? want::output : want::nothing;
    }
    state = phase::failed;
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
      int alert = ssl.in_msg != nullptr ? ssl.in_msg[1] : -1;
      ec = tls_errc::peer_alert;
      note(diag::read_failed, level::warning, ec, [&] {
        description d{std::string("TLS read failed: the peer sent fatal alert ") +
                          alert_name(alert) + " (" + std::to_string(alert) + ")",
                      {mbedtls_field(ret)}};
        if (alert >= 0) d.fields.push_back({fk::tls_alert, static_cast<std::uint64_t>(alert)});
        return d;
      });
    } else {
      ec = (ret == MBEDTLS_ERR_SSL_INVALID_MAC || ret == MBEDTLS_ERR_SSL_INVALID_RECORD)
               ? tls_errc::bad_record
               : tls_errc::protocol_error;
      note(diag::read_failed, level::warning, ec, [&] {
        return description{"TLS read failed: " + detail::mbedtls_error_text(ret),
                           {mbedtls_field(ret)}};
      });
    }
    return has_output() ? want::output : want::nothing;
  }

  want write(std::span<const std::uint8_t> buf, std::size_t& n, std::error_code& ec) {
    ec.clear();
    n = 0;
    if (state != phase::connected || local_closed) {
      ec = tls_errc::not_connected;
      return want::nothing;
    }
    if (caller_buffers) return write_bounded(buf, n, ec);
    // Several records per call (up to 64 KiB) so one socket write carries them all.
    constexpr std::size_t max_per_call = 64 * 1024;
    constexpr std::size_t record = 16 * 1024;
    while (n < buf.size() && n < max_per_call) {
      std::size_t chunk = std::min(buf.size() - n, record);
      int ret = mbedtls_ssl_write(&ssl, buf.data() + n, chunk);
      if (ret > 0) {
        n += static_cast<std::size_t>(ret);
        continue;
      }
      if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ) break;
      state = phase::failed;
      ec = tls_errc::protocol_error;
      note(diag::write_failed, level::warning, ec, [&] {
        return description{"TLS write failed: " + detail::mbedtls_error_text(ret),
                           {mbedtls_field(ret)}};
      });
      break;
    }
    return has_output() ? want::output : want::nothing;
  }

  // write() over the caller's output buffer: each record is sized to fit the free room whole,
  // so mbedTLS never holds back part of one. (mbedtls_ssl_write called again after it held
  // back output would only flush it and report the new data as written without sending it.)
  want write_bounded(std::span<const std::uint8_t> buf, std::size_t& n, std::error_code& ec) {
    if (ssl.out_left != 0) {
      // Output mbedTLS could not hand over earlier (a handshake or alert record): first.
      int ret = mbedtls_ssl_flush_output(&ssl);
      if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) return want::output_and_retry;
      if (ret != 0) return write_failed(ret, ec);
    }
    const int expansion = mbedtls_ssl_get_record_expansion(&ssl);
    if (expansion < 0) return write_failed(expansion, ec);
    constexpr std::size_t record = 16 * 1024;
    while (n < buf.size()) {
      const std::size_t room = out_room();
      if (room <= static_cast<std::size_t>(expansion)) break;
      const std::size_t chunk = std::min({buf.size() - n, record, room - expansion});
      int ret = mbedtls_ssl_write(&ssl, buf.data() + n, chunk);
      if (ret > 0) {
        n += static_cast<std::size_t>(ret);
        continue;
      }
      if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        // Not expected (the record was sized to fit), but then the chunk is encrypted and part
        // of its record held by mbedTLS (ssl.out_left, flushed first on the next call): it is
        // consumed, or the caller would send it twice.
        n += chunk;
        break;
      }
      if (ret == MBEDTLS_ERR_SSL_WANT_READ) break;
      return write_failed(ret, ec);
    }
    // A full buffer is no error: the caller sends output() and writes the rest.
    if (n < buf.size()) return want::output_and_retry;
    return has_output() ? want::output : want::nothing;
  }

  want write_failed(int ret, std::error_code& ec) {
    state = phase::failed;
    ec = tls_errc::protocol_error;
    note(diag::write_failed, level::warning, ec, [&] {
      return description{"TLS write failed: " + detail::mbedtls_error_text(ret),
                         {mbedtls_field(ret)}};
    });
    return has_output() ? want::output : want::nothing;
  }

  want shutdown(std::error_code& ec) {
    ec.clear();
    if (state != phase::connected) {
      ec = tls_errc::not_connected;
      return want::nothing;
    }
    int ret = 0;
    if (!local_closed) {
      local_closed = true;
      ret = mbedtls_ssl_close_notify(&ssl);
    } else if (ssl.out_left != 0) {
      // The caller's output buffer was full: the rest of the alert.
      ret = mbedtls_ssl_flush_output(&ssl);
    }
    // Only with the caller's buffers (the engine's own never refuses bytes).
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE && caller_buffers) return want::output_and_retry;
    if (ret != 0 && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
      ec = tls_errc::protocol_error;
      note(diag::close_notify_failed, level::warning, ec, [&] {
        return description{"TLS close_notify failed: " + detail::mbedtls_error_text(ret),
                           {mbedtls_field(ret)}};
      });
    }
    return has_output() ? want::output : want::nothing;
  }

  std::error_code transport_closed() {
    std::error_code ec;
    if (peer_closed) return tls_errc::closed_by_peer;
    if (state == phase::handshaking || state == phase::idle) {
      ec = tls_errc::peer_closed_during_handshake;
      note(diag::handshake_failed, level::warning, ec, [&] {
        return description{std::string("TLS handshake as ") + to_string(local_role) +
                               " failed: the peer closed the connection without an alert",
                           {{diag::key::cause, std::string(diag::cause::peer_closed)}}};
      });
    } else if (state == phase::connected) {
      ec = tls_errc::stream_truncated;
      note(diag::stream_truncated, level::notice, ec, [&] {
        return description{"TLS read: the peer closed the connection without close_notify", {}};
      });
    } else {
      ec = tls_errc::not_connected;
    }
    state = phase::failed;
    return ec;
  }
};

namespace detail {

int ticket_parse(void* p_ticket, mbedtls_ssl_session* session, unsigned char* buf, size_t len) {
  int ret = mbedtls_ssl_ticket_parse(p_ticket, session, buf, len);
  if (ret != 0) return ret;
  engine::impl* e = current_handshake;
  if (e == nullptr || !e->session_acceptable(session->peer_cert)) {
    // mbedTLS ignores a ticket it cannot parse and continues with a full handshake, where the
    // verify callback sees the client's real certificate.
    return MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
  }
  e->resumption_checked = true;
  return 0;
}

int export_keys(void*, const unsigned char* master, const unsigned char*, size_t, size_t, size_t,
                const unsigned char client_random[32], const unsigned char server_random[32],
                mbedtls_tls_prf_types prf) {
  engine::impl* e = current_handshake;
  if (e == nullptr) return 0;
  // RFC 5705: PRF(master_secret, label, client_random || server_random), no context. mbedTLS
  // 2.28 has no exporter call; this callback is where the randoms and the PRF are at hand (full
  // and resumed handshakes alike, each with fresh randoms, so the value is unique per
  // connection). The master secret is the session's (ssl.session->master once connected).
  (void)master;
  std::memcpy(e->exporter_randoms.data(), client_random, 32);
  std::memcpy(e->exporter_randoms.data() + 32, server_random, 32);
  e->exporter_prf = prf;
  e->has_exporter_inputs = true;
  e->has_exporter = false;
  return 0;
}

} // namespace detail

engine::engine(context ctx) : impl_(std::make_unique<impl>(std::move(ctx), engine_buffers{})) {}

engine::engine(context ctx, engine_buffers buffers)
    : impl_(std::make_unique<impl>(std::move(ctx), buffers)) {}

std::optional<engine> engine::create(context ctx, engine_buffers buffers,
                                     std::error_code& error) noexcept {
  error.clear();
  if (buffers.input.size() < engine_buffers::min_input_bytes ||
      buffers.output.size() < engine_buffers::min_output_bytes || !ctx) {
    error = std::make_error_code(std::errc::invalid_argument);
    return std::nullopt;
  }
  // Through the non-throwing operator new: a firmware makes its engines at start-up and must
  // learn that its heap is too small.
  engine e;
  e.impl_.reset(new (std::nothrow) impl(std::move(ctx), buffers));
  if (!e.impl_) {
    error = std::make_error_code(std::errc::not_enough_memory);
    return std::nullopt;
  }
  return e;
}

std::optional<engine> engine::create(context ctx, engine_buffers buffers,
                                     core::error_detail& error) {
  error = {};
  if (buffers.input.size() < engine_buffers::min_input_bytes ||
      buffers.output.size() < engine_buffers::min_output_bytes) {
    error = core::error_detail{std::make_error_code(std::errc::invalid_argument),
                               "TLS engine buffers too small: input " +
                                   std::to_string(buffers.input.size()) + " bytes (minimum " +
                                   std::to_string(engine_buffers::min_input_bytes) + "), output " +
                                   std::to_string(buffers.output.size()) + " bytes (minimum " +
                                   std::to_string(engine_buffers::min_output_bytes) + ")"};
    return std::nullopt;
  }
  if (!ctx) {
    error = {std::make_error_code(std::errc::invalid_argument),
             "TLS engine needs a context (it is empty)"};
    return std::nullopt;
  }
  // Out of memory: the code alone (a sentence would need memory too).
  std::optional<engine> e = create(std::move(ctx), buffers, error.code);
  return e;
}

void engine::reset() noexcept {
  // The impl is made again in its own memory: every per-connection field back to a new
  // engine's, nothing missed, nothing allocated (the constructor only copies the context and
  // the spans; mbedTLS's SSL context is freed by the destructor and set up again by the next
  // handshake).
  if (!impl_) return; // moved from
  impl& i = *impl_;
  context ctx = std::move(i.ctx);
  const engine_buffers buffers{i.user_in, i.user_out}; // empty spans: the engine's own
  i.~impl();
  new (&i) impl(std::move(ctx), buffers);
}
engine::~engine() = default;
engine::engine(engine&&) noexcept = default;
engine& engine::operator=(engine&&) noexcept = default;

void engine::set_peer_id(std::string peer_id) {
  impl_->peer_id = std::move(peer_id);
}

void engine::set_verifier(peer_verifier verifier) {
  impl_->verifier = std::move(verifier);
  impl_->has_own_verifier = true;
}

engine::want engine::handshake(role r, std::error_code& ec) {
  return impl_->handshake(r, ec);
}

engine::want engine::read(std::span<std::uint8_t> out, std::size_t& n, std::error_code& ec) {
  return impl_->read(out, n, ec);
}

engine::want engine::write(std::span<const std::uint8_t> in, std::size_t& n, std::error_code& ec) {
  return impl_->write(in, n, ec);
}

engine::want engine::shutdown(std::error_code& ec) {
  return impl_->shutdown(ec);
}

std::span<const std::uint8_t> engine::output() const noexcept {
  const impl& d = *impl_;
  return std::span<const std::uint8_t>(d.out_data() + d.out_pos, d.out_size() - d.out_pos);
}

void engine::consume_output(std::size_t n) noexcept {
  impl& d = *impl_;
  d.out_pos = std::min(d.out_pos + n, d.out_size());
  if (d.out_pos == d.out_size()) {
    d.out.clear();
    d.out_pos = d.out_end = 0;
  }
}

void engine::take_output(std::vector<std::uint8_t>& buffer) {
  buffer.clear();
  if (impl_->caller_buffers) {
    // A copy: the caller's buffer is the engine's to write next.
    std::span<const std::uint8_t> pending = output();
    buffer.assign(pending.begin(), pending.end());
    impl_->out_pos = impl_->out_end = 0;
    return;
  }
  if (impl_->out_pos != 0) {
    buffer.assign(impl_->out.begin() + static_cast<std::ptrdiff_t>(impl_->out_pos),
                  impl_->out.end());
    impl_->out.clear();
  } else {
    buffer.swap(impl_->out);
  }
  impl_->out_pos = 0;
}

std::span<std::uint8_t> engine::prepare_input(std::size_t size) {
  auto& d = *impl_;
  if (d.in_pos == d.in_end) {
    d.in_pos = d.in_end = 0;
  } else if (d.in_pos > 0) {
    std::memmove(d.in_data(), d.in_data() + d.in_pos, d.in_end - d.in_pos);
    d.in_end -= d.in_pos;
    d.in_pos = 0;
  }
  if (d.caller_buffers)
    return d.user_in.subspan(d.in_end, std::min(size, d.user_in.size() - d.in_end));
  if (d.in_capacity < d.in_end + size) {
    auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(d.in_end + size);
    if (d.in_end > 0) std::memcpy(bigger.get(), d.in.get(), d.in_end);
    d.in = std::move(bigger);
    d.in_capacity = d.in_end + size;
  }
  return std::span<std::uint8_t>(d.in.get() + d.in_end, size);
}

void engine::commit_input(std::size_t n) noexcept {
  impl_->in_end = std::min(impl_->in_end + n, impl_->in_capacity);
}

std::size_t engine::buffer_bytes() const noexcept {
  if (impl_->caller_buffers) return 0; // the storage is the caller's
  return impl_->in_capacity + impl_->out.capacity();
}

void engine::release_output() noexcept {
  if (impl_->caller_buffers) return;
  if (impl_->out_pos == impl_->out.size()) {
    std::vector<std::uint8_t>().swap(impl_->out);
    impl_->out_pos = 0;
  }
}

bool engine::has_pending_input() const noexcept {
  auto& d = *impl_;
  if (d.in_pos != d.in_end) return true;
  // Before the handshake set mbedTLS's context up (a new or reset engine, or a failed setup)
  // there is nothing in it, and mbedtls_ssl_check_pending() would read its missing buffers.
  if (d.ssl.conf == nullptr) return false;
  return mbedtls_ssl_get_bytes_avail(&d.ssl) > 0 || mbedtls_ssl_check_pending(&d.ssl) != 0;
}

bool engine::release_input() noexcept {
  auto& d = *impl_;
  if (d.in_pos != d.in_end) return false;
  if (d.caller_buffers) {
    d.in_pos = d.in_end = 0;
    return true;
  }
  d.in.reset();
  d.in_capacity = d.in_pos = d.in_end = 0;
  return true;
}

bool engine::handshake_done() const noexcept {
  return impl_->state == impl::phase::connected;
}
bool engine::resumed() const noexcept {
  return impl_->resumed;
}
const core::fingerprint& engine::peer_fingerprint() const noexcept {
  return impl_->peer_fp;
}
const core::fingerprint& engine::local_fingerprint() const noexcept {
  return impl_->ctx.local_identity().fingerprint();
}

std::string_view engine::peer_subject() const noexcept {
  return impl_->peer_cn();
}
std::optional<std::span<const std::uint8_t, 32>> engine::exporter() const noexcept {
  impl& i = *impl_;
  if (i.state != impl::phase::connected || !i.has_exporter_inputs || i.ssl.session == nullptr)
    return std::nullopt;
  if (!i.has_exporter) {
    static constexpr char label[] = "EXPORTER-lanyard-pairing";
    // A failure leaves has_exporter false: pairing then refuses, the channel is unharmed.
    i.has_exporter = mbedtls_ssl_tls_prf(i.exporter_prf, i.ssl.session->master, 48, label,
                                         i.exporter_randoms.data(), i.exporter_randoms.size(),
                                         i.exporter.data(), i.exporter.size()) == 0;
    if (!i.has_exporter) return std::nullopt;
  }
  return std::span<const std::uint8_t, 32>(i.exporter);
}

std::string_view engine::alpn_protocol() const noexcept {
  return impl_->alpn;
}
std::string_view engine::ciphersuite() const noexcept {
  return impl_->suite;
}
const core::error_detail& engine::last_error() const noexcept {
  return impl_->last;
}
const std::string& engine::last_error_detail() const noexcept {
  return impl_->last.detail;
}
std::error_code engine::transport_closed() {
  return impl_->transport_closed();
}

} // namespace lanyard::tls
