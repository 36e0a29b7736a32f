// The replaceable allocation functions, each counting once start() was called, then malloc /
// aligned_alloc (so every delete is free, whichever form). Replacement functions may not be
// inline: this file is the one place they are defined for the lamp.
#include "allocation_count.hpp"

#include <execinfo.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <new>

namespace lamp::allocation_count {
namespace {

bool counting = false;
std::size_t count = 0;
int trace_file = -1;

// One counted allocation: with a trace file, its call stack goes there (backtrace_symbols_fd
// writes without allocating; `addr2line -f -C -e firmware-lamp +OFFSET` names the frames).
void counted() noexcept {
  ++count;
  if (trace_file < 0) return;
  void* frames[24];
  backtrace_symbols_fd(frames, backtrace(frames, 24), trace_file);
  (void)!::write(trace_file, "--\n", 3);
}

void* allocate(std::size_t size) noexcept {
  if (counting) counted();
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate(std::size_t size, std::align_val_t alignment) noexcept {
  if (counting) counted();
  const auto a = static_cast<std::size_t>(alignment);
  // aligned_alloc wants a multiple of the alignment.
  return std::aligned_alloc(a, ((size == 0 ? 1 : size) + a - 1) / a * a);
}

} // namespace

void start() noexcept {
  if (const char* path = std::getenv("FIRMWARE_LAMP_TRACE_ALLOCATIONS")) {
    trace_file = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    void* frames[2];
    (void)backtrace(frames, 2); // loads the unwinder now, not inside a counted allocation
  }
  count = 0;
  counting = true;
}

std::size_t since_start() noexcept {
  return count;
}

} // namespace lamp::allocation_count

// Built without exceptions: an allocation that fails where one is required ends the program,
// as the library's own would.
void* operator new(std::size_t size) {
  if (void* p = lamp::allocation_count::allocate(size)) return p;
  std::abort();
}
void* operator new[](std::size_t size) {
  return ::operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return lamp::allocation_count::allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return lamp::allocation_count::allocate(size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (void* p = lamp::allocation_count::allocate(size, alignment)) return p;
  std::abort();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return ::operator new(size, alignment);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return lamp::allocation_count::allocate(size, alignment);
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return lamp::allocation_count::allocate(size, alignment);
}

void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
