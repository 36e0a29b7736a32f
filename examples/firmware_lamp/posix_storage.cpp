#include "posix_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace lamp {
namespace {

// DIR/KEY (and DIR/KEY.tmp): false if it does not fit.
bool path_of(const posix_storage& s, const char* key, const char* suffix, char (&out)[512]) {
  const int n = std::snprintf(out, sizeof out, "%s/%s%s", s.directory, key, suffix);
  return n > 0 && static_cast<std::size_t>(n) < sizeof out;
}

} // namespace

int storage_load(void* user, const char* key, std::byte* out, std::size_t capacity,
                 std::size_t* size) {
  const auto& s = *static_cast<const posix_storage*>(user);
  char path[512];
  if (!path_of(s, key, "", path)) return -1;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 1 : -1;
  std::size_t total = 0;
  bool failed = false;
  for (;;) {
    const ssize_t n = ::read(fd, out + total, capacity - total);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failed = n < 0;
      break;
    }
    total += static_cast<std::size_t>(n);
    if (total == capacity) {
      // Full: a byte more means a blob larger than the capacity, a failure (never cut short).
      std::byte extra{};
      failed = ::read(fd, &extra, 1) != 0;
      break;
    }
  }
  ::close(fd);
  if (failed) return -1;
  *size = total;
  return 0;
}

int storage_save(void* user, const char* key, const std::byte* data, std::size_t size) {
  const auto& s = *static_cast<const posix_storage*>(user);
  char path[512];
  char tmp[512];
  if (!path_of(s, key, "", path) || !path_of(s, key, ".tmp", tmp)) return -1;
  const int fd = ::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp);
      return -1;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp);
    return -1;
  }
  if (::rename(tmp, path) != 0) {
    ::unlink(tmp);
    return -1;
  }
  return 0;
}

} // namespace lamp
