// The emulated runtime's device, memory, stream and event calls (issue 14). The host-API part also
// compiles and links against the real libcudart (CMakeLists.txt); what only the emulator can show
// (presets, device files, launches refused for their dynamic shared memory) is under LLMLAB_EMU.

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if LLMLAB_EMU
#include <llmlab/cuda/kernel.cuh>
#include <llmlab/testing/env.hpp>
#else
#include <cuda_runtime.h>
#endif

namespace {

TEST(Runtime, OneDeviceWithConsistentProperties) {
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  ASSERT_GE(count, 1);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  int device = -1;
  ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(device, 0);
  cudaDeviceProp prop{};
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess);
  EXPECT_EQ(prop.warpSize, 32);
  EXPECT_LE(prop.sharedMemPerBlock, prop.sharedMemPerBlockOptin);
  EXPECT_LE(prop.sharedMemPerBlockOptin, prop.sharedMemPerMultiprocessor);
  int sms = 0, major = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
  ASSERT_EQ(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
  EXPECT_EQ(sms, prop.multiProcessorCount);
  EXPECT_EQ(major, prop.major);
}

TEST(Runtime, Memcpy2DCopiesRowsBetweenPitches) {
  const std::size_t width = 3, height = 4, spitch = 5, dpitch = 8;
  std::vector<unsigned char> src(spitch * height);
  for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<unsigned char>(i);
  void* dst = nullptr;
  ASSERT_EQ(cudaMalloc(&dst, dpitch * height), cudaSuccess);
  ASSERT_EQ(cudaMemset(dst, 0xee, dpitch * height), cudaSuccess);
  ASSERT_EQ(cudaMemcpy2D(dst, dpitch, src.data(), spitch, width, height, cudaMemcpyHostToDevice), cudaSuccess);
  std::vector<unsigned char> back(dpitch * height);
  ASSERT_EQ(cudaMemcpy(back.data(), dst, back.size(), cudaMemcpyDeviceToHost), cudaSuccess);
  for (std::size_t r = 0; r < height; ++r)
    for (std::size_t c = 0; c < dpitch; ++c)
      EXPECT_EQ(back[r * dpitch + c], c < width ? src[r * spitch + c] : 0xee) << r << ',' << c;
  EXPECT_EQ(cudaMemcpy2D(dst, 2, src.data(), spitch, width, height, cudaMemcpyHostToDevice),
            cudaErrorInvalidPitchValue);
  cudaGetLastError();
  cudaFree(dst);
}

#if LLMLAB_EMU
// A pitched copy whose last row runs past the device buffer: a GPU writes a neighbour's bytes;
// the emulator checks the whole pitched range, as cudaMemcpy checks its range.
TEST(Runtime, Memcpy2DPastTheBufferIsRefusedAndNamed) {
  const std::size_t width = 3, height = 4, pitch = 8;
  std::vector<unsigned char> host(pitch * height, 1);
  void* dst = nullptr;
  ASSERT_EQ(cudaMalloc(&dst, pitch * (height - 1)), cudaSuccess);  // one row short
  EXPECT_EQ(cudaMemcpy2D(dst, pitch, host.data(), pitch, width, height, cudaMemcpyHostToDevice),
            cudaErrorInvalidValue);
  EXPECT_NE(llmlab::emu::last_diagnostic().find("cudaMemcpy2D: the destination range of 27 bytes"),
            std::string::npos)
      << llmlab::emu::last_diagnostic();
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy2D(host.data(), pitch, dst, pitch, width, height, cudaMemcpyDeviceToHost),
            cudaErrorInvalidValue);
  cudaGetLastError();
  cudaFree(dst);
}
#endif

TEST(Runtime, ManagedAndPinnedHostMemoryAreUsableFromTheHost) {
  float* managed = nullptr;
  ASSERT_EQ(cudaMallocManaged(reinterpret_cast<void**>(&managed), 4 * sizeof(float), cudaMemAttachGlobal),
            cudaSuccess);
  managed[3] = 2.5f;
  void* pinned = nullptr;
  ASSERT_EQ(cudaHostAlloc(&pinned, 16, cudaHostAllocDefault), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(pinned, managed, 16, cudaMemcpyDefault, nullptr), cudaSuccess);
  ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  float back[4];
  std::memcpy(back, pinned, 16);
  EXPECT_EQ(back[3], 2.5f);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFree(managed), cudaSuccess);
}

TEST(Runtime, StreamsAndEventsTimeTheWorkBetweenThem) {
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t start = nullptr, stop = nullptr;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&stop, cudaEventDefault), cudaSuccess);
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 1024), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(start, stream), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(p, 0, 1024, stream), cudaSuccess);
#if LLMLAB_EMU
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // emulated time is wall time
#endif
  ASSERT_EQ(cudaEventRecord(stop, stream), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  float ms = -1;
  ASSERT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
#if LLMLAB_EMU
  EXPECT_GE(ms, 19.0f);
#endif
  EXPECT_GE(ms, 0.0f);
  EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(stop), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  cudaFree(p);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_STREQ(cudaGetErrorName(cudaErrorInvalidValue), "cudaErrorInvalidValue");
}

#if LLMLAB_EMU
}  // namespace

// Outside the anonymous namespace: the emulator names kernels through the dynamic symbol table.
__global__ void touch_dynamic_shared(int* out) {
  int* smem = llmlab::cuda::dynamic_shared<int>();
  smem[threadIdx.x] = static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = smem[blockDim.x - 1 - threadIdx.x];
}

