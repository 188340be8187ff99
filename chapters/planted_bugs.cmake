# The planted bugs: the classic mistakes of the labs, each planted in a copy of llmlab's own solution
# and run through its chapter's checks exactly as a student's lab would be. Each must fail them with
# a message that names the output and the first bad index (the EXPECT regex) — proof that the
# checks catch the bug a student is most likely to make, not just the starter's "not implemented".
#
#   llmlab_plant_bug(NAME CHAPTER chNN CHECKS checks.cpp SOLUTION a.cu ... BREAK a.cu
#                    REPLACE regex WITH text EXPECT regex [VERIFY component] [HEADER h.cuh])
#
# copies SOLUTION (files of optimized/src) into the build tree, replaces REPLACE by WITH in BREAK
# (configuring fails if the pattern no longer matches: the bug must be planted again, not silently
# lost), builds chNN's checks against the copy and registers planted_bug_NAME (label planted_bugs),
# which passes when the checks fail with output matching EXPECT. With VERIFY, the copy is put behind
# the component's C ABI as the chapter's lab plugin is, and `llmlab verify <component> --impl` is what
# must fail (its guard zones see a write past a buffer, which the checks' plain buffers cannot).
# With HEADER (a path under optimized/include, e.g. llmlab/cuda/primitives.cuh) that header is copied
# too and found first by the copy's sources, so BREAK may name it: the bug is then in a helper the
# lab writes itself (chapter 03's block_allsum) that llmlab's solution takes from the header.
# No `;` and no unbalanced `[` in
# REPLACE, WITH or EXPECT: CMake would split its argument lists there (`.` matches either).
function(llmlab_plant_bug NAME)
  cmake_parse_arguments(ARG "" "CHAPTER;CHECKS;BREAK;REPLACE;WITH;EXPECT;VERIFY;HEADER" "SOLUTION" ${ARGN})
  set(src "${PROJECT_SOURCE_DIR}/optimized/src")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/planted_bugs/${NAME}")
  set(copies "")
  set(files "")
  foreach(file IN LISTS ARG_SOLUTION)
    list(APPEND files "${src}/${file}|${dir}/${file}|${file}")
    list(APPEND copies "${dir}/${file}")
  endforeach()
  if(ARG_HEADER)
    list(APPEND files "${PROJECT_SOURCE_DIR}/optimized/include/${ARG_HEADER}|${dir}/include/${ARG_HEADER}|${ARG_HEADER}")
  endif()
  foreach(entry IN LISTS files)
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 from)
    list(GET entry 1 to)
    list(GET entry 2 file)
    file(READ "${from}" text)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${from}")
    if(file STREQUAL ARG_BREAK)
      string(REGEX REPLACE "${ARG_REPLACE}" "${ARG_WITH}" broken "${text}")
      if(broken STREQUAL text)
        message(FATAL_ERROR "planted bug ${NAME}: `${ARG_REPLACE}` no longer matches "
                            "${file}; plant the bug again in chapters/planted_bugs.cmake")
      endif()
      set(text "${broken}")
    endif()
    file(CONFIGURE OUTPUT "${to}" CONTENT "${text}" @ONLY)
  endforeach()
  llmlab_add_cuda_library(planted_${NAME} EMU_ONLY SOURCES ${copies} LINK llmlab::core INCLUDE "${src}")
  if(ARG_HEADER)  # the broken copy of the header comes before optimized/include
    target_include_directories(planted_${NAME}_emu BEFORE PUBLIC "${dir}/include")
  endif()
  if(ARG_VERIFY)
    llmlab_add_cuda_library(planted_${NAME}_plugin SHARED EMU_ONLY
      SOURCES "${src}/abi/${ARG_VERIFY}.cu" CUDA_LINK planted_${NAME})
    set(command $<TARGET_FILE:llmlab> verify ${ARG_VERIFY} --impl $<TARGET_FILE:planted_${NAME}_plugin_emu>)
  else()
    llmlab_add_chapter_checks(planted_${NAME}_checks CHECKS "${ARG_CHECKS}" KERNELS planted_${NAME}_emu)
    set(command $<TARGET_FILE:planted_${NAME}_checks>)
  endif()
  llmlab_add_expect_failure_test(planted_bug_${NAME}
    REGEX "${ARG_EXPECT}"
    COMMAND ${command}
    LABELS emu planted_bugs ${ARG_CHAPTER}
    ENVIRONMENT "LLMLAB_EMU_SCHEDULE=random:20261123;LLMLAB_EMU_THREADS=4")
