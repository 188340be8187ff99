#pragma once
/// \file
/// \brief Private to reference/src: how many threads the reference's loops use. set_cpu_threads
/// (train.hpp) gives OpenBLAS one thread and the reference's OpenMP loops n: the reference then
/// runs its independent GEMMs (blocks of rows, attention's heads) side by side on OpenMP threads,
/// one pool for everything, instead of OpenBLAS's pool and OpenMP's spinning against each other on
/// the same cores. Left alone (the tests, `llmlab verify`, the Python module), the loops run on the
/// calling thread and each GEMM on OpenBLAS's threads.

/// OpenBLAS's thread count (cblas.h's; linked through xtensor-blas).
extern "C" int openblas_get_num_threads(void);
/// Sets OpenBLAS's thread count (set_cpu_threads).
extern "C" void openblas_set_num_threads(int);

namespace llmlab::ref::detail {

/// The thread count of every `#pragma omp parallel for` in the reference (its `num_threads`
/// clause): 1 until set_cpu_threads sets it. So a program that never asks never starts OpenMP's
/// thread pool — which matters for more than speed: libgomp's pool does not survive fork(), and a
/// forked child's next parallel region waits forever for its parent's pool threads (`llmlab
/// verify` forks a worker per component after computing references in the parent).
int cpu_threads();

}  // namespace llmlab::ref::detail
