#include <lanyard/client/pair.hpp>

#include <lanyard/core/pairing_error.hpp>
#include <lanyard/crypto/pairing_crypto.hpp>
#include <lanyard/tls_engine/error.hpp>

#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <vector>

namespace lanyard::client {
namespace {

using clock = std::chrono::steady_clock;

bool binding_of(const pairing_stream& s, core::pairing_binding& b) {
  const auto exporter = s.exporter();
  if (!exporter) return false;
  std::copy(exporter->begin(), exporter->end(), b.exporter.begin());
  b.controller = s.local_fingerprint();
  b.accessory = s.peer_fingerprint();
  return true;
}

// One exchange: a read loop feeding the initiator, a writer flushing its output, one timer for
// its deadline. Kept alive by its handlers.
struct pairing_op : std::enable_shared_from_this<pairing_op> {
  pairing_op(pairing_stream& st, const core::pairing_binding& b, pairing_request r,
             detail::pairing_callback cb)
      : s(st), initiator(crypto, b, std::move(r.credentials), std::move(r.name), r.settings),
        timer(st.get_executor()), done(std::move(cb)) {}

  pairing_stream& s;
  crypto::mbedtls_pairing_crypto crypto;
  core::pairing_initiator initiator;
  asio::steady_timer timer;
  detail::pairing_callback done;
  std::array<std::byte, 1024> rbuf{};
  std::vector<std::byte> wbuf;
  bool writing = false;
  bool finished = false;

  void start() {
    initiator.start(clock::now());
    step();
    read();
  }

  void read() {
    s.async_read_some(asio::buffer(rbuf), [self = shared_from_this()](std::error_code ec,
                                                                      std::size_t n) {
      if (self->finished) return;
      if (ec)
        return self->finish(
            ec == asio::error::eof ? std::error_code(core::pairing_errc::protocol_violation) : ec);
      self->initiator.receive(std::span<const std::byte>(self->rbuf.data(), n), clock::now());
      self->step();
      if (!self->initiator.done()) self->read();
    });
  }

  // Writes what the initiator queued; completes once it is done and its last frame is out.
  void step() {
    auto out = initiator.poll_output();
    wbuf.insert(wbuf.end(), out.begin(), out.end());
    if (!writing && !wbuf.empty()) {
      writing = true;
      auto buf = std::make_shared<std::vector<std::byte>>(std::move(wbuf));
      wbuf.clear();
      asio::async_write(s, asio::buffer(*buf),
                        [self = shared_from_this(), buf](std::error_code ec, std::size_t) {
                          self->writing = false;
                          if (self->finished) return;
                          if (ec) return self->finish(ec);
                          self->step();
                        });
      return;
    }
    if (writing) return;
    if (initiator.done()) return finish(initiator.outcome().error);
    arm();
  }

  void arm() {
    timer.expires_at(initiator.next_deadline());
    timer.async_wait([self = shared_from_this()](std::error_code ec) {
      if (ec || self->finished) return;
      self->initiator.handle_deadline(clock::now());
      self->step();
    });
  }

  void finish(std::error_code ec) {
    if (finished) return;
    finished = true;
    timer.cancel();
    if (ec && !initiator.done()) {
      // The transport failed first; cancel the pending read so the stream is free again.
      std::error_code ignored;
      s.next_layer().cancel(ignored);
    }
    core::pairing_outcome o = initiator.outcome();
    done(ec, o);
  }
};

} // namespace

std::error_code verification_code(const pairing_stream& s, std::uint32_t& out) {
  core::pairing_binding b;
  if (!binding_of(s, b)) return tls::tls_errc::not_connected;
  crypto::mbedtls_pairing_crypto c;
  return c.verification_code(b, out);
}

namespace detail {

void start_pairing(pairing_stream& s, pairing_request req, pairing_callback done) {
  core::pairing_binding b;
  if (!binding_of(s, b)) {
    asio::post(s.get_executor(), [done = std::move(done)] {
      done(tls::tls_errc::not_connected, core::pairing_outcome{});
    });
    return;
  }
  auto op = std::make_shared<pairing_op>(s, b, std::move(req), std::move(done));
  op->start();
}

} // namespace detail
} // namespace lanyard::client
