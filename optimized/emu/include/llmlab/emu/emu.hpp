#pragma once
/// \file
/// \ingroup group_emulator
/// \brief The CUDA execution-model emulator: CUDA's names for g++, and kernels run on the CPU.
///
/// Model (docs/design.md §4): one Boost.Context fiber per CUDA thread that has to wait; one OS thread
/// runs one block to completion; blocks spread over a small pool of OS threads
/// (`LLMLAB_EMU_THREADS=N`). Threads of a block start in schedule order
/// (`LLMLAB_EMU_SCHEDULE=forward|reverse|random:SEED`) and run until they finish or wait at a
/// barrier or a warp function; a thread that never waits costs a plain function call (the
/// barrier-free fast path: a runner fiber calls the kernel for thread after thread, and only a thread
/// that waits keeps the fiber, while a fresh runner carries on with the rest).
///
/// Diagnostics name the kernel (demangled, template arguments too), launch, block, thread and line,
/// and make `launch` return an error instead of hanging: divergent barriers, deadlocks, warp masks
/// naming lanes that exited or never arrive, an exception in kernel code, a bad configuration, a
/// write into the guard zones around every cudaMalloc'd buffer (checked as each launch ends, at
/// cudaFree, cudaMemcpy, cudaMemset). Under AddressSanitizer cudaMalloc and dynamic shared memory
/// are exact-size allocations, and ASan's report is followed by the block and thread that made it.
///
/// Include `<llmlab/cuda/kernel.cuh>`, not this file.

// Standard headers first: CUDA's host_defines.h redefines words (e.g. __noinline__) that the
// standard library uses in attributes.
#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <source_location>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// Must come before any CUDA header: host_defines.h defines __shared__ only if it is undefined, and
// then as nothing, which would give every emulated thread a private copy. One OS thread runs one
// block at a time, so a thread_local is exactly "shared by the block".
#define __shared__ static thread_local  ///< one copy per OS thread = per running block
#define __constant__  ///< constant memory is ordinary host memory under the emulator
#define __managed__   ///< managed memory is ordinary host memory under the emulator
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif

#include <cuda_runtime_api.h>  // declarations only: the emulator defines the runtime subset itself
#include <cuda_bf16.h>
#include <cuda_fp16.h>

// ---- built-in variables: real thread_local variables the scheduler sets before every resume ----
// constinit and initial-exec: a read is one %fs-relative load, with no TLS wrapper or resolver call.
// In kernels built with the memory checks (-fsanitize=thread instrumentation, docs/emulator.md)
// they are declared const: GCC does not instrument reads of read-only data, so reading a built-in
// costs no access-hook call. Only the scheduler (libllmlab_emu, never instrumented) writes them,
// and within one call of a kernel (one CUDA thread) their values never change, so a compiler that
// assumes a const object unchanged cannot be misled.
#if defined(__SANITIZE_THREAD__)
#define LLMLAB_EMU_BUILTIN extern constinit const thread_local __attribute__((tls_model("initial-exec"))) ///< a built-in
#else
#define LLMLAB_EMU_BUILTIN extern constinit thread_local __attribute__((tls_model("initial-exec"))) ///< a built-in
#endif
LLMLAB_EMU_BUILTIN uint3 threadIdx;  ///< this thread's index in its block
LLMLAB_EMU_BUILTIN uint3 blockIdx;   ///< this block's index in the grid
LLMLAB_EMU_BUILTIN dim3 blockDim;    ///< threads per block
LLMLAB_EMU_BUILTIN dim3 gridDim;     ///< blocks per grid
#undef LLMLAB_EMU_BUILTIN
inline constexpr int warpSize = 32;   ///< lanes per warp

