#include "lanyard/core/error_condition.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <string>
#include <string_view>

namespace lanyard::core {
namespace {

// What a socket or the OS reports when the network, the peer or the host's resources fail for
// a while: another attempt later may succeed.
bool is_transient_errno(int e) noexcept {
  switch (e) {
  case ETIMEDOUT:
  case ECONNREFUSED:
  case ECONNRESET:
  case ECONNABORTED:
  case EHOSTUNREACH:
  case ENETUNREACH:
  case ENETDOWN:
  case ENETRESET:
  case EPIPE:
  case EADDRNOTAVAIL:
  case ENOBUFS:
  case EMFILE:
  case ENFILE:
  case EAGAIN:
  case EINTR:
  case ENOTCONN:
    return true;
  default:
    return false;
  }
}

// The errno value `ec` stands for, or 0. Generic and system codes say so through
// default_error_condition(); standalone asio's own system category ("asio.system", where every
// socket error and asio::error::operation_aborted live) holds errno values but maps none of them
// to the generic category (asio 1.22), and the core cannot name it: it is known by its name.
int errno_of(const std::error_code& ec) noexcept {
  const std::error_condition g = ec.default_error_condition();
  if (g.category() == std::generic_category()) return g.value();
  if (std::string_view(ec.category().name()) == "asio.system") return ec.value();
  return 0;
}

class condition_category_impl final : public std::error_category {
public:
  const char* name() const noexcept override { return "lanyard.condition"; }

  std::string message(int c) const override {
#if LANYARD_ERROR_MESSAGES
    switch (static_cast<condition>(c)) {
    case condition::transient:
      return "transient: retrying later (after a backoff, on another path or after a network "
             "change) may succeed";
    case condition::refused_by_peer:
      return "refused by the peer: it understood the request and said no";
    case condition::authentication_failed:
      return "authentication failed: the peer is not the one trusted, or a proof or secret did "
             "not match";
    case condition::policy:
      return "a local policy forbids it (interface policy, trust mode, admin rules, file "
             "permissions)";
    case condition::protocol_violation:
      return "protocol violation: the peer broke the protocol or speaks an incompatible version";
    case condition::cancelled:
      return "cancelled";
    case condition::permanent:
      return "permanent: retrying fails the same way until a person or the program changes "
             "something";
    }
    return "unknown lanyard.condition " + std::to_string(c);
#else
    if (const std::string_view n = to_string(static_cast<condition>(c)); !n.empty())
      return std::string(n);
    return "lanyard.condition " + std::to_string(c);
#endif
  }

  // Lanyard's categories answer for their own codes (lanyard_category::equivalent); this is
  // asked for every other code, and classifies the errno-valued ones.
  bool equivalent(const std::error_code& ec, int c) const noexcept override {
    const int e = errno_of(ec);
    if (e == 0) return false;
    switch (static_cast<condition>(c)) {
    case condition::cancelled:
      return e == ECANCELED;
    case condition::transient:
      return is_transient_errno(e);
    default:
      return false;
    }
  }
};

} // namespace

const std::error_category& condition_category() noexcept {
  static const condition_category_impl instance;
  return instance;
}

bool is_lanyard_code(const std::error_code& ec) noexcept {
  return ec && ec == std::error_condition(detail::lanyard_marker, condition_category());
}

namespace detail {

std::string terse_message(const char* category, std::string_view code_name, int code) {
  std::string s(category);
  if (code_name.empty()) return s + " error " + std::to_string(code);
  s += '.';
  s += code_name;
  s += " (" + std::to_string(code) + ')';
  s += terse_message_hint;
  return s;
}

} // namespace detail

std::size_t code_string(const std::error_code& ec, std::span<char> out) noexcept {
  std::size_t at = 0;
  const auto put = [&](std::string_view s) {
    const std::size_t n = std::min(s.size(), out.size() - at);
    s.copy(out.data() + at, n);
    at += n;
  };
  if (!ec) return 0;
  put(ec.category().name());
  if (is_lanyard_code(ec)) {
    // Safe without RTTI: only a lanyard_category answers the marker.
    const auto& cat = static_cast<const lanyard_category&>(ec.category());
    if (const std::string_view name = cat.code_name(ec.value()); !name.empty()) {
      put(".");
      put(name);
      return at;
    }
  }
  std::array<char, 12> digits;
  const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), ec.value());
  put(":");
  put(std::string_view(digits.data(), static_cast<std::size_t>(r.ptr - digits.data())));
  return at;
}

std::string code_string(const std::error_code& ec) {
  // Category names are short words; a longer one is cut, as in the span form.
  std::array<char, 160> text;
  return std::string(text.data(), code_string(ec, text));
}

std::vector<std::string_view> condition_names(const std::error_code& ec) {
  std::vector<std::string_view> names;
  const condition_set set = conditions_of(ec);
  for (int i = static_cast<int>(first_condition); i <= static_cast<int>(last_condition); ++i)
    if (set.contains(i)) names.push_back(to_string(static_cast<condition>(i)));
  return names;
}

condition_set conditions_of(const std::error_code& ec) noexcept {
  condition_set s;
  for (int i = static_cast<int>(first_condition); i <= static_cast<int>(last_condition); ++i)
    if (const auto c = static_cast<condition>(i); ec == c) s.insert(c);
  return s;
}

std::string_view to_string(condition c) noexcept {
  switch (c) {
  case condition::transient:
    return "transient";
  case condition::refused_by_peer:
    return "refused_by_peer";
  case condition::authentication_failed:
    return "authentication_failed";
  case condition::policy:
    return "policy";
  case condition::protocol_violation:
    return "protocol_violation";
  case condition::cancelled:
    return "cancelled";
  case condition::permanent:
    return "permanent";
  }
  return "";
}

} // namespace lanyard::core
