#include "state_file.hpp"

#include "lanyard/core/crc32c.hpp"

#include <algorithm>
#include <cstdio>

namespace lanyard::trust::detail {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";
// system_clock counts nanoseconds in 64 bits: it ends in 2262.
constexpr int max_year = 2200;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_uint(std::string_view s, unsigned long long max, unsigned long long& out) {
  if (s.empty() || s.size() > 19) return false;
  if (s.size() > 1 && s[0] == '0') return false; // canonical form only
  unsigned long long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t sp = line.find(' ', start);
    fields.push_back(line.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return fields;
}

} // namespace

store_status corrupt(std::string_view file, std::size_t line, std::string_view problem,
                     std::string_view what) {
  return store_status{make_error_code(trust_errc::store_corrupt),
                      std::string(file) + ":" + std::to_string(line) + ": " + std::string(what)}
      .with(core::field_key::file, std::string(file))
      .with(core::field_key::line, std::uint64_t{line})
      .with(core::field_key::problem, std::string(problem));
}

std::string excerpt(std::string_view text) {
  std::string out = "\"";
  std::size_t n = 0;
  for (char c : text) {
    if (++n > 40) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F && c != '"' && c != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += hex_digits[u >> 4];
      out += hex_digits[u & 0xF];
    }
  }
  return out + "\"";
}

store_status parse_state_file(
    std::string_view text, std::string_view file, std::string_view magic,
    const std::function<store_status(std::size_t, const std::vector<std::string_view>&)>&
        on_record) {
  const std::string expected_header = std::string(magic) + " 1";
  if (text.empty())
    return corrupt(file, 1, "empty_file",
                   "the file is empty (expected \"" + expected_header + "\")");

  std::size_t pos = 0;
  std::size_t line_no = 0;
  std::size_t records = 0;
  bool ended = false;
  while (pos < text.size()) {
    ++line_no;
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      return corrupt(file, line_no, "incomplete_line",
                     "the last line " + excerpt(text.substr(pos)) +
                         " is incomplete: the file was truncated");
    const std::string_view line = text.substr(pos, nl - pos);
    const std::size_t line_start = pos;
    pos = nl + 1;

    if (ended)
      return corrupt(file, line_no, "text_after_end", "unexpected text after the \"end\" line");
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto u = static_cast<unsigned char>(line[i]);
      if (u < 0x20 || u >= 0x7F)
        return corrupt(file, line_no, "unexpected_byte",
                       "unexpected byte 0x" + std::string{hex_digits[u >> 4], hex_digits[u & 0xF]} +
                           " at column " + std::to_string(i + 1))
            .with(core::field_key::position, std::uint64_t{i + 1});
    }

    if (line_no == 1) {
      if (line == expected_header) continue;
      if (line.substr(0, magic.size() + 1) == std::string(magic) + " ")
        return store_status{make_error_code(trust_errc::store_unsupported_version),
                            std::string(file) + ":1: format version " +
                                excerpt(line.substr(magic.size() + 1)) +
                                " is newer than this Lanyard understands (1); upgrade Lanyard"}
            .with(core::field_key::file, std::string(file))
            .with(core::field_key::line, std::uint64_t{1})
            .with(core::field_key::problem, std::string("newer_version"));
      return corrupt(file, 1, "wrong_header",
                     "expected \"" + expected_header + "\", found " + excerpt(line) +
                         ": this is not a Lanyard " + std::string(magic).substr(8) + " file");
    }

    const std::vector<std::string_view> fields = split(line);
    if (fields[0] == "end") {
      unsigned long long count = 0;
      if (fields.size() != 3 || !parse_uint(fields[1], ~0ULL, count) || fields[2].size() != 8)
        return corrupt(file, line_no, "malformed_end_line",
                       "malformed end line " + excerpt(line) + " (expected \"end COUNT CRC32C\")");
      if (count != records)
        return corrupt(file, line_no, "record_count_mismatch",
                       "the end line counts " + std::to_string(count) + " records but " +
                           std::to_string(records) + " precede it: lines were lost or added");
      std::uint32_t crc = 0;
      for (char c : fields[2]) {
        const int v = hex_value(c);
        if (v < 0 || (c >= 'A' && c <= 'F')) // lowercase only: one spelling per file
          return corrupt(file, line_no, "malformed_checksum",
                         "malformed checksum " + excerpt(fields[2]));
        crc = (crc << 4) | static_cast<std::uint32_t>(v);
      }
      if (crc != core::crc32c(text.substr(0, line_start)))
        return corrupt(file, line_no, "checksum_mismatch",
                       "checksum mismatch: lines 1-" + std::to_string(line_no - 1) +
                           " were changed or damaged after they were written");
      ended = true;
      continue;
    }
    ++records;
    if (store_status s = on_record(line_no, fields); s.failed()) return s;
  }
  if (line_no == 1 && !ended)
    return corrupt(file, 2, "missing_end_line",
                   "missing the final \"end\" line: the file was truncated");
  if (!ended)
    return corrupt(file, line_no + 1, "missing_end_line",
                   "missing the final \"end\" line: the file was truncated");
  return {};
}

void finish_state_file(std::string& text, std::size_t record_count) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x", static_cast<unsigned>(core::crc32c(text)));
  text += "end " + std::to_string(record_count) + " " + crc + "\n";
}

std::chrono::system_clock::time_point clamp_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  return std::clamp<system_clock::time_point>(
      t, sys_seconds{}, sys_seconds{sys_days{year{max_year} / 12 / 31}} + 86399s);
}

std::string format_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  // Clamp to what parse_time() accepts, so a written file always reads back.
  const auto secs = std::clamp(floor<seconds>(t), sys_seconds{},
                               sys_seconds{sys_days{year{max_year} / 12 / 31}} + 86399s);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

bool parse_time(std::string_view s, std::chrono::system_clock::time_point& out) {
  using namespace std::chrono;
  // YYYY-MM-DDTHH:MM:SSZ
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z')
    return false;
  auto num = [&](std::size_t at, std::size_t len, int& v) {
    v = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
      !num(17, 2, se))
    return false;
  if (y < 1970 || y > max_year || h > 23 || mi > 59 || se > 59) return false;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  out = system_clock::time_point{sys_days{ymd} + hours{h} + minutes{mi} + seconds{se}};
  return true;
}

std::string encode_text(std::string_view text) {
  if (text.empty()) return "-";
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u <= 0x20 || u >= 0x7F || u == '%' || (i == 0 && u == '-')) {
      out += '%';
      out += "0123456789ABCDEF"[u >> 4];
      out += "0123456789ABCDEF"[u & 0xF];
    } else {
      out += static_cast<char>(u);
    }
  }
  return out;
}

bool decode_text(std::string_view field, std::string& out) {
  out.clear();
  if (field == "-") return true;
  if (field.empty() || field[0] == '-') return false;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out += field[i];
      continue;
    }
    if (i + 2 >= field.size()) return false;
    const int hi = hex_value(field[i + 1]);
    const int lo = hex_value(field[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>((hi << 4) | lo);
    i += 2;
  }
  return true;
}

} // namespace lanyard::trust::detail
