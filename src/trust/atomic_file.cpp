#include "atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lanyard::trust::detail {
namespace {

std::string mode_string(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Closes fd on scope exit.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

} // namespace

store_status io_error(const std::filesystem::path& path, std::string_view what, int err) {
  return store_status{make_error_code(trust_errc::store_io),
                      path.string() + ": " + std::string(what) + ": " + std::strerror(err)}
      .with(core::field_key::file, path.string())
      .with(core::field_key::os_error, std::int64_t{err});
}

store_status ensure_directory(const std::filesystem::path& dir) {
  if (dir.empty()) return {};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return {make_error_code(trust_errc::store_io),
              dir.string() + ": exists but is not a directory"};
    return {};
  }
  if (errno != ENOENT) return io_error(dir, "cannot inspect directory", errno);
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    store_status parent = ensure_directory(dir.parent_path());
    if (parent.failed()) return parent;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return io_error(dir, "cannot create directory", errno);
  return {};
}

store_status read_private_file(const std::filesystem::path& path, std::string& out, bool& exists) {
  out.clear();
  exists = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    if (errno == ELOOP)
      return store_status{make_error_code(trust_errc::store_permissions),
                          path.string() +
                              ": is a symbolic link; refusing to follow it for a trust file"}
          .with(core::field_key::file, path.string());
    return io_error(path, "cannot open", errno);
  }
  fd_guard guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode))
    return {make_error_code(trust_errc::store_io), path.string() + ": is not a regular file"};
  if (st.st_uid != ::geteuid())
    return store_status{make_error_code(trust_errc::store_permissions),
                        path.string() + ": is owned by uid " + std::to_string(st.st_uid) +
                            ", not by this user (uid " + std::to_string(::geteuid()) +
                            "); refusing to trust it"}
        .with(core::field_key::file, path.string())
        .with("owner_uid", std::uint64_t{st.st_uid});
  if ((st.st_mode & 022) != 0)
    return store_status{
        make_error_code(trust_errc::store_permissions),
        path.string() + ": is writable by group or others (mode " + mode_string(st.st_mode) +
            "), so anyone could replace a pin; run: " + "chmod 600 '" + path.string() + "'"}
        .with(core::field_key::file, path.string())
        .with(core::field_key::mode, mode_string(st.st_mode));
  exists = true;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(path, "cannot read", errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return {};
}

store_status write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  if (store_status s = ensure_directory(dir); s.failed()) return s;
  std::filesystem::path tmp = path;
  tmp += ".tmp";

  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return io_error(tmp, "cannot create", errno);
  {
    fd_guard guard{fd};
    // A leftover PATH.tmp may have another mode; the umask may be stricter or looser.
    if (::fchmod(fd, 0600) != 0) return io_error(tmp, "cannot set mode 0600", errno);
    std::size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::unlink(tmp.c_str());
        return io_error(tmp, "cannot write", err);
      }
      done += static_cast<std::size_t>(n);
    }
    // The data must be on disk before the rename makes it visible, or a crash could leave an
    // empty file under the real name (the ext4 "zero-length file" problem).
    if (::fsync(fd) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return io_error(tmp, "cannot fsync", err);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return io_error(path, "cannot rename the new file into place", err);
  }
  // The rename itself is durable only once the directory is synced.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error(dir, "cannot open directory to fsync it", errno);
  fd_guard dguard{dfd};
  if (::fsync(dfd) != 0) return io_error(dir, "cannot fsync directory", errno);
  return {};
}

file_lock& file_lock::operator=(file_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

file_lock::~file_lock() {
  if (fd_ >= 0) ::close(fd_); // closing releases the flock
}

store_status file_lock::acquire(const std::filesystem::path& path, file_lock& out) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  if (store_status s = ensure_directory(dir); s.failed()) return s;
  std::filesystem::path lock_path = path;
  lock_path += ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return io_error(lock_path, "cannot open lock file", errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd);
    return io_error(lock_path, "cannot lock", err);
  }
  out = file_lock();
  out.fd_ = fd;
  return {};
}

} // namespace lanyard::trust::detail
