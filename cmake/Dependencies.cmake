# The I/O layer's dependencies, all from Debian packages (see scripts/bootstrap).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(AVAHI REQUIRED IMPORTED_TARGET avahi-client)
# The relay's MQTT client (issue 16): libmosquitto, driven from asio (src/relay).
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)

find_path(ASIO_INCLUDE_DIR asio.hpp)
if(NOT ASIO_INCLUDE_DIR)
  message(FATAL_ERROR "standalone asio not found: install libasio-dev (scripts/bootstrap)")
endif()

# mbedTLS: cmake/MbedTLS.cmake (included before this file: the TLS engine needs it alone).

# The tools (CLI, simulator, test programs) write and read JSON with nlohmann-json (Debian
# nlohmann-json3-dev, header-only); the libraries do not use it.
find_package(nlohmann_json 3.10 REQUIRED)
