#include "bench_channel_plain.hpp"

#include "tls_engine/mbedtls_util.hpp"

#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <tuple>

namespace lanyard::bench {

using tls::detail::mbedtls_error_text;
using clock_type = std::chrono::steady_clock;

struct plain_tls_stream::impl {
  impl() {
    for (auto* c : {&client_conf, &server_conf})
      mbedtls_ssl_config_init(c);
    for (auto* k : {&client_key, &server_key})
      mbedtls_pk_init(k);
    for (auto* c : {&client_crt, &server_crt})
      mbedtls_x509_crt_init(c);
    mbedtls_ssl_init(&client);
    mbedtls_ssl_init(&server);
  }
  ~impl() {
    mbedtls_ssl_free(&server);
    mbedtls_ssl_free(&client);
    for (auto* c : {&client_crt, &server_crt})
      mbedtls_x509_crt_free(c);
    for (auto* k : {&client_key, &server_key})
      mbedtls_pk_free(k);
    for (auto* c : {&client_conf, &server_conf})
      mbedtls_ssl_config_free(c);
    for (int fd : {client_fd, server_fd})
      if (fd >= 0) ::close(fd);
  }

  bool connect_pair(std::string& error);
  bool handshake(std::string& error);
  // Writes all of `data` from `ssl` (polling `fd` when the socket is full).
  bool write_all(mbedtls_ssl_context& ssl, int fd, const unsigned char* data, std::size_t n,
                 std::string& error);
  // Reads exactly `n` bytes into `buf` from `ssl`.
  bool read_exactly(mbedtls_ssl_context& ssl, int fd, unsigned char* buf, std::size_t n,
                    std::string& error);
  // The server end reads everything available into rbuf, handing each piece to
  // `take(bytes, n)` (false: stop with `error` set by it); returns false on an error.
  template <class Take>
  bool read_available(Take&& take, std::string& error);
  // Both ends blocked: wait until the server can read or (while `sending`) the client write.
  void wait_both(bool sending) {
    pollfd fds[2] = {{server_fd, POLLIN, 0}, {client_fd, POLLOUT, 0}};
    ::poll(fds, sending ? 2 : 1, 5000);
  }

  tls::detail::drbg rng;
  mbedtls_ssl_config client_conf, server_conf;
  mbedtls_pk_context client_key, server_key;
  mbedtls_x509_crt client_crt, server_crt;
  mbedtls_ssl_context client, server;
  mbedtls_net_context client_net{-1}, server_net{-1};
  int client_fd = -1, server_fd = -1;
  std::array<int, 3> suites{MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                            MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};
  std::array<mbedtls_ecp_group_id, 2> curves{MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
  std::array<int, 2> hashes{MBEDTLS_MD_SHA256, MBEDTLS_MD_NONE};
  std::array<const char*, 2> alpn{"lanyard/1", nullptr};
  std::vector<unsigned char> rbuf = std::vector<unsigned char>(16 * 1024);
};

namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

void wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  ::poll(&p, 1, 5000);
}

} // namespace

bool plain_tls_stream::impl::connect_pair(std::string& error) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) return error = errno_text("socket"), false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::listen(lfd, 1) == 0 &&
            ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (ok) {
    client_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ok = client_fd >= 0 && ::connect(client_fd, reinterpret_cast<sockaddr*>(&addr), len) == 0;
  }
  if (ok) {
    server_fd = ::accept(lfd, nullptr, nullptr);
    ok = server_fd >= 0;
  }
  if (!ok) error = errno_text("loopback TCP pair");
  ::close(lfd);
  if (!ok) return false;
  int one = 1;
  for (int fd : {client_fd, server_fd})
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  client_net.fd = client_fd;
  server_net.fd = server_fd;
  mbedtls_net_set_nonblock(&client_net);
  mbedtls_net_set_nonblock(&server_net);
  return true;
}

