# mbedTLS, the one dependency of lanyard::crypto and lanyard::tls_engine besides the standard
# library: found apart from the I/O layer's (Dependencies.cmake), so that the core-freestanding
# build, which has no asio and no Avahi, builds the TLS engine too.
# Debian's libmbedtls-dev (2.28) ships no CMake or pkg-config files.
if(CMAKE_SYSTEM_NAME STREQUAL "Generic")
  # Bare metal (cmake/toolchains/): the firmware project builds mbedTLS for its board with its
  # own configuration and links it; Lanyard's static libraries need its headers only
  # (MBEDTLS_INCLUDE_DIR, given) and name the libraries for the firmware's link.
  if(NOT MBEDTLS_INCLUDE_DIR OR NOT EXISTS "${MBEDTLS_INCLUDE_DIR}/mbedtls/ssl.h")
    message(FATAL_ERROR "bare-metal build: set MBEDTLS_INCLUDE_DIR to the firmware's mbedTLS "
                        "include directory (the one holding mbedtls/ssl.h)")
  endif()
  set(MBEDTLS_LIBRARY mbedtls)
  set(MBEDX509_LIBRARY mbedx509)
  set(MBEDCRYPTO_LIBRARY mbedcrypto)
  return()
endif()
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
find_library(MBEDTLS_LIBRARY mbedtls)
find_library(MBEDX509_LIBRARY mbedx509)
find_library(MBEDCRYPTO_LIBRARY mbedcrypto)
if(NOT MBEDTLS_INCLUDE_DIR OR NOT MBEDTLS_LIBRARY OR NOT MBEDX509_LIBRARY OR NOT MBEDCRYPTO_LIBRARY)
  message(FATAL_ERROR "mbedTLS not found: install libmbedtls-dev (scripts/bootstrap)")
endif()
