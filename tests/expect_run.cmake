# Runs a command and passes only when it exits with EXPECT_STATUS and its output (stdout and
# stderr together) matches EXPECT_OUTPUT: ctest's PASS_REGULAR_EXPRESSION alone ignores the
# exit status, so a program that prints the right line and then fails would pass.
#   cmake -DEXPECT_STATUS=0 -DEXPECT_OUTPUT=<regex> -P expect_run.cmake <program> <args>...
set(command)
set(after_script -1)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${last})
  if(after_script GREATER_EQUAL 0 AND i GREATER after_script)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif(after_script LESS 0 AND CMAKE_ARGV${i} STREQUAL "-P")
    math(EXPR after_script "${i} + 1") # the argument after -P is this script
  endif()
endforeach()
execute_process(COMMAND ${command} OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE status)
message("${out}")
if(NOT "${status}" STREQUAL "${EXPECT_STATUS}")
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT_STATUS}: ${command}")
endif()
if(NOT out MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "the output does not match '${EXPECT_OUTPUT}': ${command}")
endif()