bool plain_tls_stream::impl::handshake(std::string& error) {
  int ret = mbedtls_ssl_setup(&client, &client_conf);
  if (ret == 0) ret = mbedtls_ssl_setup(&server, &server_conf);
  if (ret != 0) return error = "ssl setup: " + mbedtls_error_text(ret), false;
  mbedtls_ssl_set_bio(&client, &client_net, mbedtls_net_send, mbedtls_net_recv, nullptr);
  mbedtls_ssl_set_bio(&server, &server_net, mbedtls_net_send, mbedtls_net_recv, nullptr);
  bool c_done = false, s_done = false;
  while (!(c_done && s_done)) {
    pollfd fds[2];
    int nfds = 0;
    for (auto [ssl, done, fd] :
         {std::tuple{&client, &c_done, client_fd}, {&server, &s_done, server_fd}}) {
      if (*done) continue;
      int r = mbedtls_ssl_handshake(ssl);
      if (r == 0) {
        *done = true;
      } else if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        fds[nfds++] = {fd, static_cast<short>(r == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT),
                       0};
      } else {
        error = std::string(ssl == &client ? "client" : "server") +
                " handshake: " + mbedtls_error_text(r);
        return false;
      }
    }
    if (nfds > 0 && nfds == (c_done ? 0 : 1) + (s_done ? 0 : 1))
      ::poll(fds, static_cast<nfds_t>(nfds), 5000);
  }
  return true;
}

bool plain_tls_stream::impl::write_all(mbedtls_ssl_context& ssl, int fd, const unsigned char* data,
                                       std::size_t n, std::string& error) {
  std::size_t off = 0;
  while (off < n) {
    int r = mbedtls_ssl_write(&ssl, data + off, n - off);
    if (r > 0) {
      off += static_cast<std::size_t>(r);
    } else if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
      wait_for(fd, r == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN);
    } else {
      error = "write: " + mbedtls_error_text(r);
      return false;
    }
  }
  return true;
}

bool plain_tls_stream::impl::read_exactly(mbedtls_ssl_context& ssl, int fd, unsigned char* buf,
                                          std::size_t n, std::string& error) {
  std::size_t got = 0;
  while (got < n) {
    int r = mbedtls_ssl_read(&ssl, buf + got, n - got);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
      wait_for(fd, r == MBEDTLS_ERR_SSL_WANT_WRITE ? POLLOUT : POLLIN);
    } else {
      error = "read: " + mbedtls_error_text(r);
      return false;
    }
  }
  return true;
}

