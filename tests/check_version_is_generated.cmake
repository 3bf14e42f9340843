# The version is written once, in the top-level project() call: the version headers are
# generated from it, and no source file spells it out again.
#   cmake -DSOURCE_DIR=... -DVERSION=<PROJECT_VERSION> -P check_version_is_generated.cmake
string(REPLACE "." "\\." pattern "\"${VERSION}\"")
file(GLOB_RECURSE sources
  ${SOURCE_DIR}/include/*.hpp ${SOURCE_DIR}/src/*.hpp ${SOURCE_DIR}/src/*.cpp
  ${SOURCE_DIR}/examples/*.cpp ${SOURCE_DIR}/examples/*.hpp)
set(copies)
foreach(source IN LISTS sources)
  file(STRINGS ${source} hits REGEX "${pattern}")
  if(hits)
    list(APPEND copies "${source}: ${hits}")
  endif()
endforeach()
if(copies)
  list(JOIN copies "\n  " text)
  message(FATAL_ERROR "the version ${VERSION} is written by hand in:\n  ${text}")
endif()
list(LENGTH sources count)
message(STATUS "${count} sources, none spells out the version ${VERSION}")
