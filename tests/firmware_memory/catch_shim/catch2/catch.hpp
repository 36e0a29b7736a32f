// Stands in for Catch2 when firmware_memory reuses tests/unit/firmware/firmware_harness.hpp
// outside a test runner: the harness's REQUIRE and FAIL become checks that print the failed
// condition and abort. This directory comes first on firmware_memory's include path only.
#pragma once
#include <cstdio>
#include <cstdlib>

#define REQUIRE(...)                                                                               \
  do {                                                                                             \
    if (!(__VA_ARGS__)) {                                                                          \
      std::fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #__VA_ARGS__);       \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)
#define FAIL(message)                                                                              \
  do {                                                                                             \
    std::fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, message);                        \
    std::abort();                                                                                  \
  } while (false)
