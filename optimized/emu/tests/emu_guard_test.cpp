// Guard zones around every emulated cudaMalloc'd buffer (docs/emulator.md, "Guard zones"): a write
// before or after a buffer is reported when the launch ends, at cudaFree and at cudaMemcpy /
// cudaMemset, naming the buffer's size, the damaged offsets and the launch. Each bug has a fixed
// twin that passes. Under the asan preset buffers are exact-size (ASan's redzones name the access
// itself, emu_diagnostics_test), so the guard-zone cases are skipped there.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <llmlab/cuda/kernel.cuh>

#include "llmlab/testing/device.hpp"

using llmlab::cuda::launch;
using llmlab::cuda::launch_config;
using llmlab::testing::DeviceBuffer;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

#define SKIP_UNDER_ASAN() \
  if (kAsan) GTEST_SKIP() << "the asan preset allocates exact sizes: ASan guards the buffers"

/// Each thread i < n writes x[i + shift]: shift 1 → the last thread writes one past the end,
/// shift −1 → the first writes one before the start, shift 0 → the fixed twin.
constexpr int kShiftedWriteLine = __LINE__ + 3;
__global__ void shifted_write(float* x, int n, int shift) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) x[i + shift] = 1.0f;
}

/// Launches shifted_write over a 1024-float (4096-byte) buffer; returns the launch's error.
cudaError_t run_shifted(DeviceBuffer<float>& x, int shift) {
  return launch(launch_config(dim3(4), dim3(256)), shifted_write, x.get(), 1024, shift);
}

std::string diagnostic_after(cudaError_t e) {
  cudaGetLastError();
  return e == cudaSuccess ? "" : llmlab::emu::last_diagnostic();
}

TEST(EmuGuardZones, AWriteOnePastTheEndFailsTheLaunchNamingSizeOffsetAndLaunch) {
  SKIP_UNDER_ASAN();
  DeviceBuffer<float> x(1024);
  const cudaError_t e = run_shifted(x, 1);
  EXPECT_EQ(e, cudaErrorIllegalAddress);
  const std::string d = diagnostic_after(e);
  EXPECT_THAT(d, HasSubstr("4 bytes at offset 4096 of a 4096-byte buffer (1 past the end)"));
  EXPECT_THAT(d, HasSubstr("shifted_write"));
  EXPECT_THAT(d, HasSubstr("with grid (4,1,1) and block (256,1,1)"));
  EXPECT_THAT(d, HasSubstr("emu_guard_test.cpp:"));  // where the kernel is defined
  EXPECT_THAT(d, Not(HasSubstr("@0x")));
#if defined(__SANITIZE_THREAD__)  // built with the memory checks: the write itself is named
  EXPECT_THAT(d, HasSubstr("the first such write, seen by the memory checks: write of 4 bytes by "
                           "kernel `(anonymous namespace)::shifted_write` block (3,0,0) thread (255,0,0) at "));
  EXPECT_THAT(d, HasSubstr("emu_guard_test.cpp:" + std::to_string(kShiftedWriteLine) +
                           ", byte offset 4096 of the cudaMalloc'd buffer of 4096 bytes"));
#endif
  // Reported once: the zones are repaired, and the next launch is judged on its own.
  EXPECT_EQ(run_shifted(x, 0), cudaSuccess);
}

TEST(EmuGuardZones, TheFixedTwinWritingInsideTheBufferPasses) {
  DeviceBuffer<float> x(1024);
  EXPECT_EQ(run_shifted(x, 0), cudaSuccess) << llmlab::emu::last_diagnostic();
  EXPECT_EQ(x.download(), std::vector<float>(1024, 1.0f));
}

TEST(EmuGuardZones, AWriteOneBeforeTheStartFailsTheLaunch) {
  SKIP_UNDER_ASAN();
  DeviceBuffer<float> x(1024);
  const cudaError_t e = run_shifted(x, -1);
  EXPECT_EQ(e, cudaErrorIllegalAddress);
  const std::string d = diagnostic_after(e);
  EXPECT_THAT(d, HasSubstr("4 bytes at offset -4 of a 4096-byte buffer (1 before the start)"));
  EXPECT_THAT(d, HasSubstr("shifted_write"));
#if defined(__SANITIZE_THREAD__)
  EXPECT_THAT(d, HasSubstr("block (0,0,0) thread (0,0,0) at "));
  EXPECT_THAT(d, HasSubstr("emu_guard_test.cpp:" + std::to_string(kShiftedWriteLine) +
                           ", 4 bytes before the start of the cudaMalloc'd buffer of 4096 bytes"));
#endif
}

TEST(EmuGuardZones, TheErrorStringCarriesTheDiagnostic) {
  SKIP_UNDER_ASAN();
  DeviceBuffer<float> x(1024);
  const cudaError_t e = run_shifted(x, 1);
  const std::string s = cudaGetErrorString(e);
  cudaGetLastError();
  EXPECT_THAT(s, HasSubstr("an illegal memory access was encountered"));
  EXPECT_THAT(s, HasSubstr("shifted_write"));
  EXPECT_THAT(s, HasSubstr("(1 past the end)"));
}

