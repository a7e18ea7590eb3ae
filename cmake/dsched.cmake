# Helpers so that every folder declares its library and tests the same way.

set(DSCHED_WARNINGS -Wall -Wextra -Wno-unused-parameter)

# dsched_add_library(name SOURCES a.cc b.cc DEPS x y)
function(dsched_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${DSCHED_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# dsched_add_test(name SOURCES a_test.cc DEPS lib) -> one gtest binary registered with CTest.
function(dsched_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${DSCHED_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "DSCHED_SOURCE_DIR=${PROJECT_SOURCE_DIR};DSCHED_BINARY=${PROJECT_BINARY_DIR}/src/cli/dsched")
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
