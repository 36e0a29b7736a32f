// Crash-safe files for Lanyard's state (trust store, controller store): atomic replacement,
// private permissions, an advisory lock for read-modify-write cycles across processes.
#pragma once

#include "lanyard/trust/error.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace lanyard::trust::detail {

/// Creates `dir` and its missing parents, each created one with mode 0700. Existing
/// directories are left as they are.
store_status ensure_directory(const std::filesystem::path& dir);

/// Reads `path` whole. A missing file is not an error: `exists` is false and `out` empty.
/// Refuses (store_permissions) a file writable by group or others or owned by another user,
/// because anyone who can write it can replace a pin.
store_status read_private_file(const std::filesystem::path& path, std::string& out, bool& exists);

/// Replaces `path` with `contents` so that a crash at any moment leaves either the old or the
/// new file, never a mix: write PATH.tmp (mode 0600), fsync it, rename it over PATH, fsync the
/// directory. Creates the directory (0700) if missing.
///
/// The temporary name is fixed, so the caller must hold a file_lock on the same path: two
/// writers must never interleave. A PATH.tmp left by a crash is overwritten by the next write.
store_status write_file_atomically(const std::filesystem::path& path, std::string_view contents);

/// An exclusive advisory lock (flock) on PATH.lock, held for a read-modify-write cycle so that
/// two processes (an app and `lanyard trust forget`) don't lose each other's changes. Move-only;
/// released by the destructor.
class file_lock {
public:
  file_lock() = default;
  file_lock(file_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  file_lock& operator=(file_lock&& other) noexcept;
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;
  ~file_lock();

  /// Blocks until the lock on `path`.lock is held. Creates the directory (0700) if missing.
  static store_status acquire(const std::filesystem::path& path, file_lock& out);

private:
  int fd_ = -1;
};

/// "PATH: what: strerror(err)" as a store_io status.
store_status io_error(const std::filesystem::path& path, std::string_view what, int err);

} // namespace lanyard::trust::detail
