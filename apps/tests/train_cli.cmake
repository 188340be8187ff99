# Tests of `llmlab train` and `llmlab generate`, one scenario per run:
#   cmake -DLLMLAB=<exe> -DCASE=<name> -DWORK=<scratch dir> -DTEXT=<a text file> -P train_cli.cmake
# A tiny model (1 layer, width 32, context 32, a 300-token vocabulary trained on TEXT) so that
# each scenario takes seconds on 2 cores; any failure is a FATAL_ERROR naming the command.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(tiny --vocab-size 300 --layers 1 --heads 2 --embd 32 --context 32 --batch 8 --lr 1e-2
         --warmup 5 --min-lr 1e-3)

set(LLMLAB_COMMAND)  # the scenarios name train or generate
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

# A loss printed with 4 decimals ("5.1233") as an integer (51233), for CMake's integer math.
function(milli_loss var text)
  string(REPLACE "." "" digits "${text}")
  math(EXPR v "${digits}")
  set(${var} ${v} PARENT_SCOPE)
endfunction()

if(CASE STREQUAL "end_to_end")
  # train: the loss falls clearly (by more than 1 nat from the first step's, log 300 ≈ 5.7) and
  # the validation loss ends below the unigram baseline of the same tokens (measured: 4.13 vs
  # 4.31 after 100 steps, about 2 s on 2 cores); the
  # run's files are there; generate continues a prompt, greedily the same twice.
  run(0 train --data "${TEXT}" ${tiny} --steps 100 --eval-every 50 --out "${WORK}/run")
  message(STATUS "${OUT}")
  if(NOT OUT MATCHES "step +1/100 [|] loss ([0-9]+[.][0-9]+)")
    message(FATAL_ERROR "no first step in `${OUT}`")
  endif()
  milli_loss(first "${CMAKE_MATCH_1}")
  if(NOT OUT MATCHES "validation loss ([0-9]+[.][0-9]+) [(]perplexity [0-9.]+[)] vs the unigram baseline ([0-9]+[.][0-9]+)")
    message(FATAL_ERROR "no final validation loss in `${OUT}`")
  endif()
  milli_loss(val "${CMAKE_MATCH_1}")
  milli_loss(unigram "${CMAKE_MATCH_2}")
  math(EXPR fell "${first} - ${val}")
  if(fell LESS 10000 OR NOT val LESS unigram)
    message(FATAL_ERROR "the loss did not fall clearly: first step ${first}, validation ${val}, "
                        "unigram ${unigram} (×1e-4)")
  endif()
  foreach(f model.ckpt model.safetensors tokenizer.tiktoken tokenizer.tiktoken.specials.json metrics.jsonl)
    if(NOT EXISTS "${WORK}/run/${f}")
      message(FATAL_ERROR "train wrote no ${f}")
    endif()
  endforeach()
  file(STRINGS "${WORK}/run/metrics.jsonl" lines)
  list(LENGTH lines n)
  list(GET lines 49 line50)
  if(NOT n EQUAL 100 OR NOT line50 MATCHES "\"step\":50" OR NOT line50 MATCHES "\"val_ppl\"")
    message(FATAL_ERROR "metrics.jsonl: ${n} lines, the 50th `${line50}`")
  endif()
  run(0 generate --checkpoint "${WORK}/run" --prompt "the Program" --max-tokens 20
      --temperature 0)
  set(greedy "${OUT}")
  expect_match("generate" "${OUT}" "^the Program.")
  run(0 generate --checkpoint "${WORK}/run" --prompt "the Program" --max-tokens 20
      --temperature 0)
  if(NOT OUT STREQUAL greedy)
    message(FATAL_ERROR "greedy generation differs between two runs")
  endif()
  run(0 generate --checkpoint "${WORK}/run" --prompt "the Program" --max-tokens 20
      --temperature 0.8 --top-k 20 --seed 5)
  # eval on another licence: a loss and its perplexity, e^loss
  run(0 eval --checkpoint "${WORK}/run" --data /usr/share/common-licenses/Apache-2.0)
  expect_match("eval" "${OUT}" "^loss [0-9]+[.][0-9]+ perplexity [0-9]+[.][0-9]+ [(][0-9]+ windows of 32 tokens, step 100[)]")
