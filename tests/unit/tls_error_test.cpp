#include <lanyard/tls_engine/error.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using lanyard::tls::tls_errc;

TEST_CASE("tls_errc converts to error_code in category lanyard.tls", "[tls][error]") {
  std::error_code ec = tls_errc::handshake_timeout;
  CHECK(std::string(ec.category().name()) == "lanyard.tls");
  CHECK(ec == tls_errc::handshake_timeout);
  CHECK(ec != tls_errc::alpn_mismatch);
}

TEST_CASE("every tls_errc has its own actionable message", "[tls][error]") {
  const tls_errc all[] = {
      tls_errc::handshake_timeout,
      tls_errc::alpn_mismatch,
      tls_errc::peer_certificate_missing,
      tls_errc::peer_rejected_certificate,
      tls_errc::peer_alert,
      tls_errc::peer_closed_during_handshake,
      tls_errc::handshake_failed,
      tls_errc::bad_peer_certificate,
      tls_errc::no_peer_verifier,
      tls_errc::bad_record,
      tls_errc::stream_truncated,
      tls_errc::not_connected,
      tls_errc::already_handshaken,
      tls_errc::protocol_error,
      tls_errc::closed_by_peer,
      tls_errc::bad_identity_file,
      tls_errc::identity_permissions,
      tls_errc::identity_io,
      tls_errc::invalid_device_id,
      tls_errc::crypto_failure,
  };
  std::set<std::string> seen;
  for (tls_errc e : all) {
    std::string m = make_error_code(e).message();
    INFO(m);
    CHECK(m.size() > 20);
    CHECK(m.find("unknown") != 0);
    CHECK(seen.insert(m).second);
  }
  CHECK(make_error_code(static_cast<tls_errc>(999)).message().find("999") != std::string::npos);
  CHECK(make_error_code(tls_errc::identity_permissions).message().find("chmod 600") !=
        std::string::npos);
}

TEST_CASE("is_authentication_error recognises refusals", "[tls][error]") {
  CHECK(lanyard::tls::is_authentication_error(tls_errc::peer_rejected_certificate));
  CHECK(lanyard::tls::is_authentication_error(tls_errc::no_peer_verifier));
  CHECK_FALSE(lanyard::tls::is_authentication_error(tls_errc::handshake_timeout));
  CHECK_FALSE(lanyard::tls::is_authentication_error(std::error_code{}));
}
