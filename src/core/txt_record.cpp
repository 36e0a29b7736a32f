#include <lanyard/core/txt_record.hpp>

#include <algorithm>
#include <cstring>
#include <numeric>

namespace lanyard::core {
namespace {

// Locale-independent on purpose: std::tolower would fold bytes >= 0x80 in some locales, and
// RFC 6763 keys are ASCII-only.
constexpr unsigned char ascii_lower(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

constexpr bool is_key_byte(unsigned char c) noexcept {
  return c >= 0x20 && c <= 0x7E && c != '=';
}

// Orders keys ignoring ASCII case, so that equal keys (per txt_key_equal) sort together.
bool key_less(std::string_view a, std::string_view b) noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return ascii_lower(static_cast<unsigned char>(x)) < ascii_lower(static_cast<unsigned char>(y));
  });
}

// Bytes of one string after its length byte: the key, and '=' plus the value if there is one.
std::size_t string_size(std::size_t key_size, const auto& value) noexcept {
  return key_size + (value ? 1 + value->size() : 0);
}

std::size_t wire_size(const txt_entry& e) noexcept {
  return 1 + string_size(e.key.size(), e.value);
}

} // namespace

bool txt_key_equal(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return ascii_lower(static_cast<unsigned char>(x)) == ascii_lower(static_cast<unsigned char>(y));
  });
}

std::error_code check_txt_key(std::string_view key) noexcept {
  if (key.empty()) {
    return txt_errc::empty_key;
  }
  for (const char c : key) {
    if (!is_key_byte(static_cast<unsigned char>(c))) {
      return txt_errc::bad_key_byte;
    }
  }
  return {};
}

// --- txt_reader -------------------------------------------------------------------------------

txt_reader::txt_reader(std::span<const std::uint8_t> record, txt_decode_mode mode) noexcept
    : record_(record), mode_(mode) {
  if (record.size() > txt_max_record_size) {
    // No DNS message can carry this, so the input is not TXT RDATA; refusing it also keeps
    // every decoded txt_record encodable.
    error_.code = txt_errc::record_too_long;
    error_.record_size = record.size();
    position_ = record.size();
  }
}

bool txt_reader::fail(txt_errc code, std::size_t offset, std::size_t length) noexcept {
  error_.code = code;
  error_.string_index = index_ - 1;
  error_.offset = offset;
  error_.length = length;
  error_.record_size = record_.size();
  position_ = record_.size();
  return false;
}

bool txt_reader::next(txt_string_view& out) noexcept {
  const bool lenient = mode_ == txt_decode_mode::lenient;
  while (position_ < record_.size()) {
    const std::size_t offset = position_;
    const std::size_t index = index_++;
    const std::size_t length = record_[offset];
    // Compare against what is left rather than computing offset + 1 + length first: the
    // subtraction cannot overflow because offset < size here.
    if (length > record_.size() - offset - 1) {
      return fail(txt_errc::truncated, offset, length);
    }
    position_ = offset + 1 + length;
    const std::string_view bytes(reinterpret_cast<const char*>(record_.data() + offset + 1),
                                 length);

    if (bytes.empty()) {
      if (record_.size() == 1) {
        return false; // the empty record: one zero byte, no strings
      }
      if (lenient) {
        ++skipped_;
        continue;
      }
      return fail(txt_errc::empty_string, offset, length);
    }

    // The key ends at the first '='; later '=' bytes belong to the value.
    const std::size_t equals = bytes.find('=');
    const std::string_view key = bytes.substr(0, equals);
    if (key.empty()) {
      if (lenient) {
        ++skipped_;
        continue;
      }
      return fail(txt_errc::empty_key, offset, length);
    }
    const auto bad = std::find_if_not(
        key.begin(), key.end(), [](char c) { return is_key_byte(static_cast<unsigned char>(c)); });
    if (bad != key.end()) {
      if (lenient) {
        ++skipped_;
        continue;
      }
      error_.bad_offset = offset + 1 + static_cast<std::size_t>(bad - key.begin());
      error_.bad_byte = static_cast<std::uint8_t>(*bad);
      return fail(txt_errc::bad_key_byte, offset, length);
    }

    out.key = key;
    out.value = equals == std::string_view::npos
                    ? std::nullopt
                    : std::optional<std::string_view>(bytes.substr(equals + 1));
    out.index = index;
    out.offset = offset;
    return true;
  }
  return false;
}

