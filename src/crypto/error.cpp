#include "lanyard/crypto/error.hpp"

#include "lanyard/core/error_condition.hpp"

#include <string>
#include <string_view>

namespace lanyard::crypto {
namespace {

class crypto_category_impl final : public core::lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.crypto"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int value) const override {
    switch (static_cast<crypto_errc>(value)) {
    case crypto_errc::bad_input:
      return "invalid argument to a lanyard.crypto call (a buffer of the wrong size, a scalar out "
             "of range, zero iterations, or corrupt stored verifier data): fix the caller";
    case crypto_errc::bad_point:
      return "the peer sent a value that is not a valid P-256 point (wrong size or format, not "
             "on the curve, or the identity): abort the pairing, the peer is faulty or hostile";
    case crypto_errc::confirmation_mismatch:
      return "SPAKE2+ key confirmation failed: the pairing code is wrong, or the peer is not the "
             "device it claims to be; ask for the code again";
    case crypto_errc::wrong_state:
      return "SPAKE2+ call out of order, or the exchange already finished or failed: an exchange "
             "object runs one exchange only, so create a new one";
    case crypto_errc::mbedtls_failure:
      return "mbedTLS failed internally (e.g. out of memory in its bignum arithmetic): retry, "
             "and check the memory available to mbedTLS if it persists";
    case crypto_errc::random_failure:
      return "the random source failed to deliver bytes (getrandom(2) or the firmware RNG): "
             "check the entropy source, then retry";
    }
    return "unknown lanyard.crypto error " + std::to_string(value);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<crypto_errc>(code)) {
    case crypto_errc::bad_input:
      return "bad_input";
    case crypto_errc::bad_point:
      return "bad_point";
    case crypto_errc::confirmation_mismatch:
      return "confirmation_mismatch";
    case crypto_errc::wrong_state:
      return "wrong_state";
    case crypto_errc::mbedtls_failure:
      return "mbedtls_failure";
    case crypto_errc::random_failure:
      return "random_failure";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp); docs/design/error-model.md
  // §2.3 argues each row.
  core::condition_set conditions(int code) const noexcept override {
    using enum core::condition;
    switch (static_cast<crypto_errc>(code)) {
    case crypto_errc::bad_input:
    case crypto_errc::wrong_state:
      return {permanent};
    case crypto_errc::bad_point:
      return {protocol_violation, permanent};
    case crypto_errc::confirmation_mismatch:
      return {authentication_failed, permanent};
    case crypto_errc::mbedtls_failure:
    case crypto_errc::random_failure:
      return {transient};
    }
    return {};
  }
};

} // namespace

const std::error_category& crypto_category() noexcept {
  static const crypto_category_impl category;
  return category;
}

} // namespace lanyard::crypto
