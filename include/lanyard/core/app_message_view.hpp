/// @file
/// Application messages (app_message.hpp) without the heap: a parsed message as views into the
/// text it came in, and a writer that builds one in fixed room. What a firmware accessory
/// serves its service messages with (administration, provisioning): the payload stays in the
/// session's frame buffer while it is served, and the reply is built on the stack. The
/// grammar and the limits are app_message.hpp's; parse_app_message() is this parser with the
/// views copied into strings.
///
/// Thread-safety: value types and pure functions; distinct objects are safe. Never allocates.
#pragma once

#include "lanyard/core/app_message.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>

namespace lanyard::core {

/// One field of a message, as views.
struct app_message_field {
  std::string_view key;
  std::string_view value;
};

/// One message as views into the text it was parsed from: valid as long as that text is.
struct app_message_view {
  std::string_view verb;
  std::array<app_message_field, app_message::max_fields> field_room{};
  std::size_t field_count = 0;

  /// The fields, in order.
  std::span<const app_message_field> fields() const noexcept {
    return {field_room.data(), field_count};
  }
  /// The value of `key`, if present.
  std::optional<std::string_view> get(std::string_view key) const noexcept;
  /// An unsigned integer field in [min, max], as app_message::get_uint().
  std::optional<std::uint64_t> get_uint(std::string_view key, std::uint64_t min,
                                        std::uint64_t max) const noexcept;
};

/// A view of `m`'s verb and fields (the first max_fields: a parsed message has no more), valid
/// as long as `m` is and is not changed.
app_message_view view_of(const app_message& m) noexcept;

/// percent_encode() into `out`: the bytes written, or 0 with nothing written if they would not
/// fit (each byte takes at most 3).
std::size_t percent_encode(std::string_view text, std::span<char> out) noexcept;

/// The result of parse_app_message_view(): the message, or what is wrong and where (the same
/// codes and positions as parse_app_message()).
struct app_message_view_parse_result {
  app_message_view message;
  std::error_code code;
  /// 0-based byte offset of the offending token (or of the byte that broke a limit).
  std::size_t position = 0;
  explicit operator bool() const noexcept { return !code; }
};

/// Parses one message; the views point into `text`. Never reads outside it.
app_message_view_parse_result parse_app_message_view(std::string_view text) noexcept;
/// As above, for a channel payload.
app_message_view_parse_result parse_app_message_view(std::span<const std::byte> payload) noexcept;

/// Builds one message in room of its own (app_message::max_size bytes): the verb, then each
/// field in the order set. The first field that breaks the grammar or a limit (a bad key or
/// value, a key set twice, a 17th field, more than max_size bytes) is kept as error() and
/// nothing more is written; text() is then empty. Unlike app_message::set(), a key set twice is
/// an error, not a replacement.
class app_message_writer {
public:
  explicit app_message_writer(std::string_view verb) noexcept;

  app_message_writer& set(std::string_view key, std::string_view value) noexcept;
  app_message_writer& set(std::string_view key, std::uint64_t value) noexcept;

  /// The first error (app_message_errc), or none.
  std::error_code error() const noexcept { return error_; }
  /// The message ("v1 verb key=value ..."), empty after an error; valid while the writer lives
  /// and is not changed.
  std::string_view text() const noexcept {
    return error_ ? std::string_view{} : std::string_view(room_.data(), size_);
  }
  /// text() as a channel payload.
  std::span<const std::byte> bytes() const noexcept { return std::as_bytes(std::span(text())); }

private:
  bool append(std::string_view s) noexcept;

  std::array<char, app_message::max_size> room_;
  std::size_t size_ = 0;
  // Where each key is in room_ (offsets, not views: a copied writer stays right).
  std::array<std::uint16_t, app_message::max_fields> key_at_{};
  std::array<std::uint8_t, app_message::max_fields> key_size_{};
  std::size_t field_count_ = 0;
  std::error_code error_;
};

} // namespace lanyard::core
