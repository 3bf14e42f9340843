# Installs the pinned JavaScript SDK for the conformance test (and the JS benchmark): copies
# package.json and package-lock.json into DEST and runs `npm ci` there, which installs exactly
# the locked versions or fails. Needs the npm registry, or a warm npm cache (--prefer-offline).
#
#   cmake -DNPM=/usr/bin/npm -DSOURCE_DIR=tests/conformance -DDEST=build/dev/tests/conformance \
#         -P tests/conformance/npm_ci.cmake
foreach(variable NPM SOURCE_DIR DEST)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "npm_ci.cmake: -D${variable}=... is required")
  endif()
endforeach()

file(MAKE_DIRECTORY ${DEST})
file(COPY ${SOURCE_DIR}/package.json ${SOURCE_DIR}/package-lock.json DESTINATION ${DEST})
execute_process(
  COMMAND ${NPM} ci --no-audit --no-fund --prefer-offline
  WORKING_DIRECTORY ${DEST}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "npm ci failed (${result}) in ${DEST}; it needs the npm registry or a "
                      "warm npm cache")
endif()
