// Kernels with the classic bugs. Each must make launch() return an error (never hang, never crash
// the test) with a diagnostic that names the kernel, the block, the thread and the source line.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <llmlab/cuda/kernel.cuh>

#include "llmlab/testing/device.hpp"
#include "llmlab/testing/env.hpp"

using llmlab::cuda::launch;
using llmlab::cuda::launch_config;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::ScopedEnv;
using ::testing::HasSubstr;

// A named namespace, so the expected names below are short; kernels in anonymous namespaces are
// named too (emu_names_test).
namespace emu_bugs {

// Lines of the planted bugs, so the expected text comes from this file, not from the emulator.
constexpr int kDivergentBarrierA = __LINE__ + 5;
constexpr int kDivergentBarrierB = __LINE__ + 7;
__global__ void divergent_barrier(float* x) {
  const int t = threadIdx.x;
  if (t < 16) {
    __syncthreads();
    x[t] = 1.0f;
  } else {
    __syncthreads();
    x[t] = 2.0f;
  }
}

std::string launch_and_get_diagnostic(cudaError_t expected, auto kernel, auto... args) {
  const cudaError_t e = launch(launch_config(dim3(2), dim3(64)), kernel, args...);
  EXPECT_EQ(e, expected) << cudaGetErrorString(e);
  cudaGetLastError();
  return llmlab::emu::last_diagnostic();
}

TEST(EmuDiagnostics, BarrierInDivergentCodeNamesBothLines) {
  DeviceBuffer<float> x(64);
  const std::string d = launch_and_get_diagnostic(cudaErrorLaunchFailure, divergent_barrier, x.get());
  EXPECT_THAT(d, HasSubstr("divergent"));
  EXPECT_THAT(d, HasSubstr("divergent_barrier"));  // the kernel
  EXPECT_THAT(d, HasSubstr("block ("));
  EXPECT_THAT(d, HasSubstr("thread ("));
  EXPECT_THAT(d, HasSubstr("emu_diagnostics_test.cpp:" + std::to_string(kDivergentBarrierA)));
  EXPECT_THAT(d, HasSubstr("emu_diagnostics_test.cpp:" + std::to_string(kDivergentBarrierB)));
}

// Lanes 0-15 wait in a full-warp shuffle that lanes 16-31 skip to wait at the barrier.
constexpr int kDeadlockShuffle = __LINE__ + 4;
constexpr int kDeadlockBarrier = __LINE__ + 4;
__global__ void deadlock(float* x) {
  float v = x[threadIdx.x];
  if (threadIdx.x % 32 < 16) v = __shfl_sync(0xffffffffu, v, 0);
  __syncthreads();
  x[threadIdx.x] = v;
}

TEST(EmuDiagnostics, DeadlockIsReportedGroupedByWaitSite) {
  const auto x = DeviceBuffer<float>::filled(64, 1.0f);
  const std::string d = launch_and_get_diagnostic(cudaErrorLaunchFailure, deadlock, x.get());
  EXPECT_THAT(d, HasSubstr("deadlock"));
  EXPECT_THAT(d, HasSubstr("`emu_bugs::deadlock`"));
  EXPECT_THAT(d, HasSubstr("__shfl_sync (mask 0xffffffff, warp 0, lanes 16-31 missing) at "));
  EXPECT_THAT(d, HasSubstr("emu_diagnostics_test.cpp:" + std::to_string(kDeadlockShuffle)));
  EXPECT_THAT(d, HasSubstr("__syncthreads at "));
  EXPECT_THAT(d, HasSubstr("emu_diagnostics_test.cpp:" + std::to_string(kDeadlockBarrier)));
  EXPECT_THAT(d, HasSubstr("16 thread(s) [linear ids 0-15]"));
}

// The classic reduction bug: threads past the end return before a full-mask shuffle.
constexpr int kExitedShuffle = __LINE__ + 5;
__global__ void shuffle_after_early_return(const float* x, float* out, int n) {
  const int i = threadIdx.x;
  if (i >= n) return;
  float v = x[i];
  v += __shfl_down_sync(0xffffffffu, v, 1);
  out[i] = v;
}

TEST(EmuDiagnostics, ShuffleWhoseMaskNamesExitedLanesIsReported) {
  const auto x = DeviceBuffer<float>::filled(32, 1.0f);
  DeviceBuffer<float> out(32);
  const cudaError_t e = launch(launch_config(1, 32), shuffle_after_early_return, x.cget(), out.get(), 20);
  EXPECT_EQ(e, cudaErrorLaunchFailure);
  const std::string d = llmlab::emu::last_diagnostic();
  EXPECT_THAT(d, HasSubstr("never arrive")) << d;
  EXPECT_THAT(d, HasSubstr("shuffle_after_early_return"));
  EXPECT_THAT(d, HasSubstr("block (0,0,0) thread ("));
  EXPECT_THAT(d, HasSubstr("0xffffffff"));
  // Forward order: lanes 0-19 wait at the shuffle, then lane 20 exits without it. Reverse order:
  // lanes 31-20 exit first and lane 19 names them when it arrives. Both name the shuffle's line or
  // the lanes that exited.
  EXPECT_TRUE(d.find("emu_diagnostics_test.cpp:" + std::to_string(kExitedShuffle)) != std::string::npos ||
              d.find("exited without reaching __shfl_down_sync") != std::string::npos)
      << d;
}

__global__ void mask_without_own_lane(int* out) {
  out[threadIdx.x] = __shfl_sync(0x1u, static_cast<int>(threadIdx.x), 0);
}

TEST(EmuDiagnostics, WarpFunctionWhoseMaskOmitsTheCallerIsReported) {
  DeviceBuffer<int> out(32);
  EXPECT_EQ(launch(launch_config(1, 32), mask_without_own_lane, out.get()), cudaErrorLaunchFailure);
  EXPECT_THAT(llmlab::emu::last_diagnostic(), HasSubstr("does not name its own lane"));
}

__global__ void throws_from_kernel(int* out) {
  if (threadIdx.x == 3) throw std::runtime_error("index 99 out of range");
  out[threadIdx.x] = 1;
}

TEST(EmuDiagnostics, AnExceptionThrownByKernelCodeIsReportedWithItsThread) {
  DeviceBuffer<int> out(32);
  EXPECT_EQ(launch(launch_config(1, 32), throws_from_kernel, out.get()), cudaErrorLaunchFailure);
  const std::string d = llmlab::emu::last_diagnostic();
  EXPECT_THAT(d, HasSubstr("thread (3,0,0)"));
  EXPECT_THAT(d, HasSubstr("index 99 out of range"));
}

TEST(EmuDiagnostics, AFailedLaunchLeavesTheEmulatorReadyForTheNext) {
  const auto x = DeviceBuffer<float>::filled(64, 1.0f);
  EXPECT_EQ(launch(launch_config(1, 64), deadlock, x.get()), cudaErrorLaunchFailure);
  DeviceBuffer<float> y(128);
  EXPECT_EQ(launch(launch_config(2, 64), divergent_barrier, y.get()), cudaErrorLaunchFailure);
  const auto ok = DeviceBuffer<float>::filled(32, 1.0f);
  DeviceBuffer<float> out(32);
  EXPECT_EQ(launch(launch_config(1, 32), shuffle_after_early_return, ok.cget(), out.get(), 32), cudaSuccess);
  for (float v : out.download()) EXPECT_EQ(v, 2.0f);
}

// A forgotten __syncthreads: each thread reads the element its right neighbour wrote. In reverse
// order the neighbour always ran first, so the bug hides; in forward order it never did. This is
// why CI runs every emulated test under two schedules.
__global__ void forgotten_syncthreads(const float* in, float* out) {
  float* tile = llmlab::cuda::dynamic_shared<float>();
  const int t = threadIdx.x;
  tile[t] = in[blockIdx.x * blockDim.x + t];
  // __syncthreads();  <- the bug
  out[blockIdx.x * blockDim.x + t] = t + 1 < static_cast<int>(blockDim.x) ? tile[t + 1] : tile[t];
}

// With the memory checks off (they would fail every schedule's launch: emu_racecheck_test.cpp), to
// show what the schedules alone do.
bool forgotten_syncthreads_gives_right_answer(const char* schedule) {
  ScopedEnv env("LLMLAB_EMU_SCHEDULE", schedule);
  ScopedEnv races("LLMLAB_EMU_RACECHECK", "0");
  ScopedEnv init("LLMLAB_EMU_INITCHECK", "0");
  const int blocks = 4, threads = 128, n = blocks * threads;
  std::vector<float> in(n);
  for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i);
  DeviceBuffer<float> d_in(in), d_out(n);
  EXPECT_EQ(launch(launch_config(blocks, threads, threads * sizeof(float)), forgotten_syncthreads,
                   d_in.cget(), d_out.get()),
            cudaSuccess);
  const auto out = d_out.download();
  for (int i = 0; i < n; ++i) {
    const bool last = i % threads == threads - 1;
    if (out[i] != in[last ? i : i + 1]) return false;
  }
  return true;
}

