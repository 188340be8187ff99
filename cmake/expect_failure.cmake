# cmake -DCOMMAND="prog;args" -DREGEX=re [-DEXIT_CODE=n] -P expect_failure.cmake
# Succeeds only if COMMAND exits non-zero (exactly EXIT_CODE when given) and its combined output
# matches REGEX.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "expected `${COMMAND}` to fail, but it exited 0. Output:\n${all}")
endif()
if(DEFINED EXIT_CODE AND NOT EXIT_CODE STREQUAL "" AND NOT rc STREQUAL "${EXIT_CODE}")
  message(FATAL_ERROR "expected `${COMMAND}` to exit ${EXIT_CODE}, but it exited ${rc}. Output:\n${all}")
endif()
if(NOT all MATCHES "${REGEX}")
  message(FATAL_ERROR "`${COMMAND}` failed (${rc}) but its output does not match `${REGEX}`:\n${all}")
endif()
message(STATUS "failed as expected (exit ${rc}), output matches `${REGEX}`")
