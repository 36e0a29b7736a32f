# The I/O layer's dependencies, all from Debian packages (see scripts/bootstrap).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(AVAHI REQUIRED IMPORTED_TARGET avahi-client)

find_path(ASIO_INCLUDE_DIR asio.hpp)
if(NOT ASIO_INCLUDE_DIR)
  message(FATAL_ERROR "standalone asio not found: install libasio-dev (scripts/bootstrap)")
endif()

# Debian's libmbedtls-dev (2.28) ships no CMake or pkg-config files.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
find_library(MBEDTLS_LIBRARY mbedtls)
find_library(MBEDX509_LIBRARY mbedx509)
find_library(MBEDCRYPTO_LIBRARY mbedcrypto)
if(NOT MBEDTLS_INCLUDE_DIR OR NOT MBEDTLS_LIBRARY OR NOT MBEDX509_LIBRARY OR NOT MBEDCRYPTO_LIBRARY)
  message(FATAL_ERROR "mbedTLS not found: install libmbedtls-dev (scripts/bootstrap)")
endif()

# The tools (CLI, simulator, test programs) write and read JSON with nlohmann-json (Debian
# nlohmann-json3-dev, header-only); the libraries do not use it.
find_package(nlohmann_json 3.10 REQUIRED)