TEST(EmuDiagnostics, ForgottenSyncthreadsFailsUnderForwardAndRandomSchedules) {
  EXPECT_FALSE(forgotten_syncthreads_gives_right_answer("forward"));
  EXPECT_FALSE(forgotten_syncthreads_gives_right_answer("random:20261123"));
  EXPECT_TRUE(forgotten_syncthreads_gives_right_answer("reverse"))
      << "in reverse order every neighbour writes first: one schedule alone can hide the bug";
}

TEST(EmuDiagnostics, ForgottenSyncthreadsIsARaceUnderEverySchedule) {
#if !defined(__SANITIZE_THREAD__)  // the asan preset: no instrumentation, no race detector
  GTEST_SKIP() << "the race detector is off in this build (asan preset)";
#endif
  const auto in = DeviceBuffer<float>::filled(128, 1.0f);
  DeviceBuffer<float> out(128);
  for (const char* schedule : {"forward", "reverse", "random:20261123"}) {
    ScopedEnv env("LLMLAB_EMU_SCHEDULE", schedule);
    EXPECT_EQ(launch(launch_config(1, 128, 128 * sizeof(float)), forgotten_syncthreads, in.cget(),
                     out.get()),
              cudaErrorLaunchFailure)
        << schedule;
    cudaGetLastError();
    EXPECT_THAT(llmlab::emu::last_diagnostic(), HasSubstr("data race")) << schedule;
  }
}

