# Test helpers shared by tests/, chapters/ and, after install, a student's own repository.

# llmlab_add_emu_test(NAME COMMAND cmd args... [LABELS l...] [ENVIRONMENT k=v...])
# Registers NAME once per emulator schedule in LLMLAB_EMU_SCHEDULES (default forward and a fixed
# random seed), as NAME.forward, NAME.random, ... with label `emu` added.
function(llmlab_add_emu_test NAME)
  cmake_parse_arguments(ARG "" "" "COMMAND;LABELS;ENVIRONMENT" ${ARGN})
  foreach(schedule IN LISTS LLMLAB_EMU_SCHEDULES)
    string(REGEX REPLACE ":.*" "" short "${schedule}")
    add_test(NAME ${NAME}.${short} COMMAND ${ARG_COMMAND})
    set_tests_properties(${NAME}.${short} PROPERTIES
      LABELS "emu;${ARG_LABELS}"
      ENVIRONMENT "LLMLAB_EMU_SCHEDULE=${schedule};${ARG_ENVIRONMENT}"
      TIMEOUT 600)
  endforeach()
endfunction()

# llmlab_add_expect_failure_test(NAME REGEX re COMMAND cmd args... [LABELS l...])
# Passes only when the command exits non-zero AND its output matches REGEX. Used to prove that a
# chapter's checks bite: the starter code must fail them with "not implemented".
function(llmlab_add_expect_failure_test NAME)
  cmake_parse_arguments(ARG "" "REGEX" "COMMAND;LABELS;ENVIRONMENT" ${ARGN})
  add_test(NAME ${NAME}
    COMMAND ${CMAKE_COMMAND} "-DREGEX=${ARG_REGEX}" "-DCOMMAND=${ARG_COMMAND}"
            -P ${LLMLAB_CMAKE_DIR}/expect_failure.cmake)
  set_tests_properties(${NAME} PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "${ARG_ENVIRONMENT}"
    TIMEOUT 600)
endfunction()

set(LLMLAB_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})
