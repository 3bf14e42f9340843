# Builds a consumer with the flags pkg-config gives for an installed .pc file, runs it.
#   cmake -DPREFIX=... -DPACKAGE=inferencesh|infsh -DSOURCE=... -DOUTPUT=... -DCOMPILER=...
#         -DFLAGS=... [-DINPUT=<JSON: run the program as an app, `run --input INPUT`>]
#         [-DEXPECT=<regex its output must match>] -P pkg_config_build.cmake
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/lib/pkgconfig:${PREFIX}/lib/x86_64-linux-gnu/pkgconfig")
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs ${PACKAGE}
  OUTPUT_VARIABLE pc_flags RESULT_VARIABLE pc_result OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT pc_result EQUAL 0)
  message(FATAL_ERROR "pkg-config does not know ${PACKAGE} under ${PREFIX}")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra_flags UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND ${COMPILER} -std=c++17 ${extra_flags} ${SOURCE} -o ${OUTPUT} ${pc_flags}
  RESULT_VARIABLE compile_result)
if(NOT compile_result EQUAL 0)
  message(FATAL_ERROR "building with pkg-config flags failed: ${pc_flags}")
endif()
if(DEFINED INPUT)
  set(command ${OUTPUT} run --input "${INPUT}")
else()
  set(command ${OUTPUT})
endif()
execute_process(COMMAND ${command} OUTPUT_VARIABLE out RESULT_VARIABLE run_result)
if(NOT run_result EQUAL 0)
  message(FATAL_ERROR "the pkg-config build ran with exit code ${run_result}")
endif()
if(DEFINED EXPECT AND NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "the pkg-config build printed ${out}, expected ${EXPECT}")
endif()
