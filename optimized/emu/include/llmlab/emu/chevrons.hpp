#pragma once
/// \file
/// \ingroup group_emulator
/// \brief What llmlab-cudapp turns `kernel<<<grid, block, smem, stream>>>(args…)` into.
///
/// `kernel<<<g, b, s, st>>>(a, b)` becomes
/// `launch_chevrons(Chevrons(g, b, s, st), "kernel", [&](auto&&... p) { kernel(p...); }, a, b)`
/// (fully qualified, in namespace llmlab::emu): the arguments are evaluated once and copied (as a
/// real launch copies them into parameter memory), and every emulated thread calls the kernel with
/// its own copy, through an ordinary call, so overloaded kernels and template argument deduction
/// resolve exactly as they do for nvcc. See docs/cuda_code.md.

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "llmlab/emu/emu.hpp"

namespace llmlab::emu {

/// The execution configuration between `<<<` and `>>>`: 2 to 4 values, as CUDA accepts them.
struct Chevrons {
  /// `<<<grid, block, dynamic_shared_bytes, stream>>>`; the stream is accepted and, since the
  /// emulator runs every launch to completion before returning, needs no further handling.
  Chevrons(dim3 grid, dim3 block, std::size_t dynamic_shared_bytes = 0, cudaStream_t stream = nullptr)
      : grid(grid), block(block), dynamic_shared_bytes(dynamic_shared_bytes), stream(stream) {}
  dim3 grid;                             ///< blocks per grid
  dim3 block;                            ///< threads per block
  std::size_t dynamic_shared_bytes = 0;  ///< bytes of `extern __shared__` memory per block
  cudaStream_t stream = nullptr;         ///< the stream (launches complete in order anyway)
};

/// Runs `call(args…)` for every thread of the launch `cfg`; `name` names the kernel in diagnostics.
/// Like a `<<<>>>` launch it returns nothing: a failure is reported on stderr and by
/// cudaGetLastError() / cudaPeekAtLastError(), with the diagnostic in last_diagnostic().
template <class Call, class... Args>
void launch_chevrons(const Chevrons& cfg, const char* name, Call call, Args&&... args) {
  struct Closure {
    Call call;
    std::tuple<std::decay_t<Args>...> params;
  } closure{std::move(call), {std::forward<Args>(args)...}};
  const auto run_thread = [](void* ctx) {
    auto* c = static_cast<Closure*>(ctx);
    // lvalues of the launch's copies: the kernel's by-value parameters copy them per thread
    std::apply([c](auto&... p) { c->call(p...); }, c->params);
  };
  const LaunchSpec spec{cfg.grid, cfg.block, cfg.dynamic_shared_bytes, run_thread, &closure,
                        /*kernel_address=*/nullptr, /*kernel_label=*/name};
  (void)launch_spec(spec);
}

}  // namespace llmlab::emu