plain_tls_stream::plain_tls_stream(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
plain_tls_stream::~plain_tls_stream() = default;

std::unique_ptr<plain_tls_stream> plain_tls_stream::open(const std::filesystem::path& server_dir,
                                                         const std::filesystem::path& client_dir,
                                                         std::string& error) {
  auto p = std::make_unique<impl>();
  auto fail = [&](const std::string& what, int ret) {
    error = "plain mbedTLS: " + what + ": " + mbedtls_error_text(ret);
    return nullptr;
  };
  int ret = p->rng.seed("lanyard-bench channel plain mbedtls baseline");
  if (ret != 0) return fail("seeding", ret);
  struct side {
    mbedtls_ssl_config* conf;
    mbedtls_pk_context* key;
    mbedtls_x509_crt* crt;
    mbedtls_x509_crt* peer;
    const std::filesystem::path* dir;
    int endpoint;
  };
  const side sides[] = {
      {&p->server_conf, &p->server_key, &p->server_crt, &p->client_crt, &server_dir,
       MBEDTLS_SSL_IS_SERVER},
      {&p->client_conf, &p->client_key, &p->client_crt, &p->server_crt, &client_dir,
       MBEDTLS_SSL_IS_CLIENT},
  };
  for (const side& s : sides) {
    std::string key = (*s.dir / "identity.key").string();
    std::string crt = (*s.dir / "identity.crt").string();
    if ((ret = mbedtls_pk_parse_keyfile(s.key, key.c_str(), nullptr)) != 0)
      return fail("loading " + key, ret);
    if ((ret = mbedtls_x509_crt_parse_file(s.crt, crt.c_str())) != 0)
      return fail("loading " + crt, ret);
  }
  for (const side& s : sides) {
    if ((ret = mbedtls_ssl_config_defaults(s.conf, s.endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
      return fail("config", ret);
    mbedtls_ssl_conf_rng(s.conf, mbedtls_ctr_drbg_random, p->rng.ctr());
    mbedtls_ssl_conf_min_version(s.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(s.conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(s.conf, p->suites.data());
    mbedtls_ssl_conf_curves(s.conf, p->curves.data());
    mbedtls_ssl_conf_sig_hashes(s.conf, p->hashes.data());
    // The peer's self-signed certificate as the only CA: how a plain mbedTLS program pins.
    mbedtls_ssl_conf_authmode(s.conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(s.conf, s.peer, nullptr);
    if ((ret = mbedtls_ssl_conf_own_cert(s.conf, s.crt, s.key)) != 0) return fail("own cert", ret);
    if ((ret = mbedtls_ssl_conf_alpn_protocols(s.conf, p->alpn.data())) != 0)
      return fail("alpn", ret);
  }
  if (!p->connect_pair(error) || !p->handshake(error)) {
    error = "plain mbedTLS: " + error;
    return nullptr;
  }
  return std::unique_ptr<plain_tls_stream>(new plain_tls_stream(std::move(p)));
}

std::string plain_tls_stream::ciphersuite() const {
  const char* s = mbedtls_ssl_get_ciphersuite(&impl_->client);
  return s ? s : "";
}

template <class Take>
bool plain_tls_stream::impl::read_available(Take&& take, std::string& error) {
  for (;;) {
    int r = mbedtls_ssl_read(&server, rbuf.data(), rbuf.size());
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) return true;
    if (r <= 0) {
      error = "plain mbedTLS read: " + mbedtls_error_text(r);
      return false;
    }
    if (!take(rbuf.data(), static_cast<std::size_t>(r))) return false;
  }
}

double plain_tls_stream::transfer(std::size_t total, std::size_t chunk, std::string& error) {
  impl& p = *impl_;
  chunk = std::max<std::size_t>(chunk, 1);
  std::vector<unsigned char> message(chunk, 0x5a);
  std::size_t sent = 0, in_chunk = 0, received = 0;
  auto t0 = clock_type::now();
  while (received < total) {
    bool c_blocked = sent >= total;
    // The client writes until the socket is full; each message is one mbedtls_ssl_write call
    // (repeated with the rest after a partial write, as the API requires).
    while (sent < total) {
      std::size_t want = std::min(chunk - in_chunk, total - sent);
      int r = mbedtls_ssl_write(&p.client, message.data() + in_chunk, want);
      if (r > 0) {
        sent += static_cast<std::size_t>(r);
        in_chunk = (in_chunk + static_cast<std::size_t>(r)) % chunk;
      } else if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
        c_blocked = true;
        break;
      } else {
        error = "plain mbedTLS write: " + mbedtls_error_text(r);
        return -1;
      }
    }
    // The server reads everything available.
    auto count = [&](const unsigned char*, std::size_t n) { return received += n, true; };
    if (!p.read_available(count, error)) return -1;
    if (received >= total) break;
    if (c_blocked) p.wait_both(sent < total);
  }
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

namespace {

// The receiving end of transfer_buffered(): splits length-prefixed messages out of what
// mbedtls_ssl_read returns, in any cut.
class message_splitter {
public:
  static constexpr std::size_t header = 4;
  explicit message_splitter(std::size_t max_size) : max_(max_size) {}

  // Takes `n` bytes; false if a length is over the maximum.
  bool feed(const unsigned char* p, std::size_t n) {
    if (!partial_.empty()) {
      while (partial_.size() < header && n > 0) {
        partial_.push_back(*p++);
        --n;
      }
      if (partial_.size() < header) return true;
      const std::size_t len = length(partial_.data());
      if (len > max_) return false;
      const std::size_t take = std::min(n, header + len - partial_.size());
      partial_.insert(partial_.end(), p, p + take);
      p += take;
      n -= take;
      if (partial_.size() < header + len) return true;
      deliver(partial_.data() + header, len);
      partial_.clear();
    }
    while (n >= header) {
      const std::size_t len = length(p);
      if (len > max_) return false;
      if (n < header + len) break;
      deliver(p + header, len);
      p += header + len;
      n -= header + len;
    }
    partial_.assign(p, p + n);
    return true;
  }

  std::size_t messages = 0;
  std::size_t bytes = 0;

private:
  static std::size_t length(const unsigned char* p) {
    return std::size_t{p[0]} << 24 | std::size_t{p[1]} << 16 | std::size_t{p[2]} << 8 | p[3];
  }
  void deliver(const unsigned char*, std::size_t len) {
    ++messages;
    bytes += len;
  }

  std::size_t max_;
  std::vector<unsigned char> partial_;
};

} // namespace

double plain_tls_stream::transfer_buffered(std::size_t count, std::size_t size,
                                           std::size_t batch_bytes, std::string& error) {
  impl& p = *impl_;
  std::vector<unsigned char> message(size, 0x5a);
  std::vector<unsigned char> batch;
  batch.reserve(batch_bytes + message_splitter::header + size);
  std::size_t queued = 0, written = 0; // messages appended; bytes of `batch` taken by mbedTLS
  message_splitter split(std::max<std::size_t>(size, 64 * 1024));
  auto t0 = clock_type::now();
  while (split.messages < count) {
    bool c_blocked = false;
    // The client refills its buffer once mbedTLS has taken all of it, and writes until the
    // socket is full (after WANT_WRITE, mbedTLS wants the same rest again).
    for (;;) {
      if (written == batch.size()) {
        if (queued == count) {
          c_blocked = true;
          break;
        }
        batch.clear();
        written = 0;
        while (queued < count && batch.size() < batch_bytes) {
          const auto n = static_cast<std::uint32_t>(size);
          const unsigned char h[message_splitter::header] = {
              static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
              static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
          batch.insert(batch.end(), h, h + sizeof h);
          batch.insert(batch.end(), message.begin(), message.end());
          ++queued;
        }
      }
      int r = mbedtls_ssl_write(&p.client, batch.data() + written, batch.size() - written);
      if (r > 0) {
        written += static_cast<std::size_t>(r);
      } else if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
        c_blocked = true;
        break;
      } else {
        error = "plain mbedTLS write: " + mbedtls_error_text(r);
        return -1;
      }
    }
    // The server reads everything available and splits it into messages.
    auto feed = [&](const unsigned char* bytes, std::size_t n) {
      if (split.feed(bytes, n)) return true;
      error = "plain mbedTLS read: a message length over the maximum";
      return false;
    };
    if (!p.read_available(feed, error)) return -1;
    if (split.messages >= count) break;
    if (c_blocked) p.wait_both(queued < count || written < batch.size());
  }
  const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (split.bytes != count * size) {
    error = "plain mbedTLS buffered transfer: " + std::to_string(split.bytes) +
            " bytes received, " + std::to_string(count * size) + " sent";
    return -1;
  }
  return s;
}

bool plain_tls_stream::round_trips(std::size_t iterations, std::size_t size,
                                   std::vector<double>& samples_us, std::string& error) {
  impl& p = *impl_;
  std::vector<unsigned char> request(size, 0x33), echo(size), response(size);
  for (std::size_t i = 0; i < iterations; ++i) {
    auto t0 = clock_type::now();
    if (!p.write_all(p.client, p.client_fd, request.data(), size, error) ||
        !p.read_exactly(p.server, p.server_fd, echo.data(), size, error) ||
        !p.write_all(p.server, p.server_fd, echo.data(), size, error) ||
        !p.read_exactly(p.client, p.client_fd, response.data(), size, error)) {
      error = "plain mbedTLS round trip: " + error;
      return false;
    }
    samples_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
  }
  return true;
}

} // namespace lanyard::bench
