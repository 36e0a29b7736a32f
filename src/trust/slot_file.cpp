#include "slot_file.hpp"

#include "atomic_file.hpp"

#include "lanyard/core/crc32c.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lanyard::trust::detail {
namespace {

constexpr std::string_view magic = "lanyard-slots 1 ";
constexpr std::size_t file_header_size = 4096;
constexpr std::size_t slot_granule = 4096;
// Far above what a store holds (a controller store of 16 is under 16 KiB), far below what
// would make reading it whole a problem.
constexpr std::size_t max_slot_size = 64u << 20;
// "slot " + 20 + " " + 20 + " " + 8 + "\n" is 56: a header line is found within this.
constexpr std::size_t max_slot_header = 64;

/// "PATH: what" as store_corrupt, with the fields file and problem (docs/diagnostics.md).
store_status corrupt_file(const std::filesystem::path& path, std::string_view problem,
                          const std::string& what) {
  return store_status{make_error_code(trust_errc::store_corrupt), path.string() + ": " + what}
      .with(core::field_key::file, path.string())
      .with(core::field_key::problem, std::string(problem));
}

// A canonical unsigned decimal (no sign, no leading zero unless it is "0").
bool parse_decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

std::uint32_t slot_crc(std::uint64_t generation, std::size_t length, std::string_view contents) {
  const std::string covered = std::to_string(generation) + " " + std::to_string(length) + "\n";
  const auto bytes = [](std::string_view v) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(v.data()), v.size());
  };
  return core::crc32c(bytes(contents), core::crc32c(bytes(covered)));
}

std::string slot_header(std::uint64_t generation, std::string_view contents) {
  char crc[9];
  std::snprintf(crc, sizeof crc, "%08x",
                static_cast<unsigned>(slot_crc(generation, contents.size(), contents)));
  return "slot " + std::to_string(generation) + " " + std::to_string(contents.size()) + " " + crc +
         "\n";
}

// The contents of one slot if it is intact.
bool read_slot(std::string_view slot, std::uint64_t& generation, std::string_view& contents) {
  const std::size_t nl = slot.substr(0, max_slot_header).find('\n');
  if (nl == std::string_view::npos) return false;
  std::string_view line = slot.substr(0, nl);
  if (line.substr(0, 5) != "slot ") return false;
  line.remove_prefix(5);
  const std::size_t a = line.find(' ');
  const std::size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  std::uint64_t length = 0;
  const std::string_view crc_text = line.substr(b + 1);
  if (!parse_decimal(line.substr(0, a), generation) || generation == 0 ||
      !parse_decimal(line.substr(a + 1, b - a - 1), length) || crc_text.size() != 8 ||
      length > slot.size() - nl - 1)
    return false;
  std::uint32_t crc = 0;
  for (char c : crc_text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    crc = crc << 4 | static_cast<std::uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  contents = slot.substr(nl + 1, static_cast<std::size_t>(length));
  return slot_crc(generation, contents.size(), contents) == crc;
}

std::size_t round_up(std::size_t n, std::size_t granule) {
  return (n + granule - 1) / granule * granule;
}

// Replaces the file with a slotted one whose slot 0 holds `contents`.
store_status create(const std::filesystem::path& path, slot_file_state& state,
                    std::string_view contents) {
  const std::uint64_t generation = state.generation + 1;
  const std::string slot0 = slot_header(generation, contents) + std::string(contents);
  // Room for the contents to double before the file must be replaced again.
  const std::size_t size = round_up(std::max(slot_granule, 2 * slot0.size()), slot_granule);
  if (size > max_slot_size)
    return {make_error_code(trust_errc::store_io), path.string() + ": " +
                                                       std::to_string(contents.size()) +
                                                       " bytes of state do not fit a slot file"};
  std::string file = std::string(magic) + std::to_string(size) + "\n";
  file.resize(file_header_size, '\0');
  file += slot0;
  file.resize(file_header_size + 2 * size, '\0');
  if (store_status s = write_file_atomically(path, file); s.failed()) return s;
  state = {true, size, 0, generation};
  return {};
}

} // namespace

store_status read_slot_file(const std::filesystem::path& path, std::string& contents, bool& exists,
                            slot_file_state& state) {
  state = {};
  std::string file;
  if (store_status s = read_private_file(path, file, exists); s.failed() || !exists) {
    contents.clear();
    return s;
  }
  if (std::string_view(file).substr(0, magic.size()) != magic) {
    contents = std::move(file); // the plain format: the contents, whole
    return {};
  }
  const std::size_t nl = std::string_view(file).substr(0, 64).find('\n');
  std::uint64_t size = 0;
  if (nl == std::string_view::npos ||
      !parse_decimal(std::string_view(file).substr(magic.size(), nl - magic.size()), size) ||
      size < slot_granule || size > max_slot_size || size % slot_granule != 0)
    return corrupt_file(path, "damaged_header",
                        "damaged slot-file header (expected \"lanyard-slots 1 SIZE\")");
  if (file.size() != file_header_size + 2 * size)
    return corrupt_file(path, "wrong_size",
                        "is " + std::to_string(file.size()) + " bytes, its header says " +
                            std::to_string(file_header_size + 2 * size) +
                            ": the file was truncated or extended");
  std::uint64_t best_generation = 0;
  std::string_view best;
  int best_index = -1;
  for (int i = 0; i < 2; ++i) {
    std::uint64_t generation = 0;
    std::string_view slot_contents;
    const std::string_view slot = std::string_view(file).substr(
        file_header_size + static_cast<std::size_t>(i) * size, static_cast<std::size_t>(size));
    if (read_slot(slot, generation, slot_contents) && generation > best_generation) {
      best_generation = generation;
      best = slot_contents;
      best_index = i;
    }
  }
  if (best_index < 0)
    return corrupt_file(path, "no_intact_copy",
                        "neither of its two copies is intact; restore it from a backup or "
                        "remove it (which forgets every controller)");
  contents.assign(best);
  state = {true, static_cast<std::size_t>(size), best_index, best_generation};
  return {};
}

store_status write_slot_file(const std::filesystem::path& path, slot_file_state& state,
                             std::string_view contents) {
  const std::uint64_t generation = state.generation + 1;
  const std::string bytes = slot_header(generation, contents) + std::string(contents);
  if (!state.slotted || state.newest < 0 || bytes.size() > state.slot_size)
    return create(path, state, contents);
  const int target = state.newest == 0 ? 1 : 0;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return io_error(path, "cannot open for writing", errno);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{fd};
  // Still the file that was read (same size; read_private_file checked owner and mode).
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode) ||
      static_cast<std::size_t>(st.st_size) != file_header_size + 2 * state.slot_size)
    return corrupt_file(path, "size_changed", "changed size while locked; not writing into it");
  const off_t at =
      static_cast<off_t>(file_header_size + static_cast<std::size_t>(target) * state.slot_size);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, at + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(path, "cannot write", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  // Data blocks that already exist, same size: no metadata to flush, so fdatasync is one
  // flush of the slot (what makes this cheaper than a new file and a rename).
  if (::fdatasync(fd) != 0) return io_error(path, "cannot fdatasync", errno);
  state.newest = target;
  state.generation = generation;
  return {};
}

} // namespace lanyard::trust::detail