endfunction()

set(_ch00 "${CMAKE_CURRENT_SOURCE_DIR}/00-setup/checks/ch00_checks.cpp")
set(_ch03 "${CMAKE_CURRENT_SOURCE_DIR}/03-layers/checks/ch03_checks.cpp")

# The tree reduction's barrier forgotten: a thread reads its partner's partial before the partner
# has added into it. A wrong sum under some schedules only; the race detector names it under all.
if(NOT LLMLAB_SANITIZE)  # the race detector is off under the asan preset
  llmlab_plant_bug(missing_barrier CHAPTER ch00 CHECKS ${_ch00}
    SOLUTION vector_add.cu reduce_sum.cu BREAK reduce_sum.cu
    REPLACE "(partial\\[t\\] \\+= partial\\[t \\+ s\\].)\n    __syncthreads\\(\\)." WITH "\\1"
    EXPECT "data race .(read after write|write after read). on static __shared__ memory `[^`\n]*reduce_sum_v1<float>[(][^`\n]*[)]::partial` [^\n]*\n[^\n]*reduce_sum.cu:[0-9]+")
endif()

# The unbiased variance (÷ (C − 1), as torch.var's default) where LayerNorm divides by C.
llmlab_plant_bug(unbiased_variance CHAPTER ch03 CHECKS ${_ch03}
  SOLUTION layernorm.cu layernorm_backward.cu BREAK layernorm.cu
  REPLACE "/ static_cast<float>\\(C\\) \\+ eps" WITH "/ static_cast<float>(C - 1) + eps"
  EXPECT "FAIL layernorm_forward [^\n]* (y|rstd) .ratio[^\n]*\n  first bad index")

# Racy accumulation: layernorm backward's first stage adds every row chunk's dw partial into one row
# of the scratch with a plain `+=` from several blocks (instead of writing a row per chunk for the
# fixed-order second stage). A GPU loses an update only now and then; the emulator's race detector
# (docs/emulator.md, memory checks) fails every run, naming the buffer, both blocks and the line.
if(NOT LLMLAB_SANITIZE)  # the race detector is off under the asan preset
  llmlab_plant_bug(racy_accumulation CHAPTER ch03 CHECKS ${_ch03}
    SOLUTION layernorm.cu layernorm_backward.cu BREAK layernorm_backward.cu
    REPLACE "scratch\\[static_cast<std::int64_t>\\(blockIdx.y\\) \\* C \\+ c\\] = total_dw"
    WITH "scratch[c] += total_dw"
    EXPECT "data race .[a-z ]+. on global memory[^\n]*\n[^\n]*layernorm_backward.cu:[0-9]+[^\n]*\n[^\n]*layernorm_backward.cu:[0-9]+[^\n]*\n  missing synchronisation: threads of different blocks")
endif()

# The shared buffer reused without a barrier (chapter 03's step 5 writes block_allsum itself):
# block_allreduce's second __syncthreads dropped, so LayerNorm's second sum (the variance) stores
# warp partials while slower threads still read the first sum's. A wrong statistic under some
# schedules only, since no ordering of whole threads at barriers exposes it; the race detector
# names it (write after read) under every schedule, with the lines of the two block_allsum calls
# whose accesses race (the inlined helper's accesses count as its call sites' lines).
if(NOT LLMLAB_SANITIZE)  # the race detector is off under the asan preset
  llmlab_plant_bug(reused_shared_buffer CHAPTER ch03 CHECKS ${_ch03}
    SOLUTION layernorm.cu layernorm_backward.cu HEADER llmlab/cuda/primitives.cuh
    BREAK llmlab/cuda/primitives.cuh
    REPLACE "(total = Op..\\(total, warp_partial\\[i\\]\\).)\n  __syncthreads\\(\\)." WITH "\\1"
    EXPECT "data race .(write after read|read after write). on static __shared__ memory `[^`\n]*block_allreduce<[^`\n]*::warp_partial` [^\n]*\n[^\n]*(primitives.cuh|layernorm[_a-z]*.cu):[0-9]+[^\n]*\n[^\n]*(primitives.cuh|layernorm[_a-z]*.cu):[0-9]+[^\n]*\n  missing synchronisation: a __syncthreads..")
