#include <lanyard/core/relay_error.hpp>

#include <lanyard/core/error_condition.hpp>

#include <string>
#include <string_view>

namespace lanyard::core {
namespace {

class relay_category_impl final : public lanyard_category {
public:
  const char* name() const noexcept override { return "lanyard.relay"; }

#if LANYARD_ERROR_MESSAGES // else lanyard_category::message() names the code
  std::string message(int value) const override {
    switch (static_cast<relay_errc>(value)) {
    case relay_errc::truncated:
      return "relay frame truncated: fewer bytes than its header or body needs";
    case relay_errc::bad_version:
      return "relay frame of another protocol version: update the app or the accessory";
    case relay_errc::bad_type:
      return "relay frame of an unknown type";
    case relay_errc::trailing_bytes:
      return "relay frame has bytes after its end";
    case relay_errc::bad_data_size:
      return "relay DATA frame is empty or larger than 16384 bytes";
    case relay_errc::bad_address:
      return "relay account or inbox name is empty, too long, or holds a byte other than "
             "A-Z, a-z, 0-9, '-' and '_'";
    case relay_errc::sequence_gap:
      return "relay tunnel frame out of order: one was lost or forged on the way through the "
             "broker (the connection ends; the session resumes on the next one)";
    case relay_errc::buffer_too_small:
      return "buffer too small for the relay frame";
    }
    return "unknown relay error " + std::to_string(value);
  }
#endif

  std::string_view code_name(int code) const noexcept override {
    switch (static_cast<relay_errc>(code)) {
    case relay_errc::truncated:
      return "truncated";
    case relay_errc::bad_version:
      return "bad_version";
    case relay_errc::bad_type:
      return "bad_type";
    case relay_errc::trailing_bytes:
      return "trailing_bytes";
    case relay_errc::bad_data_size:
      return "bad_data_size";
    case relay_errc::bad_address:
      return "bad_address";
    case relay_errc::sequence_gap:
      return "sequence_gap";
    case relay_errc::buffer_too_small:
      return "buffer_too_small";
    }
    return {};
  }

  // What callers branch on (lanyard/core/error_condition.hpp): what the broker or a peer sent
  // is a protocol violation; a gap ends only this tunnel, so another connection may work.
  condition_set conditions(int code) const noexcept override {
    using enum condition;
    switch (static_cast<relay_errc>(code)) {
    case relay_errc::truncated:
    case relay_errc::bad_type:
    case relay_errc::trailing_bytes:
    case relay_errc::bad_data_size:
      return {protocol_violation};
    case relay_errc::bad_version:
      return {protocol_violation, permanent};
    case relay_errc::sequence_gap:
      return {protocol_violation, transient};
    case relay_errc::bad_address:
    case relay_errc::buffer_too_small:
      return {permanent};
    }
    return {};
  }
};

} // namespace

const std::error_category& relay_category() noexcept {
  static const relay_category_impl category;
  return category;
}

} // namespace lanyard::core
