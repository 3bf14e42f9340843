# Installs the subproject consumer and checks that only its own programs were installed: the
# SDK pulled in with add_subdirectory adds no headers, libraries or packages of its own.
#   cmake -DBUILD=<consumer build dir> -DPREFIX=<scratch prefix> -P check_install.cmake
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD}" --prefix "${PREFIX}"
  RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "installing the subproject consumer failed")
endif()
file(GLOB_RECURSE installed RELATIVE "${PREFIX}" "${PREFIX}/*")
list(SORT installed)
if(NOT installed STREQUAL "bin/consumer;bin/consumer_app")
  message(FATAL_ERROR "the subproject consumer installed more than its programs: ${installed}")
endif()
