#include <lanyard/tls_engine/context.hpp>

#include <lanyard/tls_engine/error.hpp>

#include "context_impl.hpp"
#include "identity_impl.hpp"

#include <mbedtls/ssl_ciphersuites.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace lanyard::tls {
namespace {

// One block holds a context's impl and the room for its shared_ptr's control block: creating a
// context is one allocation, through the non-throwing operator new, so that a firmware
// start-up short of heap gets an error rather than an abort (the failmalloc test walks it).
// The shared_ptr destroys the impl (impl_deleter) when the last context goes and frees the
// block with its control block (in_block_allocator::deallocate), after the last weak
// reference.
template <class Impl>
struct impl_block {
  // A control block with a deleter and an allocator: four words and the vtable in libstdc++.
  static constexpr std::size_t control_room = 64;
  alignas(std::max_align_t) std::byte control[control_room];
  alignas(Impl) std::byte object[sizeof(Impl)];
};

template <class T, class Block>
struct in_block_allocator {
  using value_type = T;
  Block* block;
  explicit in_block_allocator(Block* b) noexcept : block(b) {}
  template <class U>
  in_block_allocator(const in_block_allocator<U, Block>& o) noexcept : block(o.block) {}
  T* allocate(std::size_t n) noexcept {
    static_assert(alignof(T) <= alignof(std::max_align_t));
    // Larger than planned (another standard library): a bug to fix here, found at once.
    if (n * sizeof(T) > Block::control_room) std::abort();
    return reinterpret_cast<T*>(block->control);
  }
  void deallocate(T*, std::size_t) noexcept { ::operator delete(block); }
  template <class U>
  bool operator==(const in_block_allocator<U, Block>& o) const noexcept {
    return block == o.block;
  }
};

template <class Impl>
struct impl_deleter {
  void operator()(Impl* p) const noexcept { p->~Impl(); } // the block goes with the control block
};

} // namespace

context::impl::impl(identity l, context_options opts)
    : local(std::move(l)), options(std::move(opts)) {
  mbedtls_ssl_config_init(&client_);
  mbedtls_ssl_config_init(&server_);
  mbedtls_ssl_ticket_init(&ticket_);
}

context::impl::~impl() {
  mbedtls_ssl_ticket_free(&ticket_);
  mbedtls_ssl_config_free(&server_);
  mbedtls_ssl_config_free(&client_);
}

