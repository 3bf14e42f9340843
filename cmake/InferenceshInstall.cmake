# Install rules: headers, the library, a CMake package (inferenceshConfig.cmake with
# find_dependency on its public dependencies) and a pkg-config file.
include(CMakePackageConfigHelpers)

set(INFERENCESH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/inferencesh)

# inferencesh_common is internal (no headers installed), but the static libraries link it.
install(TARGETS inferencesh inferencesh_common
  EXPORT inferenceshTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/inferencesh
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES ${INFERENCESH_GENERATED_INCLUDE_DIR}/inferencesh/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/inferencesh)

# The app library (inferencesh::infsh). include/infsh/local/ belongs to the runtime, which is
# not installed as a library.
if(TARGET inferencesh_infsh)
  install(TARGETS inferencesh_infsh
    EXPORT inferenceshTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/infsh
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
    FILES_MATCHING PATTERN "*.hpp"
    PATTERN "local" EXCLUDE)
  install(FILES ${INFERENCESH_GENERATED_INCLUDE_DIR}/infsh/version.hpp
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/infsh)
endif()

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

# pkg-config: the prefix is found relative to the .pc file, so an install moved elsewhere
# (or made with `cmake --install --prefix`) still works; absolute install dirs are kept.
file(RELATIVE_PATH INFERENCESH_PC_TO_PREFIX
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
set(INFERENCESH_PC_PREFIX "\${pcfiledir}/${INFERENCESH_PC_TO_PREFIX}")
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
# One .pc file per library: `pkg-config --cflags --libs inferencesh` for the client,
# `... infsh` for the app library. A static archive needs its private dependencies on the
# user's link line (but not their own static dependencies, which shared ones bring themselves).
function(inferencesh_pkg_config name target description static_libs requires_private)
  get_target_property(type ${target} TYPE)
  get_target_property(output_name ${target} OUTPUT_NAME)
  if(NOT output_name)
    set(output_name ${target})
  endif()
  set(INFERENCESH_PC_NAME ${name})
  set(INFERENCESH_PC_DESCRIPTION "${description}")
  set(INFERENCESH_PC_REQUIRES_PRIVATE "${requires_private}")
  if(type STREQUAL "STATIC_LIBRARY")
    set(INFERENCESH_PC_LIBS "-l${output_name} ${static_libs}")
  else()
    set(INFERENCESH_PC_LIBS "-l${output_name}")
  endif()
  configure_file(${PROJECT_SOURCE_DIR}/cmake/inferencesh.pc.in ${PROJECT_BINARY_DIR}/${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${name}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()

inferencesh_pkg_config(inferencesh inferencesh "${PROJECT_DESCRIPTION}"
  "-linferencesh_common -lcurl -lcrypto -lpthread" "")
if(TARGET inferencesh_infsh)
  inferencesh_pkg_config(infsh inferencesh_infsh
    "The inference.sh app library for C++ (infsh): apps as programs; part of inferencesh-cpp"
    "-linferencesh -linferencesh_common -lcurl -lcrypto -lpthread"
    # It links the client library privately (File downloads go through the client's transport).
    "inferencesh = ${PROJECT_VERSION}")
endif()
