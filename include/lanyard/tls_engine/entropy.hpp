/// @file
/// The platform's entropy source, for firmware (docs/design/firmware-target.md, steps 2-3): a
/// plain function pointer and its argument, so a C platform seam can supply it. Used to seed the
/// CTR-DRBG of a tls::context (context_options::entropy) and of identity::generate(); without
/// one, mbedTLS's default entropy source (getrandom / /dev/urandom on Linux) is used.
#pragma once

#include <cstddef>

namespace lanyard::tls {

/// Fills `out` with `len` bytes of entropy; returns 0 on success, non-zero on failure (mbedTLS
/// then reports MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED). Called with `user` as given next to
/// it; called again when the DRBG reseeds, so both must live as long as what uses them (the
/// context and every engine made from it). May be called from any thread that runs an engine of
/// the context (the DRBG's mutex serializes the calls).
using entropy_callback = int (*)(void* user, unsigned char* out, std::size_t len);

/// A callback and its argument; an empty one (`!source`) means mbedTLS's default source.
struct entropy_source {
  entropy_callback callback = nullptr;
  void* user = nullptr;

  explicit operator bool() const noexcept { return callback != nullptr; }
};

} // namespace lanyard::tls