namespace llmlab::emu {

/// The diagnostic of the last failed launch on this process ("" if none failed yet).
std::string last_diagnostic();

/// The device memory the emulated runtime has handed out (cudaMalloc and cudaMallocHost), so a
/// test can measure what a launch sequence allocates — e.g. that a kernel's workspace grows like
/// T, not T² (tests/attention_test.cpp).
struct MemoryCounters {
  std::size_t live_bytes = 0;       ///< allocated and not yet freed
  std::size_t peak_bytes = 0;       ///< the most live at once since the last reset
  std::size_t allocated_bytes = 0;  ///< every allocation's size summed since the last reset
  std::int64_t allocations = 0;     ///< allocations since the last reset
};

/// The counters now (thread-safe).
MemoryCounters memory_counters();

/// Starts a measurement: peak_bytes becomes live_bytes, allocated_bytes and allocations 0.
void reset_memory_counters();

/// Whether `text` is a schedule LLMLAB_EMU_SCHEDULE accepts: forward, reverse or random:SEED (""
/// counts as forward). Every launch refuses a bad one; llmlab.emu.schedule() asks up front.
bool valid_schedule(const std::string& text);

/// Pointer to the running block's dynamic shared memory (what dynamic_shared<T>() returns).
void* dynamic_shared_memory();

/// Type-erased launch: `run_thread(ctx)` runs the kernel body for the current thread.
struct LaunchSpec {
  dim3 grid;                                ///< blocks per grid
  dim3 block;                               ///< threads per block
  std::size_t dynamic_shared_bytes = 0;     ///< bytes of dynamic shared memory per block
  void (*run_thread)(void* ctx) = nullptr;  ///< runs the kernel body for the current thread
  void* ctx = nullptr;                      ///< the launch's arguments, handed to run_thread
  const void* kernel_address = nullptr;  ///< used to name the kernel in reports
  const char* kernel_label = nullptr;    ///< the kernel's name as written, when there is no address
};

/// Runs every block of the grid; returns after the last block ends or the first error.
cudaError_t launch_spec(const LaunchSpec& spec);

namespace detail {
/// A launch's kernel and its parameters, as every thread of the launch reads them.
template <class... Params>
struct KernelClosure {
  void (*kernel)(Params...);
  std::tuple<std::remove_cvref_t<Params>...> params;
  const void* at[sizeof...(Params) ? sizeof...(Params) : 1];  ///< the address of each parameter
  /// One thread: the kernel with its own copies of the parameters. Not instrumented: copying them
  /// from the closure is not device memory traffic, and would cost an access-hook call per
  /// parameter and thread in builds with the memory checks, which also cannot inline an
  /// instrumented helper such as std::apply or std::get here (hence `at`).
  __attribute__((no_sanitize_thread)) static void run_thread(void* ctx) {
    call(static_cast<const KernelClosure*>(ctx), std::index_sequence_for<Params...>{});
  }
  template <std::size_t... I>
  __attribute__((no_sanitize_thread)) static void call(const KernelClosure* c, std::index_sequence<I...>) {
    c->kernel(*static_cast<const std::remove_cvref_t<Params>*>(c->at[I])...);
  }
};
}  // namespace detail

/// The emulated kernel launch behind llmlab::cuda::launch: converts the arguments to the kernel's
/// parameter types once (as a real launch copies them), then every thread calls the kernel with
/// its own copy.
template <class... Params, class... Args>
cudaError_t launch(const cudaLaunchConfig_t& cfg, void (*kernel)(Params...), Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "launch: wrong number of kernel arguments");
  detail::KernelClosure<Params...> closure{kernel, {std::forward<Args>(args)...}, {}};
  [&closure]<std::size_t... I>(std::index_sequence<I...>) {
    ((closure.at[I] = &std::get<I>(closure.params)), ...);
  }(std::index_sequence_for<Params...>{});
  LaunchSpec spec;
  spec.grid = cfg.gridDim;
  spec.block = cfg.blockDim;
  spec.dynamic_shared_bytes = cfg.dynamicSmemBytes;
  spec.run_thread = &detail::KernelClosure<Params...>::run_thread;
  spec.ctx = &closure;
  spec.kernel_address = reinterpret_cast<const void*>(kernel);
  return launch_spec(spec);
}

/// Warp functions all go through one rendezvous.
enum class WarpOp { shfl, shfl_up, shfl_down, shfl_xor, ballot, any, all, syncwarp };

