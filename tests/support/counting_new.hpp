// Replaces operator new and delete for a whole test executable and counts every operator new
// (throwing and nothrow forms) made while `counting` is true: the tests that prove a sans-IO
// part allocates nothing once it exists (mdns_responder_alloc_test, session_memory_test).
// Include it in exactly one translation unit of the executable: replacement functions may not
// be inline. Every new here is malloc and every delete free, so they always match (ASan checks
// that too).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace lanyard::test::alloc_count {
inline bool counting = false;
inline std::size_t allocations = 0;
// While true, the nothrow forms return null (how a firmware's heap runs out): set it only
// around the code under test, as Catch allocates with those forms too.
inline bool nothrow_fails = false;
} // namespace lanyard::test::alloc_count

void* operator new(std::size_t size) {
  if (lanyard::test::alloc_count::counting) ++lanyard::test::alloc_count::allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  std::abort();
}
void* operator new[](std::size_t size) {
  return ::operator new(size);
}
// Catch allocates with the nothrow forms.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (lanyard::test::alloc_count::counting) ++lanyard::test::alloc_count::allocations;
  if (lanyard::test::alloc_count::nothrow_fails) return nullptr;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return ::operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
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
