#include "plain_pair.hpp"

#include "tls_engine/mbedtls_util.hpp"

#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <tuple>
#include <vector>

namespace lanyard::tls::detail {

struct plain_pair::impl {
  impl() {
    for (auto* c : {&client_conf, &server_conf})
      mbedtls_ssl_config_init(c);
    for (auto* k : {&client_key, &server_key})
      mbedtls_pk_init(k);
    for (auto* c : {&client_crt, &server_crt})
      mbedtls_x509_crt_init(c);
    mbedtls_ssl_ticket_init(&ticket);
    mbedtls_ssl_session_init(&session);
  }
  ~impl() {
    mbedtls_ssl_session_free(&session);
    mbedtls_ssl_ticket_free(&ticket);
    for (auto* c : {&client_crt, &server_crt})
      mbedtls_x509_crt_free(c);
    for (auto* k : {&client_key, &server_key})
      mbedtls_pk_free(k);
    for (auto* c : {&client_conf, &server_conf})
      mbedtls_ssl_config_free(c);
  }

  static int count_verify(void* p, mbedtls_x509_crt*, int depth, uint32_t*) {
    if (depth == 0) ++*static_cast<int*>(p);
    return 0;
  }

  drbg rng;
  mbedtls_ssl_config client_conf, server_conf;
  mbedtls_pk_context client_key, server_key;
  mbedtls_x509_crt client_crt, server_crt;
  mbedtls_ssl_ticket_context ticket;
  mbedtls_ssl_session session;
  bool have_session = false;
  int verifications = 0;
  io_mode io = io_mode::buffered;
  std::array<int, 3> suites{MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                            MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};
  std::array<mbedtls_ecp_group_id, 2> curves{MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
  std::array<int, 2> hashes{MBEDTLS_MD_SHA256, MBEDTLS_MD_NONE};
  std::array<const char*, 2> alpn{"lanyard/1", nullptr};
};

namespace {

// io_mode::buffered: one end's socket with an input buffer filled by one recv() and an output
// buffer sent with one send() after each mbedtls_ssl_handshake call (what tls::engine and
// tls::stream do).
struct buffered_bio {
  int fd = -1;
  std::vector<unsigned char> in; // allocated by the first recv, as tls::engine does
  std::size_t in_pos = 0, in_end = 0;
  std::vector<unsigned char> out;

  static int send(void* p, const unsigned char* buf, size_t len) {
    auto* b = static_cast<buffered_bio*>(p);
    b->out.insert(b->out.end(), buf, buf + len);
    return static_cast<int>(len);
  }

  static int recv(void* p, unsigned char* buf, size_t len) {
    auto* b = static_cast<buffered_bio*>(p);
    if (b->in_pos == b->in_end) {
      if (b->in.empty()) b->in.resize(16 * 1024 + 512);
      const ssize_t n = ::recv(b->fd, b->in.data(), b->in.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
          return MBEDTLS_ERR_SSL_WANT_READ;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
      }
      if (n == 0) return 0; // EOF, as mbedtls_net_recv reports it
      b->in_pos = 0;
      b->in_end = static_cast<std::size_t>(n);
    }
    const std::size_t n = std::min(len, b->in_end - b->in_pos);
    std::memcpy(buf, b->in.data() + b->in_pos, n);
    b->in_pos += n;
    return static_cast<int>(n);
  }

  // Sends all buffered output; 0 or an mbedTLS error.
  int flush() {
    std::size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n >= 0) {
        sent += static_cast<std::size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd pfd{fd, POLLOUT, 0};
        if (::poll(&pfd, 1, 5000) == 0) return MBEDTLS_ERR_SSL_TIMEOUT;
      } else if (errno != EINTR) {
        return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
                                                     : MBEDTLS_ERR_NET_SEND_FAILED;
      }
    }
    out.clear();
    return 0;
  }
};

} // namespace

