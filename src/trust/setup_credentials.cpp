#include "lanyard/trust/setup_credentials.hpp"

#include "atomic_file.hpp"
#include "lanyard/core/pairing_frame.hpp"
#include "lanyard/crypto/pairing_crypto.hpp"
#include "state_file.hpp"

#include <array>
#include <charconv>

namespace lanyard::trust {
namespace {

constexpr std::string_view magic = "lanyard-setup-credentials";

std::string to_hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (std::uint8_t v : b) {
    out.push_back(digits[v >> 4]);
    out.push_back(digits[v & 0xF]);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Lowercase hex of exactly out.size() bytes.
bool from_hex(std::string_view text, std::span<std::uint8_t> out) {
  if (text.size() != out.size() * 2) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

} // namespace

std::string serialize_setup_credentials(const setup_credentials& c) {
  std::string text = std::string(magic) + " 1\n";
  text += "secret " + to_hex(c.secret) + "\n";
  text += "verifier " + std::to_string(c.verifier.iterations) + " " + to_hex(c.verifier.salt) +
          " " + to_hex(c.verifier.w0) + " " + to_hex(c.verifier.L) + "\n";
  detail::finish_state_file(text, 2);
  return text;
}

store_status parse_setup_credentials(std::string_view text, std::string_view file,
                                     setup_credentials& out) {
  setup_credentials c;
  bool has_secret = false, has_verifier = false;
  store_status s = detail::parse_state_file(
      text, file, magic,
      [&](std::size_t line, const std::vector<std::string_view>& f) -> store_status {
        if (f[0] == "secret") {
          if (has_secret || f.size() != 2 || !from_hex(f[1], c.secret))
            return detail::corrupt(file, line, "bad_secret_line", "bad secret line");
          has_secret = true;
          return {};
        }
        if (f[0] == "verifier") {
          if (has_verifier || f.size() != 5)
            return detail::corrupt(file, line, "bad_verifier_line", "bad verifier line");
          std::uint32_t iterations = 0;
          auto [p, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), iterations);
          if (ec != std::errc{} || p != f[1].data() + f[1].size() || iterations == 0)
            return detail::corrupt(file, line, "invalid_iterations",
                                   "bad iteration count " + detail::excerpt(f[1]));
          const std::size_t salt_len = f[2].size() / 2;
          if (salt_len < core::min_pairing_salt || salt_len > core::max_pairing_salt)
            return detail::corrupt(file, line, "invalid_salt_length",
                                   "the salt must be 16 to 32 bytes");
          c.verifier.salt.resize(salt_len);
          if (!from_hex(f[2], c.verifier.salt) || !from_hex(f[3], c.verifier.w0) ||
              !from_hex(f[4], c.verifier.L))
            return detail::corrupt(file, line, "invalid_hex", "bad hex in the verifier");
          c.verifier.iterations = iterations;
          has_verifier = true;
          return {};
        }
        return detail::corrupt(file, line, "unknown_record",
                               "unknown record " + detail::excerpt(f[0]));
      });
  if (s.failed()) return s;
  if (!has_secret || !has_verifier)
    return detail::corrupt(file, 0, has_secret ? "missing_verifier_line" : "missing_secret_line",
                           has_secret ? "no verifier line" : "no secret line");
  out = std::move(c);
  return {};
}

store_status load_setup_credentials(const std::filesystem::path& path, setup_credentials& out,
                                    bool& exists) {
  std::string text;
  if (store_status s = detail::read_private_file(path, text, exists); s.failed() || !exists)
    return s;
  return parse_setup_credentials(text, path.string(), out);
}

store_status save_setup_credentials(const std::filesystem::path& path,
                                    const setup_credentials& creds) {
  detail::file_lock lock;
  if (store_status s = detail::file_lock::acquire(path, lock); s.failed()) return s;
  return detail::write_file_atomically(path, serialize_setup_credentials(creds));
}

} // namespace lanyard::trust

namespace lanyard::trust {

store_status load_or_create_setup_credentials(const std::filesystem::path& path,
                                              setup_credentials& out,
                                              std::optional<core::setup_code>& new_code) {
  new_code.reset();
  bool exists = false;
  if (store_status s = load_setup_credentials(path, out, exists); s.failed() || exists) return s;
  const crypto::random_source rng = crypto::system_random();
  std::array<std::uint8_t, core::setup_code_random_bytes> random{};
  core::setup_code code;
  setup_credentials made;
  if (rng.fill(rng.ctx, made.secret.data(), made.secret.size()) != 0 ||
      rng.fill(rng.ctx, random.data(), random.size()) != 0 || core::make_setup_code(random, code))
    return {make_error_code(trust_errc::store_io),
            "cannot draw random bytes for the setup secret and code"};
  if (std::error_code ec = crypto::make_setup_code_verifier(
          code.view(), rng, crypto::default_setup_code_iterations, made.verifier))
    return {make_error_code(trust_errc::store_io),
            "making the setup code's verifier: " + ec.message()};
  if (store_status s = save_setup_credentials(path, made); s.failed()) return s;
  out = std::move(made);
  new_code = code;
  return {};
}

} // namespace lanyard::trust
