# `cmake --install` → headers, every module's library, a CMake package (find_package(lanyard CONFIG))
# and lanyard.pc for pkg-config. tests/consumer proves the installed tree is usable.
include(CMakePackageConfigHelpers)

get_property(adapter_targets GLOBAL PROPERTY LANYARD_ADAPTER_TARGETS)
install(TARGETS lanyard_core lanyard_crypto lanyard_tls_engine lanyard_firmware ${adapter_targets} lanyard_lanyard EXPORT lanyardTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/lanyard DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(LANYARD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/lanyard)
install(EXPORT lanyardTargets NAMESPACE lanyard:: DESTINATION ${LANYARD_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/lanyardConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/lanyardConfig.cmake INSTALL_DESTINATION ${LANYARD_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/lanyardConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lanyardConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/lanyardConfigVersion.cmake
        DESTINATION ${LANYARD_CMAKE_DIR})

# What the exported targets give their users, for pkg-config's: the headers must see the same
# LANYARD_ERROR_MESSAGES as the libraries (lanyard/core/error_condition.hpp).
set(LANYARD_PC_DEFINITIONS "")
if(NOT LANYARD_ERROR_MESSAGES)
  set(LANYARD_PC_DEFINITIONS " -DLANYARD_ERROR_MESSAGES=0")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/lanyard.pc.in ${CMAKE_CURRENT_BINARY_DIR}/lanyard.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lanyard.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
