# Warnings for the project's own targets. Third-party headers come in as SYSTEM includes
# through their imported targets, so they stay quiet.
function(inferencesh_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
      -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
      -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 14)
      # GCC before 14 warns about members left out of designated initializers
      # ({.wait = false}), which is how the SDK's option structs are meant to be used.
      target_compile_options(${target} PRIVATE -Wno-missing-field-initializers)
    endif()
    if(INFERENCESH_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()
