# Tests of `llmlab tokenize`, one scenario per run:
#   cmake -DLLMLAB=<exe> -DCASE=<name> -DWORK=<scratch dir> [-DTEXT=<file>] [-DVOCAB=<gpt2.tiktoken>]
#         -P tokenize_cli.cmake
# Each scenario runs the command line as a user would and checks exit codes, outputs and messages;
# any failure is a FATAL_ERROR naming the command and what it printed.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

set(LLMLAB_COMMAND tokenize)
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

if(CASE STREQUAL "round_trip")
  # train → encode → decode gives the input back, byte for byte; the special gets the last id and
  # is only an id when allowed; chunked encoding gives the same ids as one piece.
  set(vocab "${WORK}/small.tiktoken")
  run(0 train --input "${TEXT}" --vocab-size 400 --special "<|endoftext|>" --out "${vocab}")
  file(READ "${vocab}.specials.json" specials)
  expect_match("the specials sidecar" "${specials}" "\"<[|]endoftext[|]>\": 399")
  file(STRINGS "${vocab}" lines)
  list(LENGTH lines n)
  if(NOT n EQUAL 399)
    message(FATAL_ERROR "${vocab} has ${n} tokens, expected 399 (400 minus the special)")
  endif()

  run(0 encode --vocab "${vocab}" --input "${TEXT}" --out "${WORK}/ids.txt")
  run(0 decode --vocab "${vocab}" --input "${WORK}/ids.txt" --out "${WORK}/decoded.txt")
  expect_same_file("${TEXT}" "${WORK}/decoded.txt")

  run(0 encode --vocab "${vocab}" --input "${TEXT}" --chunk-bytes 0 --out "${WORK}/ids_whole.txt")
  run(0 encode --vocab "${vocab}" --input "${TEXT}" --chunk-bytes 64 --out "${WORK}/ids_chunked.txt")
  expect_same_file("${WORK}/ids_whole.txt" "${WORK}/ids_chunked.txt")
  expect_same_file("${WORK}/ids_whole.txt" "${WORK}/ids.txt")

  file(WRITE "${WORK}/with_special.txt" "end<|endoftext|>")
  run(0 encode --vocab "${vocab}" --allow-special --input "${WORK}/with_special.txt")
  expect_match("the allowed special" "${OUT}" " 399\n$")
  run(2 encode --vocab "${vocab}" --input "${WORK}/with_special.txt" --out "${WORK}/refused.txt")
  expect_match("the refused special" "${ERR}" "<[|]endoftext[|]>")
  if(EXISTS "${WORK}/refused.txt")
    message(FATAL_ERROR "a failed encode left ${WORK}/refused.txt behind")
  endif()
  run(0 encode --vocab "${vocab}" --special-as-text --input "${WORK}/with_special.txt")
  if(OUT MATCHES " 399\n$")
    message(FATAL_ERROR "--special-as-text gave the special's id: ${OUT}")
  endif()

  run(0 stats --vocab "${vocab}" --input "${TEXT}")
  expect_match("stats" "${OUT}" "bytes/token.*distinct tokens used: [0-9]+ of 400")

  # The two backends learn the same vocabulary and give the same ids (the default is fast).
  run(0 train --backend ref --input "${TEXT}" --vocab-size 400 --special "<|endoftext|>"
      --out "${WORK}/ref.tiktoken")
  expect_same_file("${vocab}" "${WORK}/ref.tiktoken")
  expect_same_file("${vocab}.specials.json" "${WORK}/ref.tiktoken.specials.json")
  run(0 encode --backend ref --vocab "${vocab}" --input "${TEXT}" --out "${WORK}/ids_ref.txt")
  expect_same_file("${WORK}/ids.txt" "${WORK}/ids_ref.txt")
  run(0 decode --backend ref --vocab "${vocab}" --input "${WORK}/ids.txt" --out "${WORK}/decoded_ref.txt")
  expect_same_file("${TEXT}" "${WORK}/decoded_ref.txt")

