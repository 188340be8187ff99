#pragma once
/// \file
/// \brief Private to reference/src: who runs the GEMMs' threads. set_cpu_threads (train.hpp) gives
/// OpenBLAS one thread and OpenMP n: the reference then runs its independent GEMMs (blocks of rows,
/// attention's heads) side by side on OpenMP threads, one pool for everything, instead of
/// OpenBLAS's pool and OpenMP's spinning against each other on the same cores. Left at OpenBLAS's
/// default (tests, the Python module), the same GEMM calls run one after another, each on
/// OpenBLAS's threads.

/// OpenBLAS's thread count (cblas.h's; linked through xtensor-blas).
extern "C" int openblas_get_num_threads(void);
/// Sets OpenBLAS's thread count (set_cpu_threads).
extern "C" void openblas_set_num_threads(int);

namespace llmlab::ref::detail {

/// True when OpenBLAS runs each GEMM on its calling thread alone, so that GEMMs may run side by
/// side on OpenMP threads (`#pragma omp parallel for if(blas_is_serial())`).
inline bool blas_is_serial() { return openblas_get_num_threads() == 1; }

}  // namespace llmlab::ref::detail