int context::impl::setup(std::string_view& what, std::string_view& step) {
  const identity::impl* id = identity_access::get(local);
  // The personalization on the stack: a device id is at most 64 bytes (and is cut there).
  static constexpr std::string_view label = "lanyard tls context ";
  std::array<char, label.size() + 64> personal{};
  const std::string_view device = local.device_id();
  const std::size_t device_size = std::min<std::size_t>(device.size(), 64);
  std::copy(label.begin(), label.end(), personal.begin());
  std::copy_n(device.begin(), device_size, personal.begin() + label.size());
  int ret =
      rng.seed(std::string_view(personal.data(), label.size() + device_size), options.entropy);
  if (ret != 0) {
    what = "seeding the random generator";
    step = context_step::seed_random;
    return ret;
  }

  ciphersuites_ = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                   MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0};
  curves_ = {MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_NONE};
  sig_hashes_ = {MBEDTLS_MD_SHA256, MBEDTLS_MD_NONE};
  alpn_storage_ = options.alpn;
  alpn_list_ = {alpn_storage_.c_str(), nullptr};
  // Peer certificates: ECDSA on P-256 only, signed with SHA-256 or SHA-384.
  profile_.allowed_mds =
      MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) | MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384);
  profile_.allowed_pks =
      MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA) | MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY);
  profile_.allowed_curves = MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP256R1);
  profile_.rsa_min_bitlen = 0xFFFFFFF; // no RSA

  for (role r : {role::client, role::server}) {
    mbedtls_ssl_config* c = conf(r);
    ret = mbedtls_ssl_config_defaults(
        c, r == role::client ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
      what = "configuring mbedTLS";
      step = context_step::configure;
      return ret;
    }
    mbedtls_ssl_conf_rng(c, mbedtls_ctr_drbg_random, rng.ctr());
    mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(c, ciphersuites_.data());
    mbedtls_ssl_conf_curves(c, curves_.data());
    mbedtls_ssl_conf_sig_hashes(c, sig_hashes_.data());
    mbedtls_ssl_conf_cert_profile(c, &profile_);
    // Mutual authentication, always required. mbedTLS 2.28 insists on a non-empty CA list in
    // REQUIRED mode ("got no CA chain"); our own certificate serves as that list. No peer
    // certificate can chain to it (that would need our private key), so every peer arrives at
    // the verify callback flagged NOT_TRUSTED and only the pin can clear that flag.
    mbedtls_ssl_conf_authmode(c, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(c, &id->cert, nullptr);
    ret = mbedtls_ssl_conf_own_cert(c, &id->cert, &id->key);
    if (ret != 0) {
      what = "installing the identity's certificate";
      step = context_step::own_certificate;
      return ret;
    }
    ret = mbedtls_ssl_conf_alpn_protocols(c, alpn_list_.data());
    if (ret != 0) {
      what = "setting ALPN (its protocol name must be 1 to 255 bytes)";
      step = context_step::alpn;
      return ret;
    }
    mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    mbedtls_ssl_conf_export_keys_ext_cb(c, detail::export_keys, nullptr);
  }

  mbedtls_ssl_conf_session_tickets(&client_, options.session_tickets
                                                 ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                 : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
  if (options.session_tickets) {
    ret = mbedtls_ssl_ticket_setup(&ticket_, mbedtls_ctr_drbg_random, rng.ctr(),
                                   MBEDTLS_CIPHER_AES_256_GCM,
                                   static_cast<uint32_t>(options.ticket_lifetime.count()));
    if (ret != 0) {
      what = "generating the session-ticket key";
      step = context_step::ticket_key;
      return ret;
    }
    mbedtls_ssl_conf_session_tickets_cb(&server_, mbedtls_ssl_ticket_write, detail::ticket_parse,
                                        &ticket_);
  }
  return 0;
}

std::shared_ptr<const cached_session>
context::impl::load_session(const std::string& peer_id) const {
  std::lock_guard lock(sessions_mutex_);
  auto it = sessions_.find(peer_id);
  if (it == sessions_.end()) return nullptr;
  return it->second;
}

void context::impl::store_session(const std::string& peer_id,
                                  std::shared_ptr<const cached_session> session) {
  std::shared_ptr<const cached_session> replaced; // freed after the lock is released
  std::lock_guard lock(sessions_mutex_);
  auto& slot = sessions_[peer_id];
  replaced = std::move(slot);
  slot = std::move(session);
}

void context::impl::erase_session(std::string_view peer_id) {
  std::lock_guard lock(sessions_mutex_);
  auto it = sessions_.find(peer_id);
  if (it != sessions_.end()) sessions_.erase(it);
}

context context::create(identity local, context_options options, core::error_detail& error) {
  error = {};
  context out;
  if (!local) {
    error = {tls_errc::bad_identity_file, "tls::context needs an identity (it is empty)"};
    return out;
  }
  const bool describe = options.describe_failures;
  using block = impl_block<impl>;
  auto* room = static_cast<block*>(::operator new(sizeof(block), std::nothrow));
  if (room == nullptr) {
    // The code alone: a sentence would need the heap that just ran out.
    error = core::error_detail{std::make_error_code(std::errc::not_enough_memory)};
    return out;
  }
  impl* made = ::new (room->object) impl(std::move(local), std::move(options));
  std::shared_ptr<impl> p(made, impl_deleter<impl>{}, in_block_allocator<impl, block>(room));
  std::string_view what;
  std::string_view step;
  int ret = p->setup(what, step);
  if (ret != 0) {
    error = core::error_detail{tls_errc::crypto_failure};
    if (describe)
      error = core::error_detail{tls_errc::crypto_failure,
                                 std::string(what) + ": " + detail::mbedtls_error_text(ret)}
                  .with(core::field_key::step, std::string(step))
                  .with(core::field_key::mbedtls_error, std::int64_t{ret});
    return out;
  }
  out.impl_ = std::move(p);
  return out;
}

context context::create(identity local, context_options options, std::error_code& ec,
                        std::string* detail) {
  core::error_detail error;
  context out = create(std::move(local), std::move(options), error);
  ec = error.code;
  if (detail != nullptr) *detail = std::move(error.detail);
  return out;
}

#if defined(__cpp_exceptions)
// Only where exceptions exist: firmware (built without them) calls create().
context::context(identity local, context_options options) {
  core::error_detail error;
  *this = create(std::move(local), std::move(options), error);
  if (error) throw std::system_error(error.code, error.detail);
}
#endif

const identity& context::local_identity() const noexcept {
  return impl_->local;
}

const context_options& context::options() const noexcept {
  return impl_->options;
}

void context::forget_session(std::string_view peer_id) {
  impl_->erase_session(peer_id);
}

void context::clear_sessions() {
  std::lock_guard lock(impl_->sessions_mutex_);
  impl_->sessions_.clear();
}

std::size_t context::cached_sessions() const {
  std::lock_guard lock(impl_->sessions_mutex_);
  return impl_->sessions_.size();
}

} // namespace lanyard::tls