elseif(CASE STREQUAL "resume_is_bitwise")
  # 20 steps straight, and 10 steps stopped then resumed to 20: the same checkpoint, byte for byte.
  run(0 train --data "${TEXT}" ${tiny} --steps 20 --eval-every 10 --out "${WORK}/straight")
  run(0 train --data "${TEXT}" ${tiny} --steps 20 --eval-every 10 --stop-at 10 --out "${WORK}/cut")
  expect_match("stopped" "${OUT}" "step +10/20")
  run(0 train --data "${TEXT}" --steps 20 --eval-every 10 --resume "${WORK}/cut")
  expect_match("resumed" "${OUT}" "step +20/20")
  expect_same_file("${WORK}/straight/model.ckpt" "${WORK}/cut/model.ckpt")
  expect_same_file("${WORK}/straight/model.safetensors" "${WORK}/cut/model.safetensors")
  file(STRINGS "${WORK}/cut/metrics.jsonl" lines)
  list(LENGTH lines n)
  if(NOT n EQUAL 20)
    message(FATAL_ERROR "the resumed metrics.jsonl has ${n} lines, not 20")
  endif()
elseif(CASE STREQUAL "sigint_saves_and_resumes")
  # SIGINT after step 13 (raised by the run itself at LLMLAB_TRAIN_SIGINT_AT, so the test does
  # not depend on timing): exit 130, the state saved; resumed to 30, the same checkpoint as 30
  # uninterrupted steps.
  run(0 train --data "${TEXT}" ${tiny} --steps 30 --eval-every 10 --out "${WORK}/straight")
  set(ENV{LLMLAB_TRAIN_SIGINT_AT} 13)
  run(130 train --data "${TEXT}" ${tiny} --steps 30 --eval-every 10 --out "${WORK}/cut")
  unset(ENV{LLMLAB_TRAIN_SIGINT_AT})
  expect_match("interrupted" "${OUT}" "interrupted [(]SIGINT[)] after step 13: .*model.ckpt saved; continue with --resume")
  run(0 train --data "${TEXT}" --steps 30 --eval-every 10 --resume "${WORK}/cut")
  expect_same_file("${WORK}/straight/model.ckpt" "${WORK}/cut/model.ckpt")
  file(STRINGS "${WORK}/cut/metrics.jsonl" lines)
  list(LENGTH lines n)
  if(NOT n EQUAL 30)
    message(FATAL_ERROR "the resumed metrics.jsonl has ${n} lines, not 30")
  endif()
elseif(CASE STREQUAL "bad_input")
  # every refusal names its cause, exits 2 and leaves no run directory behind
  file(WRITE "${WORK}/empty.txt" "")
  run(2 train --data "${WORK}/empty.txt" --out "${WORK}/out")
  expect_match("empty data" "${ERR}" "llmlab train: --data: the files hold no text")
  file(WRITE "${WORK}/short.txt" "Too short to hold a context window.")
  run(2 train --data "${WORK}/short.txt" --out "${WORK}/out")
  expect_match("short data" "${ERR}" "tokens are too few.*--context")
  run(2 train --data "${WORK}/missing.txt" --out "${WORK}/out")
  expect_match("missing data" "${ERR}" "--data: File does not exist: .*missing.txt")
  run(2 train --data "${TEXT}" --out "${WORK}/out" --layers 1 --heads 3 --embd 32)
  expect_match("heads" "${ERR}" "n_head = 3 does not divide n_embd = 32")
  if(EXISTS "${WORK}/out")
    message(FATAL_ERROR "a refused run left ${WORK}/out behind")
  endif()
  run(2 train --data "${TEXT}" --no-such-flag)
  # a damaged checkpoint (the magic, then garbage; CMake cannot write a truncated binary — the
  # truncated and bit-flipped files are tests/train_test.cpp's) is refused by generate and --resume
  run(0 train --data "${TEXT}" ${tiny} --steps 5 --out "${WORK}/run")
  file(WRITE "${WORK}/run/model.ckpt" "LLMLABCK and then nothing of use")
  run(2 generate --checkpoint "${WORK}/run")
  expect_match("generate" "${ERR}" "llmlab generate: load_checkpoint: .*model.ckpt: version [0-9]+, this llmlab reads 1")
  run(2 train --data "${TEXT}" --resume "${WORK}/run")
  expect_match("resume" "${ERR}" "llmlab train: load_checkpoint: .*model.ckpt")
  file(WRITE "${WORK}/run/model.ckpt" "not a checkpoint")
  run(2 generate --checkpoint "${WORK}/run")
  expect_match("magic" "${ERR}" "not an llmlab checkpoint")
else()
  message(FATAL_ERROR "unknown CASE ${CASE}")
endif()