endif()

# One element past the output: normalise_row's bound `c < C` written `c <= C`, so each row also
# writes the next row's first element and the last row one past the end of y, through the lab's
# plugin as `llmlab verify layernorm --impl` loads it. verify's guard zone after y sees the write
# past the end (which the checks' plain buffers cannot): "wrote outside `y` (1 elements): element
# 1, 1 past the end" on a one-row shape; the race detector names the line of the store wherever a
# next row's element is overwritten (other warps and blocks write it too), and that line is what the
# test asks for. Under the asan preset (no race detector) verify's guard zone is the check.
if(LLMLAB_SANITIZE)
  set(_one_past_expect "wrote outside `y`[^\n]*past the end|AddressSanitizer")
else()
  set(_one_past_expect "data race .write after write. on global memory[^\n]*\n[^\n]*layernorm.cu:[0-9]+")
endif()
llmlab_plant_bug(row_one_past_the_end CHAPTER ch03 VERIFY layernorm
  SOLUTION layernorm.cu layernorm_backward.cu BREAK layernorm.cu
  REPLACE "(for \\(std::int64_t c = first. c )< (C. c \\+= step\\))" WITH "\\1<= \\2"
  EXPECT "${_one_past_expect}")

# The last row dropped: the bound `r >= N` written `r >= N - 1`.
llmlab_plant_bug(last_row_dropped CHAPTER ch03 CHECKS ${_ch03}
  SOLUTION layernorm.cu layernorm_backward.cu BREAK layernorm.cu
  REPLACE "if \\(r >= N\\) return" WITH "if (r >= N - 1) return"
  EXPECT "FAIL layernorm_forward [^\n]* (y|mean|rstd) .ratio[^\n]*\n  first bad index")

# Off by one: the default version's grid-stride loop bounded by `i <= n` writes one element past
# the end of c. The checks' buffers have no guard zone, so `llmlab verify vector_add` on the lab's
# plugin is the check that sees it (scripts/lab.sh runs it as ch00_lab_verify_vector_add); under
# the asan preset, AddressSanitizer stops the worker.
llmlab_plant_bug(off_by_one CHAPTER ch00 VERIFY vector_add
  SOLUTION vector_add.cu BREAK vector_add.cu
  REPLACE "i < n(. i \\+= stride\\) c\\[i\\])" WITH "i <= n\\1"
  EXPECT "FAIL [^\n]*wrote outside `c` .[0-9]+ elements.: element [0-9]+, 1 past the end|AddressSanitizer")

set(_ch04 "${CMAKE_CURRENT_SOURCE_DIR}/04-attention/checks/ch04_checks.cpp")
set(_ch06 "${CMAKE_CURRENT_SOURCE_DIR}/06-optimizers/checks/ch06_checks.cpp")

# The online softmax without its rescaling: when the running maximum grows, the accumulator keeps
# its old scale (α = 1 instead of e^(m_old − m_new)).
llmlab_plant_bug(no_rescale CHAPTER ch04 CHECKS ${_ch04}
  SOLUTION attention.cu BREAK attention.cu
  REPLACE "expf\\(run.m - next.m\\)" WITH "1.0f"
  EXPECT "FAIL attention_forward [^\n]* out .ratio[^\n]*\n  first bad index")

# Adam without bias correction: the first steps are far too small for m and far too large for v.
llmlab_plant_bug(no_bias_correction CHAPTER ch06 CHECKS ${_ch06}
  SOLUTION optimizer.cu optimizer_list.cu BREAK optimizer.cu
  REPLACE "1.0f - std::pow\\(h.beta1, t\\)" WITH "1.0f"
  EXPECT "FAIL [^\n]* param .ratio[^\n]*\n  first bad index")
