#pragma once
/// \file
/// \brief Kernels with planted bugs for notebook 00 (python/src/planted_bugs.cu), launched from
/// Python through llmlab.emu: what the emulator reports, and what a schedule changes.

#include <cstdint>
#include <string_view>

#include "llmlab/cuda/kernel.cuh"

namespace llmlab::python::bugs {

/// Row sums of x (R, C) by a 256-thread shared-memory tree, one block per row. With
/// `syncthreads` false the barriers between the tree's steps are left out: a thread may read a
/// partial sum before its owner wrote it, and the result then depends on the order the threads run.
/// @param x (R, C) device pointer   @param out (R) device pointer   @param rows R   @param cols C
/// @param syncthreads false plants the bug
/// @returns the launch's cudaError_t
cudaError_t tree_reduce_sum(const float* x, float* out, std::int64_t rows, std::int64_t cols,
                            bool syncthreads);

/// Launches the kernel named `name`, one of planted_bug_names, on one block of 64 threads:
/// "divergent_barrier" (threads 0–15 and 16–63 wait at two different __syncthreads),
/// "shuffle_after_exit" (lanes ≥ 20 return before a full-mask __shfl_down_sync),
/// "deadlock" (half of each warp waits in a shuffle, the other half at a barrier).
/// @returns the launch's cudaError_t (an error for every one of them under the emulator)
/// @throws llmlab::Error naming the unknown bug.
cudaError_t run_planted_bug(std::string_view name);

/// The names run_planted_bug accepts, separated by spaces.
inline constexpr std::string_view planted_bug_names =
    "divergent_barrier shuffle_after_exit deadlock";

}  // namespace llmlab::python::bugs
