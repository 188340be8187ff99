# Tests of `llmlab data prepare`, `llmlab train`, `generate` and `eval`, one scenario per run:
#   cmake -DLLMLAB=<exe> -DCASE=<name> -DWORK=<scratch dir> -DTEXT=<a text file> -P train_cli.cmake
# A tiny model (1 layer, width 32, context 32, a 300-token vocabulary trained on TEXT, whose
# paragraphs are the documents: --delimiter blank) so that each scenario takes seconds on 2 cores;
# any failure is a FATAL_ERROR naming the command.
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
set(paragraphs --delimiter blank --val 0.15 --test 0.1)
set(tiny ${paragraphs} --vocab-size 300 --layers 1 --heads 2 --embd 32 --context 32 --batch 8 --lr 1e-2
         --warmup 5 --min-lr 1e-3)

set(LLMLAB_COMMAND)  # the scenarios name train or generate
include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

# A loss printed with 4 decimals ("5.1233") as an integer (51233), for CMake's integer math.
function(milli_loss var text)
  string(REPLACE "." "" digits "${text}")
  math(EXPR v "${digits}")
  set(${var} ${v} PARENT_SCOPE)
endfunction()

# A loss as JSON writes it ("5.703125286102295") as an integer in units of 1e-6 (5703125).
function(micro_loss var text)
  string(REGEX MATCH "^([0-9]+)[.]?([0-9]*)" whole "${text}")
  set(frac "${CMAKE_MATCH_2}000000")
  string(SUBSTRING "${frac}" 0 6 frac)
  math(EXPR v "${CMAKE_MATCH_1}${frac}")
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
  expect_match("test split" "${OUT}" "test loss [0-9]+[.][0-9]+ [(]perplexity [0-9.]+[)]")
  expect_match("samples" "${OUT}" "sample 1: ")
  file(READ "${WORK}/run/loss.svg" svg)
  expect_match("loss.svg" "${svg}" "^<svg .*<polyline fill=\"none\" stroke=\"#1f77b4\"[^/]* points=\"[0-9.]+,[0-9.]+ ")
  foreach(f model.ckpt model.safetensors tokenizer.tiktoken tokenizer.tiktoken.specials.json metrics.jsonl loss.svg
            data/train.bin data/val.bin data/test.bin data/prepare.json)
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
elseif(CASE STREQUAL "emu_backend")
  # --backend emu (llmlab::cuda::Gpt under the emulator) against --backend ref on the same tiny
  # run: every step's loss within 1e-4 relative — both are fp32 from the same parameters and
  # batches, differing only in the kernels' summation orders (tests/gpt_cuda_test.cpp measures
  # ≤ 1e-5 over five steps); a wrong backend (another batch, a missing gradient) is off by > 1e-2.
  set(short --steps 6 --eval-every 3 --samples 1)
  run(0 train --data "${TEXT}" ${tiny} ${short} --out "${WORK}/ref")
  run(0 train --data "${TEXT}" ${tiny} ${short} --backend emu --out "${WORK}/emu")
  file(STRINGS "${WORK}/ref/metrics.jsonl" ref_lines)
  file(STRINGS "${WORK}/emu/metrics.jsonl" emu_lines)
  foreach(i RANGE 5)
    list(GET ref_lines ${i} a)
    list(GET emu_lines ${i} b)
    string(JSON la GET "${a}" loss)
    string(JSON lb GET "${b}" loss)
    micro_loss(ia "${la}")
    micro_loss(ib "${lb}")
    math(EXPR diff "${ia} - ${ib}")
    if(diff LESS 0)
      math(EXPR diff "-${diff}")
    endif()
    math(EXPR bound "${ia} / 10000")  # 1e-4 of the loss
    if(diff GREATER bound)
      message(FATAL_ERROR "step ${i}: the emu loss ${lb} differs from ref's ${la} by more than 1e-4")
    endif()
  endforeach()
  # --grad-accum 2: two micro-batches of 4 rows, their mean gradient, on both backends
  run(0 train --data "${TEXT}" ${tiny} --steps 5 --eval-every 5 --samples 0 --grad-accum 2
      --out "${WORK}/ref_accum")
  run(0 train --data "${TEXT}" ${tiny} --steps 5 --eval-every 5 --samples 0 --grad-accum 2
      --backend emu --out "${WORK}/emu_accum")
  file(STRINGS "${WORK}/ref_accum/metrics.jsonl" ref_lines)
  file(STRINGS "${WORK}/emu_accum/metrics.jsonl" emu_lines)
  list(GET ref_lines 4 a)
  list(GET emu_lines 4 b)
  string(JSON la GET "${a}" loss)
  string(JSON lb GET "${b}" loss)
  micro_loss(ia "${la}")
  micro_loss(ib "${lb}")
  math(EXPR diff "${ia} - ${ib}")
  math(EXPR bound "${ia} / 10000")
  if(diff GREATER bound OR diff LESS -${bound})
    message(FATAL_ERROR "--grad-accum 2: the emu loss ${lb} differs from ref's ${la} by more than 1e-4")
  endif()
  # the checkpoint is ref's format: generate and eval read it, and the run resumes bitwise
  run(0 generate --checkpoint "${WORK}/emu" --prompt "the Program" --max-tokens 5 --temperature 0)
  run(0 eval --checkpoint "${WORK}/emu" --data "${TEXT}" --max-windows 4)
  expect_match("eval" "${OUT}" "perplexity")
  run(0 train --data "${TEXT}" ${tiny} ${short} --backend emu --stop-at 3 --out "${WORK}/cut")
  run(0 train --data "${TEXT}" --steps 6 --eval-every 3 --samples 1 --backend emu
      --resume "${WORK}/cut" ${paragraphs})
  expect_same_file("${WORK}/emu/model.ckpt" "${WORK}/cut/model.ckpt")
  # bf16 trains too (fp32 master weights in the checkpoint); bf16 on ref is refused
  run(0 train --data "${TEXT}" ${tiny} --steps 5 --eval-every 5 --samples 0 --backend emu
      --dtype bf16 --out "${WORK}/bf16")
  run(2 train --data "${TEXT}" ${tiny} --steps 5 --dtype bf16 --out "${WORK}/refbf16")
  expect_match("bf16 on ref" "${ERR}" "--dtype bf16 needs --backend emu or gpu")
  # gpu: trains where llmlab was built with nvcc and a GPU is present, else says why (exit 2),
  # leaving no run directory
  execute_process(COMMAND "${LLMLAB}" train --data "${TEXT}" ${tiny} --steps 5 --samples 0
                          --backend gpu --out "${WORK}/gpu"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    if(NOT rc EQUAL 2 OR NOT err MATCHES "gpu" OR EXISTS "${WORK}/gpu")
      message(FATAL_ERROR "--backend gpu without a GPU: exit ${rc}, `${err}`")
    endif()
    message(STATUS "--backend gpu: ${err}")
  endif()
elseif(CASE STREQUAL "resume_is_bitwise")
  # 20 steps straight, and 10 steps stopped then resumed to 20: the same checkpoint, byte for byte.
  # A --seed other than the default: resuming from the raw text prepares it again with the run's
  # seed (its document split and batches), not the default one.
  run(0 train --data "${TEXT}" ${tiny} --seed 7 --steps 20 --eval-every 10 --out "${WORK}/straight")
  run(0 train --data "${TEXT}" ${tiny} --seed 7 --steps 20 --eval-every 10 --stop-at 10 --out "${WORK}/cut")
  expect_match("stopped" "${OUT}" "step +10/20")
  run(0 train --data "${TEXT}" --steps 20 --eval-every 10 --resume "${WORK}/cut" ${paragraphs})
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
  run(0 train --data "${TEXT}" --steps 30 --eval-every 10 --resume "${WORK}/cut" ${paragraphs})
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
  expect_match("short data" "${ERR}" "split has [0-9]+ tokens, fewer than one context window of 65.*--context")
  run(2 train --data "${WORK}/missing.txt" --out "${WORK}/out")
  expect_match("missing data" "${ERR}" "--data: Path does not exist: .*missing.txt")
  run(2 train --data "${TEXT}" --out "${WORK}/out" --layers 1 --heads 3 --embd 32)
  expect_match("heads" "${ERR}" "n_head = 3 does not divide n_embd = 32")
  if(EXISTS "${WORK}/out")
    message(FATAL_ERROR "a refused run left ${WORK}/out behind")
  endif()
  run(2 train --data "${TEXT}" --no-such-flag)
  run(2 train --data "${TEXT}" ${tiny} --grad-accum 3 --out "${WORK}/out")
  expect_match("grad-accum" "${ERR}" "grad_accum = 3 does not divide batch = 8")
  file(WRITE "${WORK}/bad.json" "{\"n_layer\": 1, \"n_heads\": 2}")
  run(2 train --data "${TEXT}" ${paragraphs} --config "${WORK}/bad.json" --out "${WORK}/out")
  expect_match("config key" "${ERR}" "--config .*bad.json: unknown key 'n_heads'")
  if(EXISTS "${WORK}/out")
    message(FATAL_ERROR "a refused run left ${WORK}/out behind")
  endif()
  # a model config that is not the resumed checkpoint's is refused, naming both
  run(0 train --data "${TEXT}" ${tiny} --steps 6 --out "${WORK}/small")
  file(WRITE "${WORK}/wide.json" "{\"n_layer\": 1, \"n_head\": 2, \"n_embd\": 64, \"block_size\": 32}")
  run(2 train --data "${TEXT}" ${paragraphs} --steps 4 --config "${WORK}/wide.json" --resume "${WORK}/small")
  expect_match("resume config" "${ERR}" "ask for n_layer 1, n_head 2, n_embd 64, .* but the checkpoint in --resume .*small has n_layer 1, n_head 2, n_embd 32")
  run(2 train --data "${TEXT}" ${paragraphs} --steps 4 --context 16 --resume "${WORK}/small")
  expect_match("resume context" "${ERR}" "block_size 16, .* but the checkpoint .* block_size 32")
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
elseif(CASE STREQUAL "hostile")
  # A hostile user (issue 11): each refusal names the flag or file on one line, exits 2 and leaves
  # no run directory (nor anything in a directory it was not given) behind.
  set(base --data "${TEXT}" ${paragraphs} --vocab-size 300 --layers 1 --heads 2 --embd 32
           --context 32 --samples 0)
  # --out: a link to nothing, a device, a file, a path under a file, a directory of someone
  # else's files, a place where no directory can be made
  file(CREATE_LINK "${WORK}/nowhere" "${WORK}/dangling" SYMBOLIC)
  run(2 train ${base} --steps 10 --out "${WORK}/dangling")
  expect_match("dangling" "${ERR}" "^llmlab train: --out [^\n]*dangling: a symbolic link to nothing [(][^\n]*nowhere[)]\n$")
  run(2 train ${base} --steps 10 --out /dev/null)
  expect_match("device" "${ERR}" "^llmlab train: --out /dev/null: exists and is not a directory\n$")
  file(WRITE "${WORK}/afile" "x")
  run(2 train ${base} --steps 10 --out "${WORK}/afile")
  expect_match("file" "${ERR}" "--out [^\n]*afile: exists and is not a directory\n$")
  run(2 train ${base} --steps 10 --out "${WORK}/afile/run")
  expect_match("under a file" "${ERR}" "--out [^\n]*afile/run: [^\n]*afile is not a directory\n$")
  file(WRITE "${WORK}/precious/notes.txt" "mine")
  run(2 train ${base} --steps 10 --out "${WORK}/precious")
  expect_match("other files" "${ERR}" "--out [^\n]*precious: a directory that holds other files and no llmlab run")
  file(GLOB left RELATIVE "${WORK}/precious" "${WORK}/precious/*")
  if(NOT left STREQUAL "notes.txt")
    message(FATAL_ERROR "a refused --out gained files: ${left}")
  endif()
  run(2 train ${base} --steps 10 --out /proc/llmlab-train-test)
  expect_match("cannot create" "${ERR}" "--out /proc/llmlab-train-test: cannot create it [(]")
  # numbers out of range, not numbers, not finite
  foreach(bad "--steps;0" "--steps;-1" "--steps;1e30" "--steps;99999999999999999999")
    run(2 train ${base} ${bad} --out "${WORK}/out")
    expect_match("${bad}" "${ERR}" "--steps")
  endforeach()
  expect_match("steps range" "${ERR}" "--steps: Value 99999999999999999999 not in range 1 to 1000000000")
  foreach(flag --lr --min-lr --weight-decay --clip)
    foreach(v nan inf -1)
      run(2 train ${base} --steps 10 ${flag} ${v} --out "${WORK}/out")
      expect_match("${flag} ${v}" "${ERR}" "^llmlab train: ${flag} -?(nan|inf|1[.]0*): must be a finite number ≥ 0\n$")
    endforeach()
  endforeach()
  run(2 train ${base} --steps 10 --samples 99999999 --out "${WORK}/out")
  expect_match("samples" "${ERR}" "--samples: Value 99999999 not in range 0 to 1000")
  run(2 train ${base} --steps 10 --batch 0 --out "${WORK}/out")
  expect_match("batch" "${ERR}" "batch = 0 [(]must be ≥ 1[)]")
  run(2 train ${base} --steps 10 --warmup 20 --out "${WORK}/out")
  expect_match("warmup" "${ERR}" "warmup = 20 is outside [[]0, steps = 10[]]")
  # models: too large for this machine (refused before allocating), no layers, heads not dividing
  run(2 train --data "${TEXT}" ${paragraphs} --vocab-size 300 --layers 1 --heads 2 --embd 1000000
      --steps 10 --out "${WORK}/out")
  expect_match("huge" "${ERR}" "the model [(]n_layer 1, n_head 2, n_embd 1000000, [^\n]*[)] has [0-9.e+]+ parameters, about [0-9.e+]+ GB to train with batch 16, more than this machine's")
  run(2 train --data "${TEXT}" ${paragraphs} --vocab-size 300 --layers 0 --steps 10 --out "${WORK}/out")
  expect_match("layers 0" "${ERR}" "n_layer = 0 [(]must be ≥ 1[)]")
  run(2 train --data "${TEXT}" ${paragraphs} --vocab-size 300 --heads 5 --embd 32 --steps 10 --out "${WORK}/out")
  expect_match("heads" "${ERR}" "n_head = 5 does not divide n_embd = 32")
  # --data: a binary file (llmlab itself), a directory of text files
  run(2 train --data "${LLMLAB}" --steps 10 --out "${WORK}/out")
  expect_match("binary" "${ERR}" "--data: '[^\n]*' is not text [(]a NUL byte on line 1[)]\n$")
  run(2 train --data "${WORK}/precious" --steps 10 --out "${WORK}/out")
  expect_match("directory" "${ERR}" "--data: '[^\n]*precious' is a directory, not a text file")
  if(EXISTS "${WORK}/out")
    message(FATAL_ERROR "a refused run left ${WORK}/out behind")
  endif()
  # divergence (--lr 1e30): the loss is NaN at step 2, before the first checkpoint (step 5): the
  # error names the step and that nothing was kept, and the run directory is gone
  run(2 train ${base} --batch 8 --lr 1e30 --warmup 0 --steps 10 --eval-every 5 --out "${WORK}/nan")
  expect_match("nan early" "${ERR}" "^llmlab train: train_step: the loss is -?nan at step 2 [^\n]*; no checkpoint had been written yet [(]the first comes at step 5[)]: the run directory is removed\n$")
  if(EXISTS "${WORK}/nan")
    message(FATAL_ERROR "a run that diverged before its first checkpoint left ${WORK}/nan behind")
  endif()
  # the same under --backend emu (the kernels' own check), with the same step
  run(2 train ${base} --batch 8 --lr 1e30 --warmup 0 --steps 10 --eval-every 5 --backend emu
      --out "${WORK}/nan")
  expect_match("nan early, emu" "${ERR}" "^llmlab train: train_step: the loss is -?nan at step 2 [^\n]*; no checkpoint had been written yet [(]the first comes at step 5[)]: the run directory is removed\n$")
  if(EXISTS "${WORK}/nan")
    message(FATAL_ERROR "an emu run that diverged before its first checkpoint left ${WORK}/nan behind")
  endif()
  # later (--lr 1e3, no clipping; measured: NaN at step 8): the last good checkpoint, before the
  # failing step, is kept and is sound — eval scores it with a finite loss, generate runs
  run(2 train ${base} --batch 8 --lr 1e3 --clip 0 --warmup 0 --steps 30 --eval-every 2 --out "${WORK}/late")
  if(NOT ERR MATCHES "at step ([0-9]+) [^\n]*; the last good checkpoint, [^\n]*model.ckpt [(]step ([0-9]+)[)], is kept\n$")
    message(FATAL_ERROR "divergence: `${ERR}`")
  endif()
  if(NOT CMAKE_MATCH_2 LESS CMAKE_MATCH_1)
    message(FATAL_ERROR "the kept checkpoint's step ${CMAKE_MATCH_2} is not before step ${CMAKE_MATCH_1}")
  endif()
  run(0 eval --checkpoint "${WORK}/late" --data "${TEXT}" --max-windows 4)
  expect_match("kept checkpoint" "${OUT}" "^loss [0-9]+[.][0-9]+ perplexity ")
  # resume: the options it would silently ignore are refused, so is a --steps below the run's
  # step; without --steps it continues to the run's own total (6), not the default 300
  run(0 train ${base} --batch 8 --steps 6 --eval-every 3 --stop-at 3 --out "${WORK}/run")
  run(2 train --resume "${WORK}/run" --lr 5)
  expect_match("resume --lr" "${ERR}" "^llmlab train: --lr is the run's own: --resume [^\n]*run continues with the options it was started with")
  run(2 train --resume "${WORK}/run" --batch 4)
  expect_match("resume --batch" "${ERR}" "--batch is the run's own")
  run(2 train --resume "${WORK}/run" --tokenizer "${WORK}/run/tokenizer.tiktoken")
  expect_match("resume --tokenizer" "${ERR}" "--tokenizer is the run's own")
  run(2 train --resume "${WORK}/run" --steps 2)
  expect_match("resume --steps" "${ERR}" "--steps 2: the run in --resume [^\n]*run is already at step 3 [(]--steps is the total[)]")
  run(0 train --resume "${WORK}/run")
  expect_match("resume to the run's total" "${OUT}" "step +6/6 ")
  # a run on a prepared directory elsewhere: its data/ links there, so --resume alone continues
  # on the same data, bitwise (it once fell back to the default corpus); without the link it
  # says what to give
  set(LLMLAB_COMMAND data prepare)
  run(0 --data "${TEXT}" ${paragraphs} --vocab-size 300 --out "${WORK}/prepared")
  set(LLMLAB_COMMAND)
  set(on_prepared --data "${WORK}/prepared" --layers 1 --heads 2 --embd 32 --context 32 --batch 8
                  --samples 0 --steps 6 --eval-every 3)
  run(0 train ${on_prepared} --out "${WORK}/straight_p")
  run(0 train ${on_prepared} --stop-at 3 --out "${WORK}/cut_p")
  run(0 train --resume "${WORK}/cut_p")
  expect_same_file("${WORK}/straight_p/model.ckpt" "${WORK}/cut_p/model.ckpt")
  # a fresh run into the directory of a run on other data replaces its data/ by the link
  run(0 train ${base} --batch 8 --steps 3 --eval-every 3 --seed 7 --out "${WORK}/replaced")
  run(0 train ${on_prepared} --stop-at 3 --out "${WORK}/replaced")
  run(0 train --resume "${WORK}/replaced")
  expect_same_file("${WORK}/straight_p/model.ckpt" "${WORK}/replaced/model.ckpt")
  file(REMOVE "${WORK}/cut_p/data")
  run(2 train --resume "${WORK}/cut_p" --steps 8)
  expect_match("no data" "${ERR}" "^llmlab train: --resume [^\n]*cut_p: [^\n]*cut_p/data is missing: give --data, the data the run was trained on\n$")
  # generate: absurd or non-finite sampling options
  run(2 generate --checkpoint "${WORK}/run" --max-tokens 99999999999999)
  expect_match("max-tokens" "${ERR}" "--max-tokens: Value 99999999999999 not in range 0 to 1000000")
  foreach(t nan -1 inf)
    run(2 generate --checkpoint "${WORK}/run" --temperature ${t})
    expect_match("temperature ${t}" "${ERR}" "temperature = -?(nan|inf|1[.]0*) [(]must be ≥ 0[)]")
  endforeach()
  run(2 generate --checkpoint "${WORK}/run" --top-k -1)
  expect_match("top-k" "${ERR}" "top_k = -1 [(]must be ≥ 0[)]")
  run(0 generate --checkpoint "${WORK}/run" --top-k 1000000000 --max-tokens 3 --seed 2)
elseif(CASE STREQUAL "terminal")
  # On a terminal (util-linux's `script` gives the run one) the progress bar redraws one line:
  # step, a bar, the loss, tokens/s and the ETA; the validation lines stay.
  find_program(SCRIPT script REQUIRED)
  execute_process(COMMAND "${SCRIPT}" -qec "'${LLMLAB}' train --data '${TEXT}' --delimiter blank --vocab-size 300 --layers 1 --heads 2 --embd 32 --context 32 --batch 8 --steps 40 --eval-every 20 --samples 0 --out '${WORK}/run'" /dev/null
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "train on a terminal: exit ${rc}\n${out}\n${err}")
  endif()
  expect_match("progress bar" "${out}" "\r[^\n]*Kstep [0-9]+/40 [[][#-]+[]] loss [0-9]+[.][0-9]+ [|] [0-9.]+k? tok/s [|] ETA [0-9]+:[0-9][0-9]")
  expect_match("validation line" "${out}" "step +20/40 [|] loss [0-9.]+ [|][^\n]*[|] val loss [0-9.]+ ppl [0-9.]+")
elseif(CASE STREQUAL "prepare_cleans_and_splits")
  # `data prepare` on a fortunes-format file (a line `%` ends a document): two HTML tags and a
  # <br>, a run of spaces, a control character (U+0001), a decomposed "café" (e + U+0301), a
  # document that is only a tag (empty once cleaned) and a duplicate once cleaned — each counted;
  # 40 more distinct fortunes, whose "  -- Someone" lines each lose a space (so 41 whitespace
  # runs: those and "Hello   world"). The shards start with their header; the same seed gives the same
  # shards.
  string(ASCII 1 soh)
  set(text "<p>Hello   world</p>\n%\nHello world\n%\ncontrol${soh}char\n%\ncafé au lait\n%\n<br>\n%\n")
  foreach(i RANGE 1 40)
    string(APPEND text "Fortune ${i}: a saying about the number ${i}.\n  -- Someone ${i}\n%\n")
  endforeach()
  file(WRITE "${WORK}/sayings" "${text}")
  set(LLMLAB_COMMAND data prepare)
  run(0 --data "${WORK}/sayings" --vocab-size 300 --val 0.2 --test 0.2 --out "${WORK}/a")
  message(STATUS "${OUT}")
  expect_match("counts" "${OUT}" "cleaning: 45 documents [(][0-9]+ bytes[)]; 3 HTML tags stripped, 1 control characters removed, 41 whitespace runs normalised, 1 documents changed by NFC, 0 with invalid UTF-8 replaced; 1 empty and 1 duplicate documents dropped; 43 kept")
  file(READ "${WORK}/a/prepare.json" report)
  set(sum 0)
  foreach(split train val test)
    string(JSON n GET "${report}" docs ${split})
    string(JSON t GET "${report}" tokens ${split})
    if(n EQUAL 0 OR t LESS n)
      message(FATAL_ERROR "the ${split} split: ${n} documents, ${t} tokens")
    endif()
    math(EXPR sum "${sum} + ${n}")
    file(READ "${WORK}/a/${split}.bin" head HEX LIMIT 16)
    expect_match("${split}.bin header" "${head}" "^4c4c4d4c41425453010000002c010000$")  # LLMLABTS, 1, 300
  endforeach()
  if(NOT sum EQUAL 43)
    message(FATAL_ERROR "the splits hold ${sum} documents, not the 43 kept")
  endif()
  run(0 --data "${WORK}/sayings" --vocab-size 300 --val 0.2 --test 0.2 --out "${WORK}/b")
  foreach(f train.bin val.bin test.bin tokenizer.tiktoken)
    expect_same_file("${WORK}/a/${f}" "${WORK}/b/${f}")
  endforeach()
  # the prepared directory trains (--data DIR), and refused input leaves nothing behind
  set(LLMLAB_COMMAND)
  run(0 train --data "${WORK}/a" --layers 1 --heads 2 --embd 32 --context 8 --batch 4 --steps 3
      --samples 1 --out "${WORK}/run")
  expect_match("prepared" "${OUT}" "test loss [0-9.]+ [(]perplexity")
  set(LLMLAB_COMMAND data prepare)
  file(WRITE "${WORK}/blank" "\n%\n   \n%\n<br>\n")
  run(2 --data "${WORK}/blank" --out "${WORK}/none")
  expect_match("no text" "${ERR}" "llmlab data prepare: --data: the files hold no text")
  run(2 --data "${WORK}/sayings" --val 0.6 --test 0.5 --out "${WORK}/none")
  expect_match("fractions" "${ERR}" "--val 0.6.* and --test 0.5.*sum < 1")
  if(EXISTS "${WORK}/none")
    message(FATAL_ERROR "a refused data prepare left ${WORK}/none behind")
  endif()
elseif(CASE STREQUAL "default_corpus")
  # `llmlab train` without --data takes the default corpus's fortune files by name; here
  # LLMLAB_FORTUNES_DIR points at tiny ones (TEXT's paragraphs as fortunes in `cookie`, the other
  # eight empty) and a few steps run the default path end to end. Without the files, it says what
  # to install.
  file(READ "${TEXT}" body)
  string(REGEX REPLACE "\n[ \t]*\n" "\n%\n" body "${body}")
  foreach(name cookie computers people science work wisdom literature humorists education)
    file(WRITE "${WORK}/fortunes/${name}" "")
  endforeach()
  file(WRITE "${WORK}/fortunes/cookie" "${body}")
  set(ENV{LLMLAB_FORTUNES_DIR} "${WORK}/fortunes")
  run(0 train --vocab-size 300 --layers 1 --heads 2 --embd 32 --context 32 --batch 8 --steps 30
      --eval-every 10 --samples 2 --out "${WORK}/run")
  message(STATUS "${OUT}")
  expect_match("default corpus" "${OUT}" "the default corpus, 9 fortune files of .*fortunes")
  expect_match("baseline" "${OUT}" "unigram baseline: validation loss [0-9.]+")
  expect_match("end" "${OUT}" "validation loss [0-9.]+ [(]perplexity [0-9.]+[)] vs the unigram baseline .*test loss [0-9.]+ .*sample 2: ")
  file(REMOVE "${WORK}/fortunes/wisdom")
  run(2 train --steps 3 --out "${WORK}/run2")
  expect_match("not installed" "${ERR}" "the default corpus, Debian's fortunes, is not installed [(].*wisdom is missing[)]: run scripts/setup.sh")
  unset(ENV{LLMLAB_FORTUNES_DIR})
else()
  message(FATAL_ERROR "unknown CASE ${CASE}")
endif()
