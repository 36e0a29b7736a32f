# Cross-compiling Lanyard's firmware side for an ARM Cortex-M4 (Thumb-2) with Debian's
# gcc-arm-none-eabi and libstdc++-arm-none-eabi-newlib: lanyard::core, crypto, tls_engine and
# firmware as static libraries for the firmware's own link (docs/firmware.md, "Building for a
# microcontroller"). Use with -DLANYARD_CORE_ONLY=ON -DLANYARD_BUILD_TESTS=OFF and
# -DMBEDTLS_INCLUDE_DIR=<the firmware's mbedTLS include directory>. scripts/firmware-size
# --target cortex-m4 builds this way.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
# Newlib has no operating system to link a test program against: check the compiler with a
# static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# The target: Thumb-2 for a Cortex-M4 (also picks newlib's thumb/v7e-m multilib at the link).
# CMAKE_CXX_FLAGS_INIT only seeds CMAKE_CXX_FLAGS: a -DCMAKE_CXX_FLAGS=... on the command line
# replaces it, and GCC then silently builds for its default (ARMv4T, ARM mode), which is what
# the size figures measured until 2026-12-05. Lanyard's CMakeLists.txt therefore refuses a
# CMAKE_CXX_FLAGS without LANYARD_TARGET_ARCH_FLAGS: pass them along with your own.
set(LANYARD_TARGET_ARCH_FLAGS "-mthumb -mcpu=cortex-m4 -mfloat-abi=soft")
# -Wno-psabi: GCC notes that passing std::span changed ABI in GCC 7.1 (irrelevant to a
# firmware built by one compiler).
set(CMAKE_C_FLAGS_INIT "${LANYARD_TARGET_ARCH_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${LANYARD_TARGET_ARCH_FLAGS} -Wno-psabi")
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=nano.specs --specs=nosys.specs")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
