#pragma once
/// \file
/// \brief Private to reference/src: how many threads the reference's loops use. set_cpu_threads
/// (train.hpp) gives OpenBLAS one thread and the reference's OpenMP loops n: the reference then
/// runs its independent GEMMs (blocks of rows, attention's heads) side by side on OpenMP threads,
/// one pool for everything, instead of OpenBLAS's pool and OpenMP's spinning against each other on
/// the same cores. Left alone (the tests, `llmlab verify`, the Python module), the loops run on the
/// calling thread and each GEMM on OpenBLAS's threads.

#include <algorithm>
#include <cstddef>

/// Sets OpenBLAS's thread count (cblas.h's; linked through xtensor-blas; set_cpu_threads).
extern "C" void openblas_set_num_threads(int);

namespace llmlab::ref::detail {

/// The thread count of every `#pragma omp parallel for` in the reference (its `num_threads`
/// clause): 1 until set_cpu_threads sets it. So a program that never asks never starts OpenMP's
/// thread pool — which matters for more than speed: libgomp's pool does not survive fork(), and a
/// forked child's next parallel region waits forever for its parent's pool threads (`llmlab
/// verify` forks a worker per component after computing references in the parent).
int cpu_threads();

/// Elements per work item of for_each_chunk: 16 KiB of floats.
constexpr std::size_t kChunk = 4096;

/// Calls `f(i0, n)` for the chunks [i0, i0 + n) of kChunk elements (the last one shorter) that
/// cover [0, size), the chunks on cpu_threads() OpenMP threads: each element is computed whole by
/// one thread, so the results are the same bits for any thread count.
template <class F>
void for_each_chunk(std::size_t size, F&& f) {
  const std::size_t chunks = (size + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
  for (std::size_t c = 0; c < chunks; ++c) f(c * kChunk, std::min(kChunk, size - c * kChunk));
}

/// Rows side by side in for_each_row_group: enough independent chains of additions to hide an
/// addition's latency.
constexpr std::size_t kRowGroup = 8;

/// Calls `f.template operator()<kRowGroup>(row)` for the groups [row, row + kRowGroup) of
/// consecutive rows that cover [0, rows − rows mod kRowGroup), the groups on cpu_threads() OpenMP
/// threads, then `f.template operator()<1>(row)` for each row left over. For row-wise work whose
/// sums run left to right (cross-entropy's logsumexp, LayerNorm's rows): f does a group's rows
/// side by side, each row still whole on one thread and its sums in their order, so the results
/// are the same bits for any thread count and any group size.
template <class F>
void for_each_row_group(std::size_t rows, F&& f) {
  const std::size_t groups = rows / kRowGroup;
#pragma omp parallel for schedule(static) num_threads(cpu_threads())
  for (std::size_t g = 0; g < groups; ++g) f.template operator()<kRowGroup>(g * kRowGroup);
  for (std::size_t row = groups * kRowGroup; row < rows; ++row) f.template operator()<1>(row);
}

}  // namespace llmlab::ref::detail
