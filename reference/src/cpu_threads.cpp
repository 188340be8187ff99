/// \file
/// \brief set_cpu_threads (llmlab/ref/train.hpp) and the thread count it sets (cpu_threads.hpp).

#include "cpu_threads.hpp"

#include <omp.h>

#include <atomic>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/train.hpp"

namespace llmlab::ref {
namespace {
std::atomic<int> cpu_thread_count{1};  // detail::cpu_threads(): 1 until set_cpu_threads
}  // namespace

int detail::cpu_threads() { return cpu_thread_count.load(std::memory_order_relaxed); }

void set_cpu_threads(int n) {
  // An absurd count would have every parallel region start that many OS threads.
  constexpr int kMostThreads = 1024;
  if (n < 0 || n > kMostThreads)
    throw Error("set_cpu_threads", "n = " + std::to_string(n) + " (must be in [0, " +
                                       std::to_string(kMostThreads) + "]; 0: one per processor)");
  openblas_set_num_threads(1);  // the GEMMs run side by side on OpenMP's threads (cpu_threads.hpp)
  cpu_thread_count.store(n > 0 ? n : omp_get_num_procs(), std::memory_order_relaxed);
}

}  // namespace llmlab::ref
