# Test helpers shared by tests/, chapters/ and, after install, a student's own repository.

# llmlab_add_emu_test(NAME COMMAND cmd args... [LABELS l...] [ENVIRONMENT k=v...])
# Registers NAME once per emulator schedule in LLMLAB_EMU_SCHEDULES (default forward and a fixed
# random seed), as NAME.forward, NAME.random, ... with label `emu` added.
# With LLMLAB_TEST_REPORTS set (a directory; scripts/lab.sh sets it), each run also writes
# GoogleTest's JSON report there as <test name>.json, for a per-check summary.
function(llmlab_add_emu_test NAME)
  cmake_parse_arguments(ARG "" "" "COMMAND;LABELS;ENVIRONMENT" ${ARGN})
  foreach(schedule IN LISTS LLMLAB_EMU_SCHEDULES)
    string(REGEX REPLACE ":.*" "" short "${schedule}")
    add_test(NAME ${NAME}.${short} COMMAND ${ARG_COMMAND})
    llmlab_test_report_environment(${NAME}.${short} report)
    set_tests_properties(${NAME}.${short} PROPERTIES
      LABELS "emu;${ARG_LABELS}"
      ENVIRONMENT "LLMLAB_EMU_SCHEDULE=${schedule};${ARG_ENVIRONMENT};${report}"
      TIMEOUT 600)
  endforeach()
endfunction()

# llmlab_test_report_environment(TEST VAR): VAR is "GTEST_OUTPUT=json:<LLMLAB_TEST_REPORTS>/TEST.json"
# when LLMLAB_TEST_REPORTS is set, else empty (GoogleTest reads GTEST_OUTPUT; other programs ignore it).
function(llmlab_test_report_environment TEST OUT)
  set(env "")
  if(LLMLAB_TEST_REPORTS)
    set(env "GTEST_OUTPUT=json:${LLMLAB_TEST_REPORTS}/${TEST}.json")
  endif()
  set(${OUT} "${env}" PARENT_SCOPE)
endfunction()

# llmlab_add_expect_failure_test(NAME REGEX re COMMAND cmd args... [EXIT_CODE n] [LABELS l...])
# Passes only when the command exits non-zero (exactly n when EXIT_CODE is given) AND its output
# matches REGEX. Used to prove that a chapter's checks bite: the starter code must fail them with
# "not implemented".
function(llmlab_add_expect_failure_test NAME)
  cmake_parse_arguments(ARG "" "REGEX;EXIT_CODE" "COMMAND;LABELS;ENVIRONMENT" ${ARGN})
  add_test(NAME ${NAME}
    COMMAND ${CMAKE_COMMAND} "-DREGEX=${ARG_REGEX}" "-DCOMMAND=${ARG_COMMAND}"
            "-DEXIT_CODE=${ARG_EXIT_CODE}"
            -P ${LLMLAB_CMAKE_DIR}/expect_failure.cmake)
  set_tests_properties(${NAME} PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "${ARG_ENVIRONMENT}"
    TIMEOUT 600)
endfunction()

set(LLMLAB_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})
