// DNS-SD TXT records (RFC 6763 section 6): an owning, ordered record with an encoder and a
// validating decoder, and a non-allocating reader of the wire form for embedded callers.
//
// Wire form: a sequence of strings, each one length byte followed by that many bytes, either
// `key` (a boolean attribute: present, no value) or `key=value` (value: any bytes, possibly
// none). Keys are printable US-ASCII (0x20-0x7E) without '=', at least one byte, and compared
// ASCII case-insensitively; when a key occurs twice the first occurrence wins. The empty record
// is one zero byte. Nothing here throws; errors are std::error_code of txt_category().
#pragma once

#include <lanyard/core/txt_error.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace lanyard::core {

/// The most bytes one TXT string (`key` or `key=value`) can hold: its length is one byte.
inline constexpr std::size_t txt_max_string_size = 255;

/// The most bytes an encoded TXT record can hold: the size of a DNS resource record's data.
inline constexpr std::size_t txt_max_record_size = 65535;

/// How a decoder treats strings that break RFC 6763 section 6.
enum class txt_decode_mode {
  /// Any malformed string is an error: an empty string (except the empty record, a single zero
  /// byte), a missing key ("=value"), a key byte outside 0x20-0x7E. Use it for records this
  /// program produced or must vouch for, e.g. in tests and tools.
  strict,
  /// What a browser does with records from other devices on the LAN (RFC 6763 section 6.4):
  /// strings with a missing key or an invalid key byte, and empty strings, are skipped and
  /// counted instead of failing the whole record. A length byte that runs past the end is still
  /// an error: no later string boundary can be trusted.
  lenient,
};

/// True if two keys are equal ignoring ASCII case (RFC 6763 section 6.4); other bytes compare
/// exactly, so it is safe on keys that were never validated.
///
/// Thread-safety: pure function.
bool txt_key_equal(std::string_view a, std::string_view b) noexcept;

/// Checks that `key` is a valid TXT key: at least one byte, each printable US-ASCII
/// (0x20-0x7E) and not '='.
///
/// @returns empty, txt_errc::empty_key or txt_errc::bad_key_byte.
/// Thread-safety: pure function.
std::error_code check_txt_key(std::string_view key) noexcept;

/// One attribute of a TXT record.
///
/// Thread-safety: a plain value; distinct objects safe, shared objects unsafe to modify.
struct txt_entry {
  /// The key, as spelled by whoever set or sent it (lookups ignore case).
  std::string key;
  /// std::nullopt for a boolean attribute (`key` on the wire); otherwise the value, which may
  /// be empty (`key=`) and may hold any bytes, including '=', NUL and 0xFF.
  std::optional<std::string> value;

  friend bool operator==(const txt_entry&, const txt_entry&) = default;
};

/// One well-formed string of a record seen by txt_reader, pointing into the reader's input.
///
/// Thread-safety: a plain value; valid only while the input bytes live.
struct txt_string_view {
  /// The key (never empty, always valid per check_txt_key()).
  std::string_view key;
  /// std::nullopt for a boolean attribute, otherwise the bytes after the first '='.
  std::optional<std::string_view> value;
  /// 0-based index of this string in the record, counting skipped strings too.
  std::size_t index = 0;
  /// Byte offset of this string's length byte from the start of the record.
  std::size_t offset = 0;
};

/// Walks the strings of an encoded TXT record without allocating: the parser for embedded
/// callers, and what txt_record::decode() is built on.
///
/// Yields every well-formed string in wire order, duplicates included (first-occurrence-wins
/// needs memory; txt_record::decode() applies it, a caller looking up one key simply stops at
/// the first match). Validation follows the mode as described at txt_decode_mode. An empty
/// input and a single zero byte both yield no strings and no error (see txt_record::decode()).
/// Inputs longer than txt_max_record_size fail at once with txt_errc::record_too_long.
///
/// Errors: after next() returns false (or a range-for loop ends), error() tells a clean end
/// from a malformed record. Once an error is reported the reader yields nothing more.
///
/// Thread-safety: distinct objects safe, shared objects unsafe. The input must outlive the
/// reader and every txt_string_view it produced.
///
/// @code
///   txt_reader reader(bytes, txt_decode_mode::lenient);
///   for (const txt_string_view& s : reader) {
///     if (txt_key_equal(s.key, "id")) { use(s.value); break; }
///   }
///   if (reader.error()) log(reader.error().describe());
/// @endcode
class txt_reader {
public:
  /// Input iterator over the strings; `reader.end()` is std::default_sentinel.
  class iterator {
  public:
    using value_type = txt_string_view;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    const txt_string_view& operator*() const noexcept { return current_; }
    const txt_string_view* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept {
      if (!reader_->next(current_)) {
        reader_ = nullptr;
      }
      return *this;
    }
    void operator++(int) noexcept { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.reader_ == nullptr;
    }

  private:
    friend class txt_reader;
    explicit iterator(txt_reader* reader) noexcept : reader_(reader) {}

    txt_reader* reader_ = nullptr;
    txt_string_view current_;
  };

  /// Prepares to read `record`; reads nothing yet.
  explicit txt_reader(std::span<const std::uint8_t> record,
                      txt_decode_mode mode = txt_decode_mode::strict) noexcept;

  /// Reads the next well-formed string into `out`.
  ///
  /// @returns true if it did; false at the end of the record or on an error (see error()), and
  /// on every later call.
  bool next(txt_string_view& out) noexcept;