// ---- AddressSanitizer: out-of-bounds global and dynamic shared memory ----------------------

__global__ void write_one_past_the_end(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) x[i] = 1.0f;  // bug: <= n
}

__global__ void dynamic_shared_overflow(float* out) {
  float* tile = llmlab::cuda::dynamic_shared<float>();
  tile[threadIdx.x + 1] = 1.0f;  // bug: one past the 32 floats asked for
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x];
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

TEST(EmuDiagnosticsDeathTest, OutOfBoundsGlobalWriteNamesBlockAndThreadUnderAsan) {
  if (!kAsan) GTEST_SKIP() << "needs the asan preset (AddressSanitizer guards cudaMalloc'd memory)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ScopedEnv env("LLMLAB_EMU_SCHEDULE", "forward");
        float* x;
        cudaMalloc(&x, 40 * sizeof(float));
        launch(launch_config(2, 32), write_one_past_the_end, x, 40);
      },
      "heap-buffer-overflow(.|\n)*write_one_past_the_end(.|\n)*made by kernel "
      "`emu_bugs::write_one_past_the_end` block \\(1,0,0\\) thread \\(8,0,0\\)");
}

TEST(EmuDiagnosticsDeathTest, DynamicSharedMemoryOverflowNamesBlockAndThreadUnderAsan) {
  if (!kAsan) GTEST_SKIP() << "needs the asan preset (AddressSanitizer guards dynamic shared memory)";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ScopedEnv env("LLMLAB_EMU_SCHEDULE", "forward");
        float* out;
        cudaMalloc(&out, 32 * sizeof(float));
        launch(launch_config(1, 32, 32 * sizeof(float)), dynamic_shared_overflow, out);
      },
      "heap-buffer-overflow(.|\n)*made by kernel `emu_bugs::dynamic_shared_overflow` "
      "block \\(0,0,0\\) thread \\(31,0,0\\)");
}

}  // namespace emu_bugs