plain_pair::plain_pair(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
plain_pair::~plain_pair() = default;

std::unique_ptr<plain_pair> plain_pair::create(const std::filesystem::path& server_dir,
                                               const std::filesystem::path& client_dir, io_mode io,
                                               std::string& error) {
  auto p = std::make_unique<impl>();
  p->io = io;
  auto fail = [&](const std::string& what, int ret) {
    error = what + ": " + mbedtls_error_text(ret);
    return nullptr;
  };
  int ret = p->rng.seed("lanyard plain mbedtls baseline");
  if (ret != 0) return fail("seeding", ret);
  struct side {
    mbedtls_ssl_config* conf;
    mbedtls_pk_context* key;
    mbedtls_x509_crt* crt;
    mbedtls_x509_crt* peer;
    const std::filesystem::path* dir;
    int endpoint;
  };
  for (side s : {side{&p->server_conf, &p->server_key, &p->server_crt, &p->client_crt, &server_dir,
                      MBEDTLS_SSL_IS_SERVER},
                 side{&p->client_conf, &p->client_key, &p->client_crt, &p->server_crt, &client_dir,
                      MBEDTLS_SSL_IS_CLIENT}}) {
    std::string key = (*s.dir / "identity.key").string();
    std::string crt = (*s.dir / "identity.crt").string();
    if ((ret = mbedtls_pk_parse_keyfile(s.key, key.c_str(), nullptr)) != 0)
      return fail("loading " + key, ret);
    if ((ret = mbedtls_x509_crt_parse_file(s.crt, crt.c_str())) != 0)
      return fail("loading " + crt, ret);
  }
  for (side s : {side{&p->server_conf, &p->server_key, &p->server_crt, &p->client_crt, &server_dir,
                      MBEDTLS_SSL_IS_SERVER},
                 side{&p->client_conf, &p->client_key, &p->client_crt, &p->server_crt, &client_dir,
                      MBEDTLS_SSL_IS_CLIENT}}) {
    if ((ret = mbedtls_ssl_config_defaults(s.conf, s.endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
      return fail("config", ret);
    mbedtls_ssl_conf_rng(s.conf, mbedtls_ctr_drbg_random, p->rng.ctr());
    mbedtls_ssl_conf_min_version(s.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(s.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(s.conf, p->suites.data());
    mbedtls_ssl_conf_curves(s.conf, p->curves.data());
    mbedtls_ssl_conf_sig_hashes(s.conf, p->hashes.data());
    mbedtls_ssl_conf_authmode(s.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(s.conf, s.peer, nullptr);
    mbedtls_ssl_conf_verify(s.conf, &impl::count_verify, &p->verifications);
    if ((ret = mbedtls_ssl_conf_own_cert(s.conf, s.crt, s.key)) != 0) return fail("own cert", ret);
    if ((ret = mbedtls_ssl_conf_alpn_protocols(s.conf, p->alpn.data())) != 0)
      return fail("alpn", ret);
  }
  if ((ret = mbedtls_ssl_ticket_setup(&p->ticket, mbedtls_ctr_drbg_random, p->rng.ctr(),
                                      MBEDTLS_CIPHER_AES_256_GCM, 86400)) != 0)
    return fail("ticket key", ret);
  mbedtls_ssl_conf_session_tickets_cb(&p->server_conf, mbedtls_ssl_ticket_write,
                                      mbedtls_ssl_ticket_parse, &p->ticket);
  return std::unique_ptr<plain_pair>(new plain_pair(std::move(p)));
}

int plain_pair::handshake(int client_fd, int server_fd, bool resume, bool& resumed,
                          std::string& error) {
  impl& p = *impl_;
  const bool buffered = p.io == io_mode::buffered;
  mbedtls_net_context cnet{client_fd}, snet{server_fd};
  buffered_bio cbio, sbio;
  cbio.fd = client_fd;
  sbio.fd = server_fd;
  mbedtls_ssl_context c, s;
  mbedtls_ssl_init(&c);
  mbedtls_ssl_init(&s);
  int ret = mbedtls_ssl_setup(&c, &p.client_conf);
  if (ret == 0) ret = mbedtls_ssl_setup(&s, &p.server_conf);
  if (ret != 0) error = "setup: " + mbedtls_error_text(ret);
  if (buffered) {
    mbedtls_ssl_set_bio(&c, &cbio, buffered_bio::send, buffered_bio::recv, nullptr);
    mbedtls_ssl_set_bio(&s, &sbio, buffered_bio::send, buffered_bio::recv, nullptr);
  } else {
    mbedtls_ssl_set_bio(&c, &cnet, mbedtls_net_send, mbedtls_net_recv, nullptr);
    mbedtls_ssl_set_bio(&s, &snet, mbedtls_net_send, mbedtls_net_recv, nullptr);
  }
  if (ret == 0 && resume && p.have_session) {
    ret = mbedtls_ssl_set_session(&c, &p.session);
    if (ret != 0) error = "client: offering the session: " + mbedtls_error_text(ret);
  }
  const int before = p.verifications;
  bool c_done = false, s_done = false;
  while (ret == 0 && !(c_done && s_done)) {
    pollfd fds[2];
    int nfds = 0;
    for (auto [ssl, done, bio] : {std::tuple{&c, &c_done, &cbio}, {&s, &s_done, &sbio}}) {
      if (*done) continue;
      int r = mbedtls_ssl_handshake(ssl);
      if (buffered) {
        // Send what this call produced (after an error: its alert, best effort).
        const int f = bio->flush();
        if (f != 0 && (r == 0 || r == MBEDTLS_ERR_SSL_WANT_READ)) r = f;
      }
      if (r == 0) {
        *done = true;
      } else if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        fds[nfds++] = {bio->fd,
                       static_cast<short>(r == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT), 0};
      } else {
        ret = r;
        error = std::string(ssl == &c ? "client: " : "server: ") + mbedtls_error_text(r);
        break;
      }
    }
    // Both unfinished ends wait for the network: block like an event loop would.
    if (ret == 0 && nfds > 0 && nfds == (c_done ? 0 : 1) + (s_done ? 0 : 1)) {
      int n = ::poll(fds, static_cast<nfds_t>(nfds), 5000);
      if (n == 0) {
        ret = MBEDTLS_ERR_SSL_TIMEOUT;
        error = "no progress on either end for 5 s";
      } else if (n < 0 && errno != EINTR) {
        ret = MBEDTLS_ERR_NET_POLL_FAILED;
        error = std::string("poll: ") + std::strerror(errno);
      }
    }
  }
  resumed = p.verifications == before;
  if (ret == 0) {
    mbedtls_ssl_session_free(&p.session);
    mbedtls_ssl_session_init(&p.session);
    p.have_session = mbedtls_ssl_get_session(&c, &p.session) == 0;
  } else {
    p.have_session = false; // as a client forgets the session of a peer it failed with
  }
  mbedtls_ssl_free(&s);
  mbedtls_ssl_free(&c);
  return ret;
}

} // namespace lanyard::tls::detail
