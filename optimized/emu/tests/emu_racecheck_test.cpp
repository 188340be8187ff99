// The memory checks (docs/emulator.md "Memory checks"): each kernel with a planted race,
// uninitialised read or partial barrier must fail its launch under every schedule with a report
// naming the kernel, the memory, both accesses' lines and the missing synchronisation; each fixed
// twin must pass. ctest runs this file under every schedule in LLMLAB_EMU_SCHEDULES; the tests also
// loop over forward, reverse and two random schedules themselves.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <llmlab/cuda/kernel.cuh>
#include <llmlab/emu/chevrons.hpp>

#include "llmlab/testing/device.hpp"
#include "llmlab/testing/env.hpp"

using llmlab::cuda::launch;
using llmlab::cuda::launch_config;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::ScopedEnv;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

namespace emu_races {

const char* const kSchedules[] = {"forward", "reverse", "random:1", "random:77"};

std::string line(int n) { return "emu_racecheck_test.cpp:" + std::to_string(n); }

// Launches under `schedule`; returns "" on success, else the diagnostic.
template <class... P, class... A>
std::string run(const char* schedule, dim3 grid, dim3 block, std::size_t smem, void (*k)(P...), A... args) {
  ScopedEnv env("LLMLAB_EMU_SCHEDULE", schedule);
  const cudaError_t e = launch(launch_config(grid, block, smem), k, args...);
  cudaGetLastError();
  return e == cudaSuccess ? std::string() : llmlab::emu::last_diagnostic();
}

// ---- shared memory ----------------------------------------------------------------------------

// Every thread writes the same word: write after write, whatever the order.
constexpr int kWawLine = __LINE__ + 3;
__global__ void shared_waw(float* out) {
  __shared__ float last;
  last = static_cast<float>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = last;
}
__global__ void shared_waw_fixed(float* out) {
  __shared__ float last;
  if (threadIdx.x == 0) last = 1.0f;
  __syncthreads();
  out[threadIdx.x] = last;
}

// The race detector and the uninitialised-read check need the kernels compiled with GCC's
// -fsanitize=thread instrumentation (llmlab_emu_instrument), which GCC announces as
// __SANITIZE_THREAD__.
#if defined(__SANITIZE_THREAD__)
TEST(EmuRacecheck, SharedWriteAfterWriteIsCaughtUnderEverySchedule) {
  DeviceBuffer<float> out(64);
  for (const char* s : kSchedules) {
    const std::string d = run(s, 1, 64, 0, shared_waw, out.get());
    EXPECT_THAT(d, HasSubstr("`emu_races::shared_waw`")) << s;
    // The variable is named from the module's STT_TLS symbol, with the offset inside it.
    EXPECT_THAT(d, HasSubstr("data race (write after write) on static __shared__ memory "
                             "`emu_races::shared_waw(float*)::last` (4 bytes), byte offset 0 "
                             "(4-byte element 0):"))
        << s;
    EXPECT_THAT(d, HasSubstr("write by block (0,0,0) thread (")) << s;
    EXPECT_THAT(d, HasSubstr(line(kWawLine))) << s;
    EXPECT_EQ(run(s, 1, 64, 0, shared_waw_fixed, out.get()), "") << s;
  }
}

// A <<<>>> launch (llmlab-cudapp's rewrite, launch_chevrons: no kernel address, only a label)
// checks and names static __shared__ memory too, through the module of its thread function.
TEST(EmuRacecheck, ChevronLaunchChecksStaticSharedToo) {
  DeviceBuffer<float> out(64);
  ::testing::internal::CaptureStderr();  // the failed launch's report, printed as <<<>>> does
  llmlab::emu::launch_chevrons(llmlab::emu::Chevrons(1, 64), "shared_waw",
                               [&](auto&&... p) { shared_waw(p...); }, out.get());
  ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  EXPECT_THAT(llmlab::emu::last_diagnostic(),
              HasSubstr("kernel `shared_waw` block (0,0,0): data race (write after write) on "
                        "static __shared__ memory `emu_races::shared_waw(float*)::last` (4 bytes)"));
}

// The neighbour's element without a barrier: read after write or write after read, by order.
constexpr int kNeighbourWrite = __LINE__ + 4;
constexpr int kNeighbourRead = __LINE__ + 5;
__global__ void neighbour(const float* in, float* out, bool sync) {
  float* tile = llmlab::cuda::dynamic_shared<float>();
  tile[threadIdx.x] = in[threadIdx.x];
  if (sync) __syncthreads();
  out[threadIdx.x] = tile[(threadIdx.x + 32) % blockDim.x];  // another warp's element
}

TEST(EmuRacecheck, ForgottenBarrierBeforeANeighboursReadIsCaughtUnderEverySchedule) {
  const auto in = DeviceBuffer<float>::filled(128, 1.0f);
  DeviceBuffer<float> out(128);
  for (const char* s : kSchedules) {
    const std::string d = run(s, 1, 128, 128 * sizeof(float), neighbour, in.cget(), out.get(), false);
    EXPECT_THAT(d, AnyOf(HasSubstr("data race (read after write) on dynamic shared memory"),
                         HasSubstr("data race (write after read) on dynamic shared memory")))
        << s;
    EXPECT_THAT(d, HasSubstr(line(kNeighbourWrite))) << s;
    EXPECT_THAT(d, HasSubstr(line(kNeighbourRead))) << s;
    EXPECT_THAT(d, HasSubstr("missing synchronisation: a __syncthreads() between the two accesses")) << s;
    EXPECT_EQ(run(s, 1, 128, 128 * sizeof(float), neighbour, in.cget(), out.get(), true), "") << s;
  }
}

// Chapter 03's bug: a buffer reused by the next row without a barrier after the last read. Each
// thread reads its neighbour's element, and the next iteration overwrites the buffer.
constexpr int kReuseWrite = __LINE__ + 6;
constexpr int kReuseRead = __LINE__ + 7;
__global__ void reuse(const float* in, float* out, int rows, bool sync) {
  float* buf = llmlab::cuda::dynamic_shared<float>();
  const unsigned t = threadIdx.x, n = blockDim.x;
  for (int r = 0; r < rows; ++r) {
    buf[t] = in[r * n + t];
    __syncthreads();
    out[r * n + t] = buf[(t + 1) % n];
    if (sync) __syncthreads();  // the barrier that protects the buffer before it is reused
  }
}

TEST(EmuRacecheck, BufferReusedWithoutABarrierIsCaughtUnderEverySchedule) {
  const auto in = DeviceBuffer<float>::filled(4 * 64, 2.0f);
  DeviceBuffer<float> out(4 * 64);
  for (const char* s : kSchedules) {
    const std::string d = run(s, 1, 64, 64 * sizeof(float), reuse, in.cget(), out.get(), 4, false);
    EXPECT_THAT(d, AnyOf(HasSubstr("(write after read) on dynamic shared memory"),
                         HasSubstr("(read after write) on dynamic shared memory")))
        << s;
    EXPECT_THAT(d, HasSubstr(line(kReuseWrite))) << s;
    EXPECT_THAT(d, HasSubstr(line(kReuseRead))) << s;
    EXPECT_EQ(run(s, 1, 64, 64 * sizeof(float), reuse, in.cget(), out.get(), 4, true), "") << s;
  }
}

// Warp-synchronous reduction without __syncwarp (correct only on pre-Volta lockstep warps).
constexpr int kWarpLine = __LINE__ + 7;
__global__ void warp_reduce(const float* in, float* out, bool sync) {
  __shared__ float s[32];
  const unsigned t = threadIdx.x;
  s[t] = in[t];
  if (sync) __syncwarp();
  for (unsigned k = 16; k > 0; k /= 2) {
    if (t < k) s[t] += s[t + k];
    if (sync) __syncwarp();
  }
  if (t == 0) *out = s[0];
}

TEST(EmuRacecheck, WarpSynchronousCodeWithoutSyncwarpIsCaughtUnderEverySchedule) {
  const auto in = DeviceBuffer<float>::filled(32, 1.0f);
  DeviceBuffer<float> out(1);
  for (const char* s : kSchedules) {
    const std::string d = run(s, 1, 32, 0, warp_reduce, in.cget(), out.get(), false);
    EXPECT_THAT(d, HasSubstr("on static __shared__ memory "
                             "`emu_races::warp_reduce(float const*, float*, bool)::s` (128 bytes)"))
        << s;
    EXPECT_THAT(d, HasSubstr(line(kWarpLine))) << s;
    EXPECT_THAT(d, HasSubstr("lanes of warp 0: a __syncwarp()")) << s;
    EXPECT_EQ(run(s, 1, 32, 0, warp_reduce, in.cget(), out.get(), true), "") << s;
    EXPECT_EQ(out.download()[0], 32.0f);
  }
}

// Shuffles order the lanes they name, like __syncwarp: a broadcast through shared memory after a
// vote is not a race.
__global__ void after_vote(float* out) {
  __shared__ float v;
  if (threadIdx.x == 0) v = 3.0f;
  __ballot_sync(0xffffffffu, 1);
  out[threadIdx.x] = v;
}

TEST(EmuRacecheck, WarpFunctionsOrderTheirLanes) {
  DeviceBuffer<float> out(32);
  for (const char* s : kSchedules) EXPECT_EQ(run(s, 1, 32, 0, after_vote, out.get()), "") << s;
}

// ---- global memory ----------------------------------------------------------------------------

// The racy accumulation: thread 0 of every block adds its block's sum into one float.
constexpr int kAccumulateLine = __LINE__ + 3;
__global__ void accumulate(const float* in, float* total, bool atomic) {
  if (threadIdx.x != 0) return;
  if (!atomic) *total += in[blockIdx.x];
  else atomicAdd(total, in[blockIdx.x]);
}

TEST(EmuRacecheck, GlobalRaceAcrossBlocksIsCaughtAndAtomicsAreNot) {
  const auto in = DeviceBuffer<float>::filled(8, 1.0f);
  for (const char* s : kSchedules) {
    for (const char* threads : {"1", "4"}) {
      ScopedEnv pool("LLMLAB_EMU_THREADS", threads);
      const auto total = DeviceBuffer<float>::filled(1, 0.0f);
      const std::string d = run(s, 8, 32, 0, accumulate, in.cget(), total.get(), false);
      EXPECT_THAT(d, HasSubstr("on global memory — the cudaMalloc'd buffer of 4 bytes")) << s;
      EXPECT_THAT(d, HasSubstr("byte offset 0 (4-byte element 0)")) << s;
      EXPECT_THAT(d, HasSubstr(line(kAccumulateLine))) << s;
      EXPECT_THAT(d, HasSubstr("threads of different blocks are never ordered")) << s;
      const auto fixed = DeviceBuffer<float>::filled(1, 0.0f);
      EXPECT_EQ(run(s, 8, 32, 0, accumulate, in.cget(), fixed.get(), true), "") << s;
      EXPECT_EQ(fixed.download()[0], 8.0f);
    }
  }
}

// Within one block: thread t reads what thread t + 1 wrote to global memory, without a barrier.
__global__ void global_neighbour(float* x, bool sync) {
  x[threadIdx.x] = 1.0f;
  if (sync) __syncthreads();
  const float v = x[(threadIdx.x + 32) % blockDim.x];  // another warp's element
  if (sync) __syncthreads();
  x[threadIdx.x] += v;
}

TEST(EmuRacecheck, GlobalRaceInsideABlockNamesTheMissingBarrier) {
  DeviceBuffer<float> x(64);
  for (const char* s : kSchedules) {
    EXPECT_THAT(run(s, 1, 64, 0, global_neighbour, x.get(), false),
                HasSubstr("missing synchronisation: a __syncthreads()"))
        << s;
    EXPECT_EQ(run(s, 1, 64, 0, global_neighbour, x.get(), true), "") << s;
  }
}

TEST(EmuRacecheck, TheEnvironmentVariableTurnsTheDetectorOff) {
  DeviceBuffer<float> out(64);
  ScopedEnv off("LLMLAB_EMU_RACECHECK", "0");
  EXPECT_EQ(run("forward", 1, 64, 0, shared_waw, out.get()), "");
}

// ---- uninitialised reads ----------------------------------------------------------------------

constexpr int kUninitSharedLine = __LINE__ + 5;
__global__ void uninit_shared(float* out, unsigned written) {
  __shared__ float s[64];
  if (threadIdx.x < written) s[threadIdx.x] = 1.0f;
  __syncthreads();
  out[blockIdx.x * 64 + threadIdx.x] = s[threadIdx.x];
}

TEST(EmuRacecheck, UninitialisedStaticSharedReadIsReported) {
  DeviceBuffer<float> out(128);
  for (const char* s : kSchedules) {
    const std::string d = run(s, 2, 64, 0, uninit_shared, out.get(), 48u);
    EXPECT_THAT(d, HasSubstr("read of uninitialised static __shared__ memory `emu_races::"
                             "uninit_shared(float*, unsigned int)::s` (256 bytes), byte offset "))
        << s;
    EXPECT_THAT(d, HasSubstr(line(kUninitSharedLine))) << s;
    // Every block starts poisoned: the first block's writes do not count for the second.
    EXPECT_EQ(run(s, 2, 64, 0, uninit_shared, out.get(), 64u), "") << s;
  }
}

constexpr int kUninitDynamicLine = __LINE__ + 4;
__global__ void uninit_dynamic(float* out) {
  float* tile = llmlab::cuda::dynamic_shared<float>();
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

TEST(EmuRacecheck, UninitialisedDynamicSharedReadIsReported) {
  DeviceBuffer<float> out(32);
  const std::string d = run("forward", 1, 32, 32 * sizeof(float), uninit_dynamic, out.get());
  EXPECT_THAT(d, HasSubstr("read of uninitialised dynamic shared memory, byte offset "));
  EXPECT_THAT(d, HasSubstr(line(kUninitDynamicLine)));
}

constexpr int kUninitGlobalLine = __LINE__ + 2;
__global__ void copy(const float* in, float* out) {
  out[threadIdx.x] = in[threadIdx.x];
}

TEST(EmuRacecheck, UninitialisedGlobalReadIsReportedUntilSomethingWritesIt) {
  float* raw = nullptr;
  ASSERT_EQ(cudaMalloc(&raw, 32 * sizeof(float)), cudaSuccess);
  DeviceBuffer<float> out(32);
  const std::vector<float> host(16, 1.0f);
  ASSERT_EQ(cudaMemcpy(raw, host.data(), 16 * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  const std::string d = run("forward", 1, 32, 0, copy, static_cast<const float*>(raw), out.get());
  EXPECT_THAT(d, HasSubstr("read of uninitialised global memory — the cudaMalloc'd buffer of 128 bytes"));
  EXPECT_THAT(d, HasSubstr("byte offset 64 (4-byte element 16)"));  // the first element not copied
  EXPECT_THAT(d, HasSubstr(line(kUninitGlobalLine)));
  ASSERT_EQ(cudaMemset(raw + 16, 0, 16 * sizeof(float)), cudaSuccess);
  EXPECT_EQ(run("forward", 1, 32, 0, copy, static_cast<const float*>(raw), out.get()), "");
  // A kernel's write initialises too.
  float* fresh = nullptr;
  ASSERT_EQ(cudaMalloc(&fresh, 32 * sizeof(float)), cudaSuccess);
  EXPECT_EQ(run("forward", 1, 32, 0, copy, static_cast<const float*>(raw), fresh), "");
  EXPECT_EQ(run("forward", 1, 32, 0, copy, static_cast<const float*>(fresh), out.get()), "");
  cudaFree(raw);
  cudaFree(fresh);
}

// ---- same-value writes: a warning, not a failure ---------------------------------------------

// Every thread sets one flag without a barrier: the same value (benign) or its own (a race).
constexpr int kSameValueLine = __LINE__ + 4;
constexpr int kSameValueGlobalLine = __LINE__ + 8;
__global__ void same_value_flag(float* out, bool differ) {
  __shared__ float flag;
  flag = differ ? static_cast<float>(threadIdx.x) : 1.0f;
  __syncthreads();
  out[threadIdx.x] = flag;
}
__global__ void same_value_global(float* done, bool differ) {
  done[0] = differ ? static_cast<float>(threadIdx.x) : 1.0f;
}

// Launches under `schedule`; returns the diagnostic ("" on success) and what went to stderr.
template <class... P, class... A>
std::pair<std::string, std::string> run_capturing(const char* schedule, dim3 grid, dim3 block,
                                                  void (*k)(P...), A... args) {
  ::testing::internal::CaptureStderr();
  std::string d = run(schedule, grid, block, 0, k, args...);
  return {d, ::testing::internal::GetCapturedStderr()};
}

TEST(EmuRacecheck, SameValueSharedWritesAreAWarningAndDifferentValuesARace) {
  DeviceBuffer<float> out(64);
  for (const char* s : kSchedules) {
    const auto [d, err] = run_capturing(s, 1, 64, same_value_flag, out.get(), false);
    EXPECT_EQ(d, "") << s;
    EXPECT_THAT(err, HasSubstr("llmlab emu: warning: kernel `emu_races::same_value_flag` block (0,0,0): "
                               "same-value writes without synchronisation (a benign race) on static "
                               "__shared__ memory `emu_races::same_value_flag(float*, bool)::flag` "
                               "(4 bytes), byte offset 0 (4-byte element 0):"))
        << s;
    EXPECT_THAT(err, HasSubstr(line(kSameValueLine))) << s;
    EXPECT_THAT(err, HasSubstr("(63 such write(s) in the launch of")) << s;
    const auto [race, quiet] = run_capturing(s, 1, 64, same_value_flag, out.get(), true);
    EXPECT_THAT(race, HasSubstr("data race (write after write) on static __shared__ memory")) << s;
    EXPECT_THAT(race, HasSubstr(line(kSameValueLine))) << s;
    EXPECT_THAT(quiet, Not(HasSubstr("benign"))) << s;
  }
}

TEST(EmuRacecheck, SameValueGlobalWritesOfOneBlockAreAWarningAcrossBlocksARace) {
  for (const char* s : kSchedules) {
    DeviceBuffer<float> done(1);
    const auto [d, err] = run_capturing(s, 1, 64, same_value_global, done.get(), false);
    EXPECT_EQ(d, "") << s;
    EXPECT_THAT(err, HasSubstr("same-value writes without synchronisation (a benign race) on global "
                               "memory — the cudaMalloc'd buffer of 4 bytes"))
        << s;
    EXPECT_THAT(err, HasSubstr(line(kSameValueGlobalLine))) << s;
    EXPECT_THAT(run(s, 1, 64, 0, same_value_global, done.get(), true),
                HasSubstr("data race (write after write) on global memory"))
        << s;
    // Blocks may run on different OS threads: their writes are never judged by value.
    EXPECT_THAT(run(s, 2, 32, 0, same_value_global, done.get(), false),
                HasSubstr("threads of different blocks are never ordered"))
        << s;
  }
}

#else  // the asan preset: no ThreadSanitizer instrumentation, so no race or uninitialised-read
       // checks (AddressSanitizer and it cannot be combined; docs/emulator.md)
TEST(EmuRacecheck, NeedsTheInstrumentedBuild) {
  GTEST_SKIP() << "the race and uninitialised-read checks are off in this build (asan preset)";
}
#endif

// ---- barriers only some threads reach ------------------------------------------------------------

constexpr int kPartialBarrierLine = __LINE__ + 5;
__global__ void partial_barrier(float* x) {
  __shared__ float s[64];
  if (threadIdx.x < 16) {
    s[threadIdx.x] = 1.0f;
    __syncthreads();
    x[threadIdx.x] = s[(threadIdx.x + 1) % 16];
  }
}


TEST(EmuRacecheck, ABarrierSomeThreadsSkipIsReportedWithAnOptOut) {
  DeviceBuffer<float> x(64);
  for (const char* s : kSchedules) {
    const std::string d = run(s, 1, 64, 0, partial_barrier, x.get());
    EXPECT_THAT(d, HasSubstr("__syncthreads at " ));
    EXPECT_THAT(d, HasSubstr(line(kPartialBarrierLine))) << s;
    EXPECT_THAT(d, HasSubstr("is reached by 16 of 64 threads; 48 thread(s) [linear ids 16-63] exited")) << s;
  }
  ScopedEnv allow("LLMLAB_EMU_BARRIERCHECK", "0");
  EXPECT_EQ(run("forward", 1, 64, 0, partial_barrier, x.get()), "");
}

}  // namespace emu_races
