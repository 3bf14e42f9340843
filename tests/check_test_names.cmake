# Fails when a TEST_CASE name holds a character that breaks catch_discover_tests or CTest
# filters, so no test can silently drop out of the suite.
execute_process(COMMAND ${TEST_BINARY} --list-test-names-only
  OUTPUT_VARIABLE names RESULT_VARIABLE result)
# Catch2 v2 exits with the number of tests listed (capped at 255), so a number is success;
# a crash reports a text such as "Segmentation fault" instead.
if(NOT result MATCHES "^[0-9]+$" OR names STREQUAL "")
  message(FATAL_ERROR "${TEST_BINARY} --list-test-names-only failed (${result})")
endif()
set(bad "")
string(REGEX MATCHALL "[^\n]*[][;\"\\\\][^\n]*" bad "${names}")
if(bad)
  message(FATAL_ERROR "test names CTest cannot carry: ${bad}")
endif()
string(REGEX MATCHALL "\n" lines "${names}")
list(LENGTH lines count)
message(STATUS "${count} test names, all safe for CTest")