/// One lane's arrival at a warp function. `value` points to 16 readable bytes holding the lane's
/// operand (its first `bytes` count), `param` is the source lane / delta / lane mask, `width` the
/// shuffle segment. 16 bytes are written to `result`: the operand type's bytes for shuffles, a
/// 32-bit word for votes.
void warp_sync(WarpOp op, unsigned mask, const void* value, std::size_t bytes, int param, int width,
               void* result, const std::source_location& where);

/// A block-wide barrier; `count` is this thread's predicate for __syncthreads_count/_and/_or, the
/// return value the number of threads of the block whose predicate was non-zero.
int barrier(int predicate, const std::source_location& where);

/// Shuffle of any trivially copyable type of at most 16 bytes.
template <class T>
T shuffle(WarpOp op, unsigned mask, const T& var, int param, int width,
          const std::source_location& where) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 16,
                "emulated shuffles move trivially copyable values of at most 16 bytes");
  // Through 16-byte buffers: the emulator then copies a fixed size, which compiles to two moves.
  alignas(16) unsigned char in[16] = {};
  alignas(16) unsigned char out[16];
  std::memcpy(in, &var, sizeof(T));
  warp_sync(op, mask, in, sizeof(T), param, width, out, where);
  T result;
  std::memcpy(static_cast<void*>(&result), out, sizeof(T));
  return result;
}

/// Ballot / any / all through the warp rendezvous; returns the 32-bit vote result.
inline unsigned vote(WarpOp op, unsigned mask, int predicate, const std::source_location& where) {
  alignas(16) unsigned char in[16] = {}, out[16];
  std::memcpy(in, &predicate, sizeof predicate);
  warp_sync(op, mask, in, sizeof predicate, 0, warpSize, out, where);
  unsigned result;
  std::memcpy(&result, out, sizeof result);
  return result;
}

}  // namespace llmlab::emu

// ---- synchronisation ---------------------------------------------------------------------------

/// Block-wide barrier: every (non-exited) thread of the block must reach the same __syncthreads.
inline void __syncthreads(const std::source_location& where = std::source_location::current()) {
  llmlab::emu::barrier(0, where);
}
/// Barrier that also counts the threads whose predicate is non-zero.
inline int __syncthreads_count(int predicate,
                               const std::source_location& where = std::source_location::current()) {
  return llmlab::emu::barrier(predicate != 0, where);
}
/// Barrier that returns non-zero iff every thread's predicate is non-zero.
inline int __syncthreads_and(int predicate,
                             const std::source_location& where = std::source_location::current()) {
  return llmlab::emu::barrier(predicate != 0, where) == static_cast<int>(blockDim.x * blockDim.y * blockDim.z);
}
/// Barrier that returns non-zero iff some thread's predicate is non-zero.
inline int __syncthreads_or(int predicate,
                            const std::source_location& where = std::source_location::current()) {
  return llmlab::emu::barrier(predicate != 0, where) > 0;
}
/// Rendezvous of the lanes in `mask`.
inline void __syncwarp(unsigned mask = 0xffffffffu,
                       const std::source_location& where = std::source_location::current()) {
  alignas(16) unsigned char in[16] = {}, out[16];
  llmlab::emu::warp_sync(llmlab::emu::WarpOp::syncwarp, mask, in, sizeof(int), 0, warpSize, out, where);
}
/// Memory fences: the emulator's threads share one address space, so a sequentially consistent fence.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
/// Block-scope memory fence (sequentially consistent under the emulator).
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// ---- warp shuffles and votes -------------------------------------------------------------------