  /// Reads the first string (begin() reads, so call it once per reader).
  iterator begin() noexcept { return ++iterator(this); }
  std::default_sentinel_t end() const noexcept { return {}; }

  /// The first error met, or an empty detail while reading went fine.
  const txt_error_detail& error() const noexcept { return error_; }

  /// Strings skipped so far (lenient mode only; always 0 in strict mode).
  std::size_t skipped() const noexcept { return skipped_; }

private:
  // Records the error and stops the reader; returns false for next() to pass on.
  bool fail(txt_errc code, std::size_t offset, std::size_t length) noexcept;

  std::span<const std::uint8_t> record_;
  txt_decode_mode mode_;
  std::size_t position_ = 0;
  std::size_t index_ = 0;
  std::size_t skipped_ = 0;
  txt_error_detail error_;
};

struct txt_decoded;

/// An owning DNS-SD TXT record: attributes in order, keys unique ignoring ASCII case.
///
/// Every txt_record is encodable: set() and set_flag() refuse anything that would break a rule
/// (invalid key, a string over 255 bytes, a record over 65535 bytes) and leave the record as it
/// was, and decode() only yields records that obey them. encode() therefore cannot fail.
///
/// Thread-safety: distinct objects safe; a shared object is safe only while no one modifies it.
class txt_record {
public:
  using value_type = txt_entry;
  using const_iterator = std::vector<txt_entry>::const_iterator;

  /// Decodes the wire form of a TXT record (the RDATA of a DNS TXT resource record).
  ///
  /// Both an empty input and a single zero byte decode to the empty record. RFC 1035 does not
  /// allow empty RDATA and RFC 6763 section 6.1 says to send one zero byte, but DNS-SD libraries
  /// (Avahi's string lists, Apple's TXTRecordRef) hand out an empty buffer for an empty record,
  /// and refusing it would only make callers special-case it.
  ///
  /// In both modes the first occurrence of a key wins and later ones are dropped and counted;
  /// the kept attributes stay in wire order. See txt_decode_mode for what each mode refuses.
  ///
  /// @returns the record, or on error an empty record and the error with its position
  /// (txt_errc::truncated, empty_string, empty_key, bad_key_byte or record_too_long).
  /// Thread-safety: reentrant.
  static txt_decoded decode(std::span<const std::uint8_t> data,
                            txt_decode_mode mode = txt_decode_mode::strict);

  /// Sets `key` to `value`: replaces the value of an existing key (found ignoring case; the
  /// entry keeps its place and takes the new spelling of the key) or appends a new entry.
  /// `value` may hold any bytes and may be empty (`key=`, which differs from set_flag()).
  ///
  /// @returns empty on success; txt_errc::empty_key or bad_key_byte for an invalid key,
  /// string_too_long if key, '=' and value exceed 255 bytes, record_too_long if the encoded
  /// record would exceed 65535 bytes. On error the record is unchanged.
  std::error_code set(std::string_view key, std::string_view value);

  /// set() for a binary value.
  std::error_code set(std::string_view key, std::span<const std::uint8_t> value);

  /// Sets `key` as a boolean attribute (present, no value: `key` on the wire), replacing any
  /// value it had. Errors as for set() (string_too_long if the key exceeds 255 bytes).
  std::error_code set_flag(std::string_view key);

  /// The entry for `key` ignoring case, or nullptr. Valid until the record is next modified.
  const txt_entry* find(std::string_view key) const noexcept;

  /// True if `key` is present (as a boolean attribute or with a value), ignoring case.
  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }

  /// Removes `key` (ignoring case); the other entries keep their order.
  ///
  /// @returns true if it was present.
  bool erase(std::string_view key) noexcept;

  /// Removes every entry.
  void clear() noexcept { entries_.clear(); }

  /// Number of entries.
  std::size_t size() const noexcept { return entries_.size(); }

  /// True if there are no entries.
  bool empty() const noexcept { return entries_.empty(); }

  /// The entries in order.
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }

  /// The size of encode()'s result: 1 for the empty record, at most txt_max_record_size.
  std::size_t encoded_size() const noexcept;

  /// The wire form: each entry in order as a length byte and `key` or `key=value`; the empty
  /// record as a single zero byte (RFC 6763 section 6.1).
  std::vector<std::uint8_t> encode() const;

  /// Appends the wire form to `out` (so a caller can build a larger message in one buffer).
  void encode_to(std::vector<std::uint8_t>& out) const;

  /// True if both hold the same entries in the same order, keys spelled the same: exactly when
  /// both encode to the same bytes.
  friend bool operator==(const txt_record&, const txt_record&) = default;

private:
  // set() and set_flag(): validates, then replaces or appends.
  std::error_code assign(std::string_view key, std::optional<std::string_view> value);
  // Index of the entry for `key` ignoring case, or size() if there is none.
  std::size_t index_of(std::string_view key) const noexcept;

  std::vector<txt_entry> entries_;
};

/// What txt_record::decode() returns: the record, or the error and where it was found.
///
/// Thread-safety: a plain value.
struct txt_decoded {
  /// The decoded record; empty if decoding failed.
  txt_record record;
  /// Empty on success; otherwise what was wrong and where (see txt_error_detail::describe()).
  txt_error_detail error;
  /// Lenient mode: malformed strings that were skipped.
  std::size_t skipped = 0;
  /// Strings dropped because an earlier string had the same key (ignoring case).
  std::size_t duplicates = 0;

  /// True if decoding succeeded.
  explicit operator bool() const noexcept { return !error.code; }
};

} // namespace lanyard::core