// --- txt_record -------------------------------------------------------------------------------

txt_decoded txt_record::decode(std::span<const std::uint8_t> data, txt_decode_mode mode) {
  txt_decoded result;
  txt_reader reader(data, mode);
  std::vector<txt_string_view> strings;
  txt_string_view s;
  while (reader.next(s)) {
    strings.push_back(s);
  }
  if (reader.error()) {
    result.error = reader.error();
    return result;
  }
  result.skipped = reader.skipped();

  // First occurrence wins. A stable sort by key groups equal keys with the earliest first, so
  // duplicates are found in O(n log n): a record from the LAN can hold ~32000 strings, and a
  // quadratic scan over those is a denial of service on the browser.
  std::vector<std::uint32_t> order(strings.size());
  std::iota(order.begin(), order.end(), 0U);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return key_less(strings[a].key, strings[b].key);
  });
  std::vector<bool> keep(strings.size(), true);
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (txt_key_equal(strings[order[i]].key, strings[order[i - 1]].key)) {
      keep[order[i]] = false;
      ++result.duplicates;
    }
  }

  auto& entries = result.record.entries_;
  entries.reserve(strings.size() - result.duplicates);
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (keep[i]) {
      const txt_string_view& str = strings[i];
      entries.push_back({std::string(str.key),
                         str.value ? std::optional<std::string>(*str.value) : std::nullopt});
    }
  }
  return result;
}

std::error_code txt_record::set(std::string_view key, std::string_view value) {
  return assign(key, value);
}

std::error_code txt_record::set(std::string_view key, std::span<const std::uint8_t> value) {
  return assign(key, std::string_view(reinterpret_cast<const char*>(value.data()), value.size()));
}

std::error_code txt_record::set_flag(std::string_view key) {
  return assign(key, std::nullopt);
}

std::error_code txt_record::assign(std::string_view key, std::optional<std::string_view> value) {
  if (auto ec = check_txt_key(key)) {
    return ec;
  }
  const std::size_t new_string = string_size(key.size(), value);
  if (new_string > txt_max_string_size) {
    return txt_errc::string_too_long;
  }
  const std::size_t i = index_of(key);
  const bool replacing = i < entries_.size();
  // The strings only: the lone zero byte of the empty record is not one of them.
  const std::size_t others =
      (empty() ? 0 : encoded_size()) - (replacing ? wire_size(entries_[i]) : 0);
  if (others + 1 + new_string > txt_max_record_size) {
    return txt_errc::record_too_long;
  }

  std::optional<std::string> stored;
  if (value) {
    stored.emplace(*value);
  }
  if (replacing) {
    entries_[i].key.assign(key);
    entries_[i].value = std::move(stored);
  } else {
    entries_.push_back({std::string(key), std::move(stored)});
  }
  return {};
}

std::size_t txt_record::index_of(std::string_view key) const noexcept {
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const txt_entry& e) { return txt_key_equal(e.key, key); });
  return static_cast<std::size_t>(it - entries_.begin());
}

const txt_entry* txt_record::find(std::string_view key) const noexcept {
  const std::size_t i = index_of(key);
  return i < entries_.size() ? &entries_[i] : nullptr;
}

bool txt_record::erase(std::string_view key) noexcept {
  const std::size_t i = index_of(key);
  if (i == entries_.size()) {
    return false;
  }
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
  return true;
}

std::size_t txt_record::encoded_size() const noexcept {
  if (entries_.empty()) {
    return 1;
  }
  std::size_t total = 0;
  for (const txt_entry& e : entries_) {
    total += wire_size(e);
  }
  return total;
}

std::vector<std::uint8_t> txt_record::encode() const {
  std::vector<std::uint8_t> out;
  encode_to(out);
  return out;
}

void txt_record::encode_to(std::vector<std::uint8_t>& out) const {
  if (entries_.empty()) {
    out.push_back(0); // RFC 6763 section 6.1: an empty TXT record is one empty string
    return;
  }
  out.reserve(out.size() + encoded_size());
  for (const txt_entry& e : entries_) {
    // set() and decode() keep every string within 255 bytes, so this cannot truncate.
    out.push_back(static_cast<std::uint8_t>(wire_size(e) - 1));
    out.insert(out.end(), e.key.begin(), e.key.end());
    if (e.value) {
      out.push_back('=');
      out.insert(out.end(), e.value->begin(), e.value->end());
    }
  }
}

} // namespace lanyard::core
