/// @file
/// The TXT record an accessory advertises, computed from its state: one function, so that
/// every event that can change the state (the pairing window opened, closed or expired, a
/// controller paired or removed) recomputes it and an advertiser publishes only a record that
/// changed (docs/design/product-api.md § 5). No timer, no polling.
///
///     id=<device id>   the stable device id apps key on (docs/discovery.md)
///     pv=1             the protocol version
///     sf=1 | sf=0      "setup flag": the pairing window is open, no pairing exchange is in
///                      progress and there is room for a controller, so an app may offer
///                      "pair" (an app never trusts it: pairing still needs the payload's secret
///                      or the code). It drops while an exchange runs, as Matter's `CM` does
///                      once a commissioning session starts: other apps around stop offering
///                      to pair an accessory someone is pairing; it comes back if that
///                      exchange fails (or times out, or its connection ends) while the window
///                      is still open.
///
/// Thread-safety: value types and pure functions. No exceptions.
#pragma once

#include <lanyard/core/txt_record.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::core {

/// What the TXT record depends on.
struct accessory_txt_state {
  std::string_view device_id;
  bool pairing_window_open = false;
  std::size_t controllers = 0;
  std::size_t max_controllers = 0;
  /// A pairing exchange has started and not ended (accessory::server::pairings_in_progress()).
  bool pairing_in_progress = false;
};

/// The setup flag the record carries for `state`: sf=1 (see above).
bool accessory_txt_offers_pairing(const accessory_txt_state& state) noexcept;

/// Sets id, pv and sf in `txt`, keeping its other entries (the product's own keys). Errors:
/// txt_record::set()'s (a device id that does not fit a TXT string).
std::error_code set_accessory_txt(const accessory_txt_state& state, txt_record& txt);

/// The most bytes encode_accessory_txt() writes: id with the longest device id a TXT string
/// holds, pv and sf.
inline constexpr std::size_t max_accessory_txt_size = (1 + txt_max_string_size) + 5 + 5;

/// The same record's wire form (RFC 6763 § 6: id, pv, sf, each a length byte and key=value),
/// the bytes set_accessory_txt() and txt_record::encode() give for a record of only these
/// keys, written into `out` without allocating: what firmware publishes with. A product's own
/// keys follow as more strings. Returns the bytes written, or 0 with nothing written if the
/// device id does not fit a TXT string or `out` is shorter.
std::size_t encode_accessory_txt(const accessory_txt_state& state,
                                 std::span<std::uint8_t> out) noexcept;

} // namespace lanyard::core
