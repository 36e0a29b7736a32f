/// @file
/// What callers branch on, across every Lanyard error category: `ec == condition::permanent`
/// is the whole "is this fatal?" check, `ec == condition::authentication_failed` asks whether
/// the peer is not who we trust, whatever area (tls, trust, pairing, crypto) said so.
///
/// How the categories take part: every Lanyard category derives from lanyard_category and
/// classifies its own codes in conditions(int), a switch over its enum without a default, so an
/// enumerator added without a classification does not compile (-Wswitch under -Werror), and
/// tests/unit/core/error_condition_test.cpp and tests/unit/error_conditions_test.cpp compare
/// every code with the design's table (docs/design/error-model.md §2.3).
/// lanyard_category::equivalent() answers from that switch; errno-valued codes (system, generic
/// and standalone asio's "asio.system": socket errors, asio::error::operation_aborted) are
/// answered by the condition category itself. Why this shape:
///   - a table in the core keyed by category name would make the core know the adapters' codes
///     (the layers point down only) and leave a new category silently unclassified;
///   - default_error_condition() can name one condition per code, and a code often has several
///     (peer_rejected_certificate is refused_by_peer, authentication_failed and permanent); it
///     also changes what `ec == std::errc::...` means;
///   - neither virtual dispatch nor comparing category addresses needs RTTI, so this builds with
///     -fno-exceptions -fno-rtti like the rest of lanyard::core.
///
/// Standard library only. Thread-safety: the categories are immutable singletons; everything
/// here is safe from any thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

/// 1 (the default): every Lanyard category's message() explains its codes in a sentence. 0 (the
/// CMake option LANYARD_ERROR_MESSAGES=OFF, a PUBLIC definition of lanyard::core, so also of
/// lanyard::crypto, lanyard::tls_engine, lanyard::firmware and their users): the sentences of the
/// categories in those libraries are not compiled and message() names the code
/// (lanyard_category::message()); code_name(), code_string() and the conditions are the same in
/// both. For firmware short of flash (docs/firmware.md).
#ifndef LANYARD_ERROR_MESSAGES
#define LANYARD_ERROR_MESSAGES 1
#endif

