# Install rules: headers, the library, a CMake package (inferenceshConfig.cmake with
# find_dependency on its public dependencies) and a pkg-config file.
include(CMakePackageConfigHelpers)

set(INFERENCESH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/inferencesh)

install(TARGETS inferencesh
  EXPORT inferenceshTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/inferencesh
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")

install(EXPORT inferenceshTargets
  NAMESPACE inferencesh::
  DESTINATION ${INFERENCESH_CMAKE_DIR})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/inferenceshConfig.cmake.in
  ${PROJECT_BINARY_DIR}/inferenceshConfig.cmake
  INSTALL_DESTINATION ${INFERENCESH_CMAKE_DIR})

write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/inferenceshConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)

install(FILES
  ${PROJECT_BINARY_DIR}/inferenceshConfig.cmake
  ${PROJECT_BINARY_DIR}/inferenceshConfigVersion.cmake
  DESTINATION ${INFERENCESH_CMAKE_DIR})

# pkg-config: absolute or relative install dirs both work.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(INFERENCESH_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  set(INFERENCESH_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(INFERENCESH_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(INFERENCESH_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/inferencesh.pc.in
  ${PROJECT_BINARY_DIR}/inferencesh.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/inferencesh.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
