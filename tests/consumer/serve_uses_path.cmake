# An app built against the installed SDK finds infsh-local on PATH for `serve`: the installed
# app library must know nothing of the build tree it was built in (whose infsh-local may be
# stale, or gone). Runs APP with a stand-in infsh-local first on PATH and INFSH_LOCAL unset.
#   cmake -DAPP=... -DLIBRARY=<installed libinferencesh_infsh> -DBUILD_TREE_RUNTIME=<path of
#         the build tree's infsh-local> -DWORK=<scratch directory> -P serve_uses_path.cmake
string(REGEX REPLACE "([][+.*?()^$|\\])" "\\\\\\1" pattern "${BUILD_TREE_RUNTIME}")
file(STRINGS "${LIBRARY}" baked REGEX "${pattern}")
if(baked)
  list(GET baked 0 first)
  message(FATAL_ERROR "the installed ${LIBRARY} names the build tree: ${first}")
endif()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
file(WRITE "${WORK}/infsh-local" "#!/bin/sh\necho \"infsh-local from PATH: $*\"\n")
file(CHMOD "${WORK}/infsh-local" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env --unset=INFSH_LOCAL "PATH=${WORK}:$ENV{PATH}"
    "${APP}" serve --port 0 -- --version
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE result TIMEOUT 60)
if(NOT out MATCHES "infsh-local from PATH: --port 0 --app [^ ]+ --version")
  message(FATAL_ERROR "serve did not run the infsh-local on PATH (exit ${result}):\n${out}${err}")
endif()
message(STATUS "serve ran the infsh-local on PATH: ${out}")