namespace {
using llmlab::testing::ScopedEnv;

TEST(EmulatedDevice, PresetsAnswerAsTheirGpus) {
  struct Want {
    const char* name;
    int sms, major;
    std::size_t optin;
  };
  for (const Want w : {Want{"a100", 108, 8, 163 * 1024}, Want{"h100", 132, 9, 227 * 1024}}) {
    ScopedEnv env("LLMLAB_EMU_DEVICE", w.name);
    cudaDeviceProp prop{};
    ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess) << w.name;
    EXPECT_EQ(prop.multiProcessorCount, w.sms) << w.name;
    EXPECT_EQ(prop.major, w.major) << w.name;
    EXPECT_EQ(prop.sharedMemPerBlockOptin, w.optin) << w.name;
    EXPECT_EQ(prop.sharedMemPerBlock, 48u * 1024u) << w.name;
  }
}

TEST(EmulatedDevice, JsonFileOverridesThePreset) {
  ScopedEnv env("LLMLAB_EMU_DEVICE", LLMLAB_EMU_TEST_DEVICE_DIR "/small_gpu.json");
  cudaDeviceProp prop{};
  ASSERT_EQ(cudaGetDeviceProperties(&prop, 0), cudaSuccess) << llmlab::emu::last_diagnostic();
  EXPECT_STREQ(prop.name, "small test GPU");
  EXPECT_EQ(prop.multiProcessorCount, 4);
  EXPECT_EQ(prop.sharedMemPerBlockOptin, 65536u);
  EXPECT_EQ(prop.major, 8);
  EXPECT_EQ(prop.minor, 6);
  int clock = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&clock, cudaDevAttrClockRate, 0), cudaSuccess);
  EXPECT_EQ(clock, 1000000);
}

TEST(EmulatedDevice, BadDeviceFileIsNamedInTheError) {
  ScopedEnv quiet("LLMLAB_EMU_QUIET", "1");
  ScopedEnv env("LLMLAB_EMU_DEVICE", LLMLAB_EMU_TEST_DEVICE_DIR "/typo.json");
  cudaDeviceProp prop{};
  EXPECT_EQ(cudaGetDeviceProperties(&prop, 0), cudaErrorInvalidValue);
  EXPECT_NE(llmlab::emu::last_diagnostic().find("unknown key 'sm_cuont'"), std::string::npos)
      << llmlab::emu::last_diagnostic();
  cudaGetLastError();
}

TEST(EmulatedDevice, DynamicSharedMemoryAbove48KiBNeedsTheOptIn) {
  ScopedEnv quiet("LLMLAB_EMU_QUIET", "1");
  ScopedEnv device("LLMLAB_EMU_DEVICE", "h100");
  int* out = nullptr;
  ASSERT_EQ(cudaMalloc(&out, 32 * sizeof(int)), cudaSuccess);
  const std::size_t bytes = 64 * 1024;
  const auto cfg = llmlab::cuda::launch_config(1, 32, bytes);
  EXPECT_EQ(llmlab::cuda::launch(cfg, touch_dynamic_shared, out), cudaErrorInvalidConfiguration);
  const std::string why = llmlab::emu::last_diagnostic();
  EXPECT_NE(why.find("touch_dynamic_shared"), std::string::npos) << why;
  EXPECT_NE(why.find("65536 bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("49152"), std::string::npos) << why;
  cudaGetLastError();

  ASSERT_EQ(cudaFuncSetAttribute(touch_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                 static_cast<int>(bytes)),
            cudaSuccess);
  EXPECT_EQ(llmlab::cuda::launch(cfg, touch_dynamic_shared, out), cudaSuccess) << llmlab::emu::last_diagnostic();
  int back[32];
  ASSERT_EQ(cudaMemcpy(back, out, sizeof back, cudaMemcpyDeviceToHost), cudaSuccess);
  EXPECT_EQ(back[0], 31);
  cudaFuncAttributes attr{};
  ASSERT_EQ(cudaFuncGetAttributes(&attr, touch_dynamic_shared), cudaSuccess);
  EXPECT_EQ(attr.maxDynamicSharedSizeBytes, static_cast<int>(bytes));

  // More than the opt-in, and an opt-in beyond the device's limit.
  EXPECT_EQ(llmlab::cuda::launch(llmlab::cuda::launch_config(1, 32, bytes + 4), touch_dynamic_shared, out),
            cudaErrorInvalidConfiguration);
  EXPECT_NE(llmlab::emu::last_diagnostic().find("opted in"), std::string::npos) << llmlab::emu::last_diagnostic();
  EXPECT_EQ(cudaFuncSetAttribute(touch_dynamic_shared, cudaFuncAttributeMaxDynamicSharedMemorySize, 300 * 1024),
            cudaErrorInvalidValue);
  cudaGetLastError();
  cudaFree(out);
}

TEST(EmulatedDevice, OccupancyFollowsThreadsAndSharedMemoryLimits) {
  ScopedEnv device("LLMLAB_EMU_DEVICE", "a100");
  int blocks = -1;
  // Threads: 2048 per SM / 256 = 8 blocks. Shared: 164 KiB / (40 KiB + 1 KiB reserved) = 4 blocks.
  ASSERT_EQ(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, touch_dynamic_shared, 256, 0), cudaSuccess);
  EXPECT_EQ(blocks, 8);
  ASSERT_EQ(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, touch_dynamic_shared, 256, 40 * 1024),
            cudaSuccess);
  EXPECT_EQ(blocks, 4);
  ASSERT_EQ(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, touch_dynamic_shared, 32, 0), cudaSuccess);
  EXPECT_EQ(blocks, 32) << "capped by the blocks an SM may hold";
}
#endif

}  // namespace