/// Value of `var` held by lane `srcLane` (mod width) of this lane's segment.
template <class T>
T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize,
              const std::source_location& where = std::source_location::current()) {
  return llmlab::emu::shuffle(llmlab::emu::WarpOp::shfl, mask, var, srcLane, width, where);
}
/// Value held by lane − delta; lanes with no such lane in their segment keep their own.
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 const std::source_location& where = std::source_location::current()) {
  return llmlab::emu::shuffle(llmlab::emu::WarpOp::shfl_up, mask, var, static_cast<int>(delta), width,
                              where);
}
/// Value held by lane + delta; lanes with no such lane in their segment keep their own.
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   const std::source_location& where = std::source_location::current()) {
  return llmlab::emu::shuffle(llmlab::emu::WarpOp::shfl_down, mask, var, static_cast<int>(delta),
                              width, where);
}
/// Value held by lane XOR laneMask (butterfly exchange).
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize,
                  const std::source_location& where = std::source_location::current()) {
  return llmlab::emu::shuffle(llmlab::emu::WarpOp::shfl_xor, mask, var, laneMask, width, where);
}
/// Bit i set iff lane i is in mask and its predicate is non-zero.
inline unsigned __ballot_sync(unsigned mask, int predicate,
                              const std::source_location& where = std::source_location::current()) {
  return static_cast<unsigned>(llmlab::emu::vote(llmlab::emu::WarpOp::ballot, mask, predicate, where));
}
/// Non-zero iff some lane in mask has a non-zero predicate.
inline int __any_sync(unsigned mask, int predicate,
                      const std::source_location& where = std::source_location::current()) {
  return static_cast<int>(llmlab::emu::vote(llmlab::emu::WarpOp::any, mask, predicate, where));
}
/// Non-zero iff every lane in mask has a non-zero predicate.
inline int __all_sync(unsigned mask, int predicate,
                      const std::source_location& where = std::source_location::current()) {
  return static_cast<int>(llmlab::emu::vote(llmlab::emu::WarpOp::all, mask, predicate, where));
}
/// Mask of the lanes of this warp that have not exited.
unsigned __activemask();

// ---- atomics (std::atomic_ref; CAS loops where the hardware type has no native atomic) ----------

// CUDA's overload sets (atomicAdd, min/max), cache-hinted loads/stores, fast-math intrinsics,
// __trap, device assert and printf.
#include "llmlab/emu/device_functions.hpp"

/// *address −= val atomically; returns the old value.
template <class T>
T atomicSub(T* address, T val) { return std::atomic_ref<T>(*address).fetch_sub(val); }
/// *address = max(*address, val) atomically; returns the old value.
template <class T>
T atomicMax(T* address, T val) {
  return llmlab::emu::detail::cas_update(address, [&](T old) { return old < val ? val : old; });
}
/// *address = min(*address, val) atomically; returns the old value.
template <class T>
T atomicMin(T* address, T val) {
  return llmlab::emu::detail::cas_update(address, [&](T old) { return val < old ? val : old; });
}
/// If *address == compare then *address = val; returns the old value.
template <class T>
T atomicCAS(T* address, T compare, T val) {
  std::atomic_ref<T>(*address).compare_exchange_strong(compare, val);
  return compare;
}
/// *address = val atomically; returns the old value.
template <class T>
T atomicExch(T* address, T val) {
  if constexpr (std::is_floating_point_v<T>) {
    return llmlab::emu::detail::cas_update(address, [&](T) { return val; });
  } else {
    return std::atomic_ref<T>(*address).exchange(val);
  }
}
/// *address &= val atomically; returns the old value.
template <class T>
T atomicAnd(T* address, T val) { return std::atomic_ref<T>(*address).fetch_and(val); }
/// *address |= val atomically; returns the old value.
template <class T>
T atomicOr(T* address, T val) { return std::atomic_ref<T>(*address).fetch_or(val); }
/// *address ^= val atomically; returns the old value.
template <class T>
T atomicXor(T* address, T val) { return std::atomic_ref<T>(*address).fetch_xor(val); }

// ---- device math the host library lacks ---------------------------------------------------------
// CUDA's own device functions, with CUDA's names and results (see NVIDIA's CUDA Math API): left out
// of llmlab's documentation.
/// \cond CUDA_DEVICE_MATH

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline int __float2int_rn(float x) { return static_cast<int>(std::nearbyint(x)); }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline unsigned __float_as_uint(float x) { unsigned i; std::memcpy(&i, &x, 4); return i; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, 4); return x; }
inline float __uint_as_float(unsigned i) { float x; std::memcpy(&x, &i, 4); return x; }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }

// bfloat16 / half functions that cuda_bf16.h and cuda_fp16.h declare only for the device. Each
// computes in float (exact for one product of 8- or 11-bit significands) and rounds once to the
// 16-bit type; for __hfma the sum is formed in double first, which is exact unless the addends'
// exponents differ by more than ~29, where the rounding of the 16-bit result is unaffected.
inline __nv_bfloat16 __hfma(__nv_bfloat16 a, __nv_bfloat16 b, __nv_bfloat16 c) {
  return __double2bfloat16(double(__bfloat162float(a)) * double(__bfloat162float(b)) +
                           double(__bfloat162float(c)));
}
inline __half __hfma(__half a, __half b, __half c) {
  return __double2half(double(__half2float(a)) * double(__half2float(b)) + double(__half2float(c)));
}
inline __nv_bfloat162 __hfma2(__nv_bfloat162 a, __nv_bfloat162 b, __nv_bfloat162 c) {
  return __nv_bfloat162(__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y));
}
inline __half2 __hfma2(__half2 a, __half2 b, __half2 c) {
  return __half2(__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y));
}
inline __nv_bfloat16 hexp(__nv_bfloat16 x) { return __float2bfloat16(std::exp(__bfloat162float(x))); }
inline __half hexp(__half x) { return __float2half(std::exp(__half2float(x))); }
inline __nv_bfloat16 hsqrt(__nv_bfloat16 x) { return __float2bfloat16(std::sqrt(__bfloat162float(x))); }
inline __half hsqrt(__half x) { return __float2half(std::sqrt(__half2float(x))); }
inline __nv_bfloat16 hrsqrt(__nv_bfloat16 x) {
  return __float2bfloat16(1.0f / std::sqrt(__bfloat162float(x)));
}
inline __half hrsqrt(__half x) { return __float2half(1.0f / std::sqrt(__half2float(x))); }
inline int __bfloat162int_rn(__nv_bfloat16 x) {
  return static_cast<int>(std::nearbyint(__bfloat162float(x)));
}

/// \endcond

// ---- the runtime subset: template conveniences cuda_runtime.h would add -----------------------

/// Typed cudaMalloc, as cuda_runtime.h provides it under nvcc.
template <class T>
cudaError_t cudaMalloc(T** ptr, std::size_t bytes) {
  return ::cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}

/// Typed cudaMallocManaged, as cuda_runtime.h provides it.
template <class T>
cudaError_t cudaMallocManaged(T** ptr, std::size_t bytes, unsigned flags = cudaMemAttachGlobal) {
  return ::cudaMallocManaged(reinterpret_cast<void**>(ptr), bytes, flags);
}
/// Typed cudaMallocHost, as cuda_runtime.h provides it.
template <class T>
cudaError_t cudaMallocHost(T** ptr, std::size_t bytes) {
  return ::cudaMallocHost(reinterpret_cast<void**>(ptr), bytes);
}
/// Typed cudaHostAlloc, as cuda_runtime.h provides it.
template <class T>
cudaError_t cudaHostAlloc(T** ptr, std::size_t bytes, unsigned flags) {
  return ::cudaHostAlloc(reinterpret_cast<void**>(ptr), bytes, flags);
}
/// cudaFuncSetAttribute on a kernel (the emulator keys it by the kernel's address, as launches do).
template <class... Params>
cudaError_t cudaFuncSetAttribute(void (*kernel)(Params...), cudaFuncAttribute attr, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}
/// cudaFuncGetAttributes on a kernel.
template <class... Params>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, void (*kernel)(Params...)) {
  return ::cudaFuncGetAttributes(attr, reinterpret_cast<const void*>(kernel));
}
/// cudaOccupancyMaxActiveBlocksPerMultiprocessor on a kernel.
template <class... Params>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, void (*kernel)(Params...),
                                                          int block_size, std::size_t dynamic_smem) {
  return ::cudaOccupancyMaxActiveBlocksPerMultiprocessor(
      blocks, reinterpret_cast<const void*>(kernel), block_size, dynamic_smem);
}