namespace lanyard::core {

/// What a caller does about an error. A code may be equivalent to several conditions
/// (conditions_of()); every Lanyard code is exactly one of `transient` and `permanent`, except
/// channel_errc::connection_replaced (only `cancelled`) and provisioning_errc::not_provisioning
/// (not an error: hand the message to another handler). Codes Lanyard does not classify
/// (asio::error::eof, resolver errors, most errno values) are neither.
enum class condition {
  /// Retrying later (backoff, another path, after a network change) may succeed.
  transient = 1,
  /// The peer understood and said no: not paired, pairing window closed, full, busy.
  refused_by_peer,
  /// The peer is not who we trust (pin, payload), or a proof or secret did not match.
  authentication_failed,
  /// A local rule forbids it: interface policy, trust mode, admin rules, file permissions.
  policy,
  /// The peer broke the protocol, or speaks an incompatible version.
  protocol_violation,
  /// Cancelled locally (asio::error::operation_aborted, std::errc::operation_canceled), or
  /// superseded, or a person declined.
  cancelled,
  /// Do not retry automatically: the same attempt fails the same way until a person or the
  /// program changes something. Never together with `transient`.
  permanent,
};

/// The "lanyard.condition" category. Its equivalent(const error_code&, int) answers for
/// errno-valued codes (the system and generic categories, and asio's "asio.system", which maps
/// none of its values to std::errc): ECANCELED is `cancelled`; ETIMEDOUT, ECONNREFUSED, ECONNRESET,
/// ECONNABORTED, EHOSTUNREACH, ENETUNREACH, ENETDOWN, ENETRESET, EPIPE, EADDRNOTAVAIL, ENOBUFS,
/// EMFILE, ENFILE, EAGAIN, EINTR and ENOTCONN are `transient`. Lanyard's own categories answer
/// for their codes (lanyard_category).
const std::error_category& condition_category() noexcept;

/// Makes a std::error_condition in condition_category(); found by ADL.
inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

/// A small set of conditions: what one code is equivalent to.
class condition_set {
public:
  constexpr condition_set() noexcept = default;
  constexpr condition_set(std::initializer_list<condition> cs) noexcept {
    for (condition c : cs)
      insert(c);
  }
  constexpr bool contains(condition c) const noexcept { return contains(static_cast<int>(c)); }
  constexpr bool contains(int c) const noexcept { return c > 0 && c < 32 && (bits_ & bit(c)) != 0; }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  constexpr void insert(condition c) noexcept { bits_ |= bit(static_cast<int>(c)); }
  friend constexpr bool operator==(condition_set, condition_set) noexcept = default;

private:
  static constexpr std::uint32_t bit(int c) noexcept { return std::uint32_t{1} << c; }
  std::uint32_t bits_ = 0;
};

/// The first and last condition, for loops over all of them.
inline constexpr condition first_condition = condition::transient;
inline constexpr condition last_condition = condition::permanent;

namespace detail {
/// Not a condition: lanyard_category::equivalent() answers true for it, so is_lanyard_code()
/// tells Lanyard's categories from others without RTTI. Outside the enum, so conditions_of()
/// and every switch over `condition` never see it.
inline constexpr int lanyard_marker = 31;

/// lanyard_category::message()'s text: "lanyard.txt.empty_key (3)" and
/// terse_message_hint for a value of the enum (`code_name` not empty), "lanyard.txt error 42"
/// for any other value.
std::string terse_message(const char* category, std::string_view code_name, int code);

/// What a message() built without its texts adds after the code's name.
inline constexpr std::string_view terse_message_hint =
    "; no error texts in this build (LANYARD_ERROR_MESSAGES=OFF), see docs/firmware.md";
} // namespace detail

/// Base of every Lanyard error category: conditions() classifies the category's codes and
/// drives equivalent(), so `ec == condition::X` works for every Lanyard code.
class lanyard_category : public std::error_category {
public:
  /// The conditions `code` of this category is equivalent to (empty for unknown values).
  virtual condition_set conditions(int code) const noexcept = 0;
  /// The enumerator's name of `code` ("wrong_proof"), a switch without a default like
  /// conditions(); "" for values outside the enum. Stable: scripts match on it (code_string()).
  virtual std::string_view code_name(int code) const noexcept = 0;

#if !LANYARD_ERROR_MESSAGES
  /// Built with LANYARD_ERROR_MESSAGES=OFF (firmware short of flash), the categories have no
  /// message() of their own and this names the code instead: "lanyard.txt.empty_key (3); no error
  /// texts in this build (LANYARD_ERROR_MESSAGES=OFF), see docs/firmware.md", or "lanyard.txt
  /// error 42" for a value outside the enum. Only then: by default every category must override
  /// message() with its sentences, and a default build pays nothing for this one. The option is a
  /// PUBLIC definition of lanyard::core, so every user of the libraries sees the same class.
  std::string message(int code) const override {
    return detail::terse_message(name(), code_name(code), code);
  }
#endif

  // Inline on purpose (so is message() above): an out-of-line virtual would be the class's key
  // function, emitted in lanyard::core (built without RTTI), and the adapters (built with it)
  // would miss its typeinfo.
  bool equivalent(int code, const std::error_condition& cond) const noexcept final {
    if (cond.category() == condition_category())
      return cond.value() == detail::lanyard_marker || conditions(code).contains(cond.value());
    return std::error_category::equivalent(code, cond);
  }
};

/// The code's stable name for programs and JSON: "lanyard.pairing.wrong_proof" for Lanyard's
/// categories (category name, a dot, code_name()); "CATEGORY:VALUE" for every other category
/// ("system:111", "asio.misc:2"), and for a Lanyard value outside its enum; "" for success.
/// Never the message text, which is for people and may change.
std::string code_string(const std::error_code& ec);
/// The same into `out` without allocating (what firmware logs with): the characters written,
/// cut at out.size().
std::size_t code_string(const std::error_code& ec, std::span<char> out) noexcept;

/// True if `ec` belongs to one of Lanyard's categories (so code_name() answers for it). Asked
/// through equivalent(), no RTTI.
bool is_lanyard_code(const std::error_code& ec) noexcept;

/// Every condition `ec` is equivalent to (asks through operator==, so any category works and no
/// RTTI is needed).
condition_set conditions_of(const std::error_code& ec) noexcept;

/// "transient", "refused_by_peer", ... (for logs and JSON); "" for values outside the enum.
std::string_view to_string(condition c) noexcept;

/// The names of every condition `ec` is equivalent to, in enum order (what the tools print as
/// "conditions"); empty for success and for unclassified codes.
std::vector<std::string_view> condition_names(const std::error_code& ec);

} // namespace lanyard::core

template <>
struct std::is_error_condition_enum<lanyard::core::condition> : std::true_type {};