elseif(CASE STREQUAL "gpt2_hello_world")
  if(NOT EXISTS "${VOCAB}")
    message(FATAL_ERROR "GPT-2's vocabulary is not at '${VOCAB}': run scripts/setup.sh, which "
                        "downloads it to vocab/gpt2.tiktoken")
  endif()
  file(WRITE "${WORK}/hello.txt" "hello world")
  foreach(backend fast ref)
    run(0 encode --backend ${backend} --gpt2 --vocab "${VOCAB}" --input "${WORK}/hello.txt")
    if(NOT OUT STREQUAL "31373 995\n")
      message(FATAL_ERROR "GPT-2 ids of 'hello world' (${backend}): `${OUT}`, expected `31373 995`")
    endif()
  endforeach()
  file(WRITE "${WORK}/ids.txt" "31373 995\n")
  run(0 decode --gpt2 --vocab "${VOCAB}" --input "${WORK}/ids.txt")
  if(NOT OUT STREQUAL "hello world")
    message(FATAL_ERROR "decode of 31373 995: `${OUT}`")
  endif()

elseif(CASE STREQUAL "bad_vocab_path")
  file(WRITE "${WORK}/hello.txt" "hello")
  run(2 encode --vocab "${WORK}/no/such.tiktoken" --input "${WORK}/hello.txt" --out "${WORK}/x.txt")
  expect_match("the error" "${ERR}" "^llmlab tokenize encode: .*${WORK}/no/such[.]tiktoken")
  if(EXISTS "${WORK}/x.txt")
    message(FATAL_ERROR "a failed encode created ${WORK}/x.txt")
  endif()
  run(2 decode --vocab "${WORK}/no/such.tiktoken" --input "${WORK}/hello.txt")
  expect_match("the error" "${ERR}" "${WORK}/no/such[.]tiktoken")
  file(WRITE "${WORK}/corrupt.tiktoken" "IQ== 0\nnot-base64! 1\n")
  foreach(backend fast ref)  # each names the file and the line
    run(2 stats --backend ${backend} --vocab "${WORK}/corrupt.tiktoken" --input "${WORK}/hello.txt")
    expect_match("the error" "${ERR}" "corrupt[.]tiktoken[)]?:2")
  endforeach()

elseif(CASE STREQUAL "special_given_twice")
  run(2 train --input "${TEXT}" --vocab-size 300 --special "<|a|>" --special "<|a|>"
      --out "${WORK}/twice.tiktoken")
  expect_match("the error" "${ERR}" "--special '<[|]a[|]>' is given twice")
  if(EXISTS "${WORK}/twice.tiktoken" OR EXISTS "${WORK}/twice.tiktoken.specials.json")
    message(FATAL_ERROR "a failed train left an output file")
  endif()
  run(2 train --input "${TEXT}" --vocab-size 200 --out "${WORK}/small.tiktoken")
  expect_match("the error" "${ERR}" "--vocab-size 200 is below 256")
  run(2 train --input "${WORK}/missing.txt" --vocab-size 300 --out "${WORK}/m.tiktoken")
  expect_match("the error" "${ERR}" "cannot read input file '${WORK}/missing[.]txt'")

elseif(CASE STREQUAL "decode_names_bad_ids")
  set(vocab "${WORK}/v.tiktoken")
  run(0 train --input "${TEXT}" --vocab-size 260 --out "${vocab}")
  file(WRITE "${WORK}/ids.txt" "1 2 3\n260 4")
  run(2 decode --vocab "${vocab}" --input "${WORK}/ids.txt")
  expect_match("the error" "${ERR}" "'260' [(]word 4, at byte 6 of the input[)] is not an id")
  file(WRITE "${WORK}/ids.txt" "1 two")
  run(2 decode --vocab "${vocab}" --input "${WORK}/ids.txt")
  expect_match("the error" "${ERR}" "'two' [(]word 2")

else()
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()
message(STATUS "tokenize ${CASE}: passed")
