# All of Lanyard's build options, in one place.
option(LANYARD_BUILD_TESTS "Build unit and integration tests" ON)
option(LANYARD_BUILD_EXAMPLES "Build examples/" ON)
option(LANYARD_BUILD_SIM "Build firmware-sim (lanyard-accessory-sim)" ON)
option(LANYARD_BUILD_TOOLS "Build the lanyard CLI and lanyard-bench" ON)
option(LANYARD_BUILD_FUZZERS "Build libFuzzer targets (needs clang)" OFF)
option(LANYARD_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(LANYARD_WERROR "Treat warnings as errors" ON)
# core-freestanding: only what firmware links (lanyard::core, lanyard::tls_engine) and their
# unit tests, all compiled with -fno-exceptions -fno-rtti (proves they need neither) and without
# asio or Avahi.
option(LANYARD_CORE_ONLY "Build only lanyard::core, lanyard::tls_engine and their unit tests" OFF)
option(LANYARD_FREESTANDING
       "Compile lanyard::tls_engine and the core's and engine's unit tests with -fno-exceptions -fno-rtti"
       OFF)
# OFF: the error categories' sentences (message()) are not compiled, 17 KB of a Cortex-M4 build
# (strings and the code around them); message() then names the code ("lanyard.txt.empty_key
# (3); ..."), and code_name(), code_string() and the conditions are unchanged. For firmware
# short of flash (docs/firmware.md); a PUBLIC definition of lanyard::core
# (LANYARD_ERROR_MESSAGES=0), so lanyard::crypto, tls_engine and firmware, which link it, follow.
option(LANYARD_ERROR_MESSAGES "Compile the error categories' message texts" ON)

set(LANYARD_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(LANYARD_WERROR)
  list(APPEND LANYARD_WARNINGS -Werror)
  # GCC 12 at -O3 (CMAKE_BUILD_TYPE Release) reports false positives from inside libstdc++'s
  # std::string concatenation (-Wrestrict, GCC bug 105329), std::vector growth
  # (-Wstringop-overflow) and asio's socket moves (-Wmaybe-uninitialized); they stay warnings
  # there instead of failing the build. The default (-O2) and Debug builds do not see them.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
     AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND LANYARD_WARNINGS -Wno-error=restrict -Wno-error=stringop-overflow
         -Wno-error=maybe-uninitialized)
  endif()
endif()

# Flags that the core always builds with, and that its users may build with.
set(LANYARD_NO_EXCEPTIONS_FLAGS -fno-exceptions -fno-rtti)

if(LANYARD_SANITIZE)
  # No vptr check: lanyard::core has no RTTI, so UBSan would flag every virtual call into it
  # (std::error_category's, on any error_code comparison) as an invalid vptr.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# The firmware-side libraries are position independent so that shared libraries and PIE
# executables can link them, except on bare metal (cmake/toolchains/), where a firmware image
# is linked at fixed addresses and -fPIC would only add GOT loads.
if(CMAKE_SYSTEM_NAME STREQUAL "Generic")
  set(LANYARD_PIC OFF)
else()
  set(LANYARD_PIC ON)
endif()