TEST(EmuGuardZones, CudaFreeOfABufferHostCodeOverranReportsIt) {
  SKIP_UNDER_ASAN();
  for (const bool damage : {true, false}) {  // the bug, then its fixed twin
    float* p = nullptr;
    ASSERT_EQ(cudaMalloc(&p, 100 * sizeof(float)), cudaSuccess);
    for (int i = 0; i < 100 + (damage ? 1 : 0); ++i) p[i] = 2.0f;  // host code (e.g. a C plugin)
    const cudaError_t e = cudaFree(p);
    if (damage) {
      EXPECT_EQ(e, cudaErrorIllegalAddress);
      EXPECT_THAT(diagnostic_after(e), HasSubstr("cudaFree found a write outside buffer"));
      EXPECT_THAT(llmlab::emu::last_diagnostic(),
                  HasSubstr("4 bytes at offset 400 of a 400-byte buffer (1 past the end)"));
    } else {
      EXPECT_EQ(e, cudaSuccess);
    }
  }
}

TEST(EmuGuardZones, CudaMemcpyOfADamagedBufferReportsIt) {
  SKIP_UNDER_ASAN();
  for (const bool damage : {true, false}) {
    DeviceBuffer<float> x(64);
    if (damage) reinterpret_cast<unsigned char*>(x.get())[-3] = 0;  // host code, 3 bytes before
    std::vector<float> host(64);
    const cudaError_t e = cudaMemcpy(host.data(), x.get(), 64 * sizeof(float), cudaMemcpyDeviceToHost);
    if (damage) {
      EXPECT_EQ(e, cudaErrorIllegalAddress);
      const std::string d = diagnostic_after(e);
      EXPECT_THAT(d, HasSubstr("cudaMemcpy: the source's guard zone was damaged"));
      EXPECT_THAT(d, HasSubstr("1 byte at offset -3 of a 256-byte buffer (3 before the start)"));
    } else {
      EXPECT_EQ(e, cudaSuccess);
    }
  }
}

TEST(EmuGuardZones, CudaMemsetOfADamagedBufferReportsIt) {
  SKIP_UNDER_ASAN();
  DeviceBuffer<float> x(64);
  reinterpret_cast<unsigned char*>(x.get())[256] = 0;
  const cudaError_t e = cudaMemset(x.get(), 0, 64 * sizeof(float));
  EXPECT_EQ(e, cudaErrorIllegalAddress);
  EXPECT_THAT(diagnostic_after(e), HasSubstr("1 byte at offset 256 of a 256-byte buffer (1 past the end)"));
  EXPECT_EQ(cudaMemset(x.get(), 0, 64 * sizeof(float)), cudaSuccess);  // repaired, reported once
}

TEST(EmuGuardZones, ACopyLongerThanItsBufferIsRefusedNamingTheRange) {
  // In every preset: the emulator knows each buffer's size.
  DeviceBuffer<float> x(64);
  std::vector<float> host(65);
  const cudaError_t e = cudaMemcpy(x.get(), host.data(), 65 * sizeof(float), cudaMemcpyHostToDevice);
  EXPECT_EQ(e, cudaErrorInvalidValue);
  EXPECT_THAT(diagnostic_after(e), HasSubstr("the destination range of 260 bytes at offset 0 of buffer"));
  EXPECT_THAT(llmlab::emu::last_diagnostic(), HasSubstr("goes outside its 256 bytes"));
  EXPECT_EQ(cudaMemcpy(x.get() + 1, host.data(), 63 * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);  // the twin: an interior pointer, in bounds
}

TEST(EmuGuardZones, CudaFreeOfAPointerNotFromCudaMallocIsAnError) {
  float local = 0;
  const cudaError_t e = cudaFree(&local);
  EXPECT_EQ(e, cudaErrorInvalidValue);
  EXPECT_THAT(diagnostic_after(e), HasSubstr("not a pointer cudaMalloc returned"));
  EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
}

TEST(EmuGuardZones, PointersKeepCudaMallocs256ByteAlignment) {
  for (const std::size_t bytes : {0u, 1u, 3u, 255u, 256u, 1000u, 4097u}) {
    void* p = nullptr;
    ASSERT_EQ(cudaMalloc(&p, bytes), cudaSuccess);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 256, 0u) << bytes << " bytes";
    EXPECT_EQ(cudaFree(p), cudaSuccess);
  }
}

/// Does nothing: the launch's fixed cost plus the guard check is what is left.
__global__ void empty_kernel() {}

TEST(EmuGuardZones, TheCheckOfAHundredLiveBuffersCostsLittlePerLaunch) {
  constexpr int kLaunches = 100;
  // The best of 5 rounds (a loaded machine only adds time), after a launch that names the kernel.
  EXPECT_EQ(launch(launch_config(dim3(1), dim3(1)), empty_kernel), cudaSuccess);
  const auto per_launch = [&] {
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kLaunches; ++i)
        EXPECT_EQ(launch(launch_config(dim3(1), dim3(1)), empty_kernel), cudaSuccess);
      best = std::min(best, std::chrono::duration<double, std::micro>(
                                std::chrono::steady_clock::now() - t0).count() / kLaunches);
    }
    return best;
  };
  const double bare = per_launch();
  std::vector<std::unique_ptr<DeviceBuffer<float>>> buffers;
  for (int i = 0; i < 100; ++i) buffers.push_back(std::make_unique<DeviceBuffer<float>>(1000));
  const double with_100 = per_launch();
  std::printf("per launch: %.2f us with no other buffers, %.2f us with 100 live buffers\n", bare,
              with_100);
  // 100 buffers × 2 zones × 1 KiB compared: tens of microseconds at most, far below any launch
  // that does work. The bound is loose (a loaded CI machine), yet catches a quadratic check.
  EXPECT_LT(with_100 - bare, 1000.0);
}

}  // namespace
