// Test helper for the `lanyard pair` tests:
//
//   make_payload payload DEVICE_ID FINGERPRINT   prints a setup payload (LNY1:...) with a random
//                                                setup secret: what a stranger can forge from
//                                                the id and the key any handshake shows
//   make_payload guess-code CODE SEED            prints a valid 8-digit setup code (right check
//                                                digit) other than CODE: a stranger's guess
//   make_payload identity DIR DEVICE_ID          creates/loads an identity, prints its
//                                                fingerprint (64 hex digits)
#include <lanyard/core/fingerprint.hpp>
#include <lanyard/core/setup_code.hpp>
#include <lanyard/core/setup_payload.hpp>
#include <lanyard/tls_engine/identity.hpp>
#include <lanyard/tls_engine/identity_files.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <string_view>

namespace core = lanyard::core;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_payload payload ID FINGERPRINT | identity DIR ID\n");
    return 2;
  }
  const std::string_view what = argv[1];
  if (what == "payload") {
    core::fingerprint_parse_result fp = core::parse_fingerprint(argv[3]);
    if (!fp) {
      std::fprintf(stderr, "make_payload: %s\n", fp.describe().c_str());
      return 2;
    }
    core::setup_payload p;
    p.device_id = argv[2];
    p.device_fingerprint = fp.value;
    std::random_device rd;
    core::setup_secret_bytes secret{};
    for (auto& b : secret)
      b = static_cast<std::uint8_t>(rd());
    p.setup_secret = secret;
    std::string out;
    if (std::error_code ec = core::encode_setup_payload(p, out)) {
      std::fprintf(stderr, "make_payload: %s\n", ec.message().c_str());
      return 1;
    }
    std::printf("%s\n", out.c_str());
    return 0;
  }
  if (what == "guess-code") {
    const std::string avoid = argv[2];
    for (unsigned n = static_cast<unsigned>(std::stoul(argv[3])) % 9000000 + 1000000;; ++n) {
      std::string digits = std::to_string(n);
      digits.push_back(core::verhoeff_check_digit(digits));
      core::setup_code_parse_result r = core::parse_setup_code(digits);
      if (r && digits != avoid && core::to_string(r.value) != avoid) {
        std::printf("%s\n", digits.c_str());
        return 0;
      }
    }
  }
  if (what == "identity") {
    core::error_detail error;
    auto id = lanyard::tls::identity_files::load_or_create(argv[2], argv[3], error);
    if (error) {
      std::fprintf(stderr, "make_payload: %s\n", error.message().c_str());
      return 1;
    }
    std::printf("%s\n", core::to_string(id.fingerprint(), core::fingerprint_format::hex).c_str());
    return 0;
  }
  std::fprintf(stderr, "make_payload: unknown action\n");
  return 2;
}
