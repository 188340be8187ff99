# What the command-line scenario scripts share (tokenize_cli.cmake, train_cli.cmake):
#   set(LLMLAB_COMMAND <subcommand words>) then include(cli_helpers.cmake).

# run(<expected exit code> args...): `llmlab ${LLMLAB_COMMAND} args...` → OUT, ERR in the
# caller's scope; another exit code is a FATAL_ERROR showing the command and what it printed.
function(run expected)
  execute_process(COMMAND "${LLMLAB}" ${LLMLAB_COMMAND} ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL "${expected}")
    message(FATAL_ERROR "llmlab ${LLMLAB_COMMAND} ${ARGN}\nexited ${rc}, expected ${expected}\n"
                        "stdout: ${out}\nstderr: ${err}")
  endif()
  set(OUT "${out}" PARENT_SCOPE)
  set(ERR "${err}" PARENT_SCOPE)
endfunction()

function(expect_match what text regex)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: `${text}` does not match `${regex}`")
  endif()
endfunction()

function(expect_same_file a b)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${a}" "${b}" RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "${a} and ${b} differ")
  endif()
endfunction()
