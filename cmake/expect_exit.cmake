# cmake -DCOMMAND="prog;args" -DEXIT=n -DREGEX=re [-DJSON_PASSED=p -DJSON_FAILED=f]
#       [-DEMPTY_LAST_ARG=ON] -P expect_exit.cmake
# Succeeds only if COMMAND exits with code EXIT exactly and its combined output matches REGEX. With
# JSON_PASSED/JSON_FAILED, its standard output must also be one complete JSON document whose
# "passed" and "failed" are those numbers (`llmlab verify --json` is complete whatever the kernels do).
# A list cannot end in an empty argument: -DEMPTY_LAST_ARG=ON appends one ("--impl ''").
if(EMPTY_LAST_ARG)
  execute_process(COMMAND ${COMMAND} "" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
else()
  execute_process(COMMAND ${COMMAND} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
endif()
set(all "${out}${err}")
if(NOT rc STREQUAL "${EXIT}")
  message(FATAL_ERROR "expected `${COMMAND}` to exit ${EXIT}, got ${rc}. Output:\n${all}")
endif()
if(NOT all MATCHES "${REGEX}")
  message(FATAL_ERROR "`${COMMAND}` exited ${rc} but its output does not match `${REGEX}`:\n${all}")
endif()
if(DEFINED JSON_FAILED)
  string(JSON failed ERROR_VARIABLE json_error GET "${out}" failed)
  if(json_error)
    message(FATAL_ERROR "standard output is not one complete JSON document (${json_error}):\n${out}")
  endif()
  string(JSON passed GET "${out}" passed)
  if(NOT passed EQUAL JSON_PASSED OR NOT failed EQUAL JSON_FAILED)
    message(FATAL_ERROR "expected ${JSON_PASSED} passed, ${JSON_FAILED} failed; got ${passed}, ${failed}")
  endif()
endif()
message(STATUS "exited ${rc} as expected, output matches `${REGEX}`")
