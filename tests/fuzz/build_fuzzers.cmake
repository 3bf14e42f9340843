# Run by the test suite's `fuzz_build` fixture (see tests/CMakeLists.txt):
#   cmake -DSOURCE_DIR=<tests/fuzz> -DBINARY_DIR=<build dir> -DCXX=<clang++> -P build_fuzzers.cmake
# Configures and builds the fuzz targets, then gives each a fresh copy of its seed corpus, so
# the fuzzers write new inputs into the build tree and never into the source tree.
foreach(variable SOURCE_DIR BINARY_DIR CXX)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "build_fuzzers.cmake needs -D${variable}=...")
  endif()
endforeach()

execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -DCMAKE_CXX_COMPILER=${CXX}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "configuring the fuzz targets failed")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY_DIR} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "building the fuzz targets failed")
endif()

foreach(target ndjson sse request_reader)
  file(REMOVE_RECURSE ${BINARY_DIR}/corpus/${target})
  file(MAKE_DIRECTORY ${BINARY_DIR}/corpus)
  file(COPY ${SOURCE_DIR}/corpus/${target} DESTINATION ${BINARY_DIR}/corpus)
endforeach()
