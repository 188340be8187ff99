// The emulator runs CUDA's execution model faithfully: indices, barriers, warp functions, atomics,
// shared memory, launch checks and schedules. Expected values come from CUDA's definitions, written
// out independently in each test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include <llmlab/cuda/kernel.cuh>

#include "llmlab/testing/device.hpp"
#include "llmlab/testing/env.hpp"

using llmlab::cuda::launch;
using llmlab::cuda::launch_config;
using llmlab::testing::DeviceBuffer;

namespace {

__global__ void record_indices(unsigned* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
  unsigned* slot = out + 4 * (block * per_block + thread);
  slot[0] = threadIdx.x + 100 * threadIdx.y + 10000 * threadIdx.z;
  slot[1] = blockIdx.x + 100 * blockIdx.y + 10000 * blockIdx.z;
  slot[2] = blockDim.x + 100 * blockDim.y + 10000 * blockDim.z;
  slot[3] = gridDim.x + 100 * gridDim.y + 10000 * gridDim.z;
}

TEST(EmuSemantics, EveryThreadOfA3DGridSeesItsOwnIndices) {
  const dim3 grid(2, 3, 2), block(4, 2, 3);
  const int n = 2 * 3 * 2 * 4 * 2 * 3;
  const auto out = DeviceBuffer<unsigned>::filled(4 * n, 0xffffffffu);
  ASSERT_EQ(launch(launch_config(grid, block), record_indices, out.get()), cudaSuccess);
  const auto h = out.download();
  int i = 0;
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 3; ++by)
      for (unsigned bx = 0; bx < 2; ++bx)
        for (unsigned tz = 0; tz < 3; ++tz)
          for (unsigned ty = 0; ty < 2; ++ty)
            for (unsigned tx = 0; tx < 4; ++tx, ++i) {
              EXPECT_EQ(h[4 * i + 0], tx + 100 * ty + 10000 * tz) << "thread slot " << i;
              EXPECT_EQ(h[4 * i + 1], bx + 100 * by + 10000 * bz) << "block slot " << i;
              EXPECT_EQ(h[4 * i + 2], 4u + 200u + 30000u);
              EXPECT_EQ(h[4 * i + 3], 2u + 300u + 20000u);
            }
}

// Each thread writes its value, waits, then reads its mirror: wrong without a working barrier.
__global__ void reverse_in_shared(const int* in, int* out) {
  __shared__ int tile[256];
  const int t = threadIdx.x;
  tile[t] = in[blockIdx.x * blockDim.x + t];
  __syncthreads();
  out[blockIdx.x * blockDim.x + t] = tile[blockDim.x - 1 - t];
}

TEST(EmuSemantics, BarrierMakesEveryWriteOfTheBlockVisible) {
  const int blocks = 5, threads = 256;
  std::vector<int> in(blocks * threads);
  std::iota(in.begin(), in.end(), 7);
  DeviceBuffer<int> d_in(in);
  const auto d_out = DeviceBuffer<int>::filled(in.size(), -1);
  ASSERT_EQ(launch(launch_config(blocks, threads), reverse_in_shared, d_in.cget(), d_out.get()),
            cudaSuccess);
  const auto out = d_out.download();
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < threads; ++t)
      ASSERT_EQ(out[b * threads + t], in[b * threads + threads - 1 - t]) << "block " << b << " thread " << t;
}

__global__ void barrier_votes(int* out) {
  const int t = threadIdx.x;
  out[0 + 4 * t] = __syncthreads_count(t % 3 == 0);
  out[1 + 4 * t] = __syncthreads_and(t < 1000);
  out[2 + 4 * t] = __syncthreads_and(t != 5);
  out[3 + 4 * t] = __syncthreads_or(t == 77);
}

TEST(EmuSemantics, SyncthreadsCountAndOrReduceOverTheBlock) {
  const int threads = 100;
  const auto out = DeviceBuffer<int>::filled(4 * threads, -1);
  ASSERT_EQ(launch(launch_config(1, threads), barrier_votes, out.get()), cudaSuccess);
  const auto h = out.download();
  for (int t = 0; t < threads; ++t) {
    EXPECT_EQ(h[0 + 4 * t], 34);  // multiples of 3 in [0, 100): 0, 3, ..., 99
    EXPECT_EQ(h[1 + 4 * t], 1);
    EXPECT_EQ(h[2 + 4 * t], 0);
    EXPECT_EQ(h[3 + 4 * t], 1);
  }
}

// Every shuffle flavour at widths 32, 16 and 8; each lane contributes 1000 + lane.
__global__ void all_shuffles(int* out, int width) {
  const int lane = threadIdx.x;
  const int v = 1000 + lane;
  out[0 * 32 + lane] = __shfl_sync(0xffffffffu, v, 3, width);
  out[1 * 32 + lane] = __shfl_up_sync(0xffffffffu, v, 2, width);
  out[2 * 32 + lane] = __shfl_down_sync(0xffffffffu, v, 5, width);
  out[3 * 32 + lane] = __shfl_xor_sync(0xffffffffu, v, 6, width);
  out[4 * 32 + lane] = __shfl_sync(0xffffffffu, v, lane + 35, width);  // srcLane taken mod width
}

TEST(EmuSemantics, ShufflesFollowCudasDefinitionAtEveryWidth) {
  for (int width : {32, 16, 8}) {
    const auto out = DeviceBuffer<int>::filled(5 * 32, -1);
    ASSERT_EQ(launch(launch_config(1, 32), all_shuffles, out.get(), width), cudaSuccess);
    const auto h = out.download();
    for (int lane = 0; lane < 32; ++lane) {
      const int seg = lane / width * width, in_seg = lane % width;
      EXPECT_EQ(h[0 * 32 + lane], 1000 + seg + 3 % width) << "shfl w=" << width << " lane " << lane;
      EXPECT_EQ(h[1 * 32 + lane], 1000 + (in_seg >= 2 ? lane - 2 : lane)) << "up w=" << width << " lane " << lane;
      EXPECT_EQ(h[2 * 32 + lane], 1000 + (in_seg + 5 < width ? lane + 5 : lane)) << "down w=" << width;
      EXPECT_EQ(h[3 * 32 + lane], 1000 + seg + ((lane ^ 6) % width)) << "xor w=" << width << " lane " << lane;
      EXPECT_EQ(h[4 * 32 + lane], 1000 + seg + (lane + 35) % width) << "shfl mod w=" << width;
    }
  }
}

__global__ void shuffle_doubles_and_bf16(double* out_d, float* out_b) {
  const int lane = threadIdx.x;
  out_d[lane] = __shfl_xor_sync(0xffffffffu, 0.5 + lane, 1);
  const __nv_bfloat16 b = __float2bfloat16(static_cast<float>(lane));
  out_b[lane] = __bfloat162float(__shfl_down_sync(0xffffffffu, b, 1));
}

TEST(EmuSemantics, ShufflesMoveDoublesAndBfloat16Values) {
  DeviceBuffer<double> d(32);
  DeviceBuffer<float> b(32);
  ASSERT_EQ(launch(launch_config(1, 32), shuffle_doubles_and_bf16, d.get(), b.get()), cudaSuccess);
  const auto hd = d.download();
  const auto hb = b.download();
  for (int lane = 0; lane < 32; ++lane) {
    EXPECT_EQ(hd[lane], 0.5 + (lane ^ 1));
    EXPECT_EQ(hb[lane], static_cast<float>(lane < 31 ? lane + 1 : lane));
  }
}

__global__ void votes(unsigned* out) {
  const int lane = threadIdx.x % 32;
  const unsigned ballot = __ballot_sync(0xffffffffu, lane % 4 == 1);
  const int any = __any_sync(0xffffffffu, lane == 17);
  const int all = __all_sync(0xffffffffu, lane < 32);
  const int none = __any_sync(0xffffffffu, 0);
  if (threadIdx.x == 0) {
    out[0] = ballot;
    out[1] = static_cast<unsigned>(any);
    out[2] = static_cast<unsigned>(all);
    out[3] = static_cast<unsigned>(none);
  }
}

TEST(EmuSemantics, BallotAnyAndAllVoteOverTheMask) {
  const auto out = DeviceBuffer<unsigned>::filled(4, 7u);
  ASSERT_EQ(launch(launch_config(1, 64), votes, out.get()), cudaSuccess);
  const auto h = out.download();
  EXPECT_EQ(h[0], 0x22222222u);  // lanes 1, 5, 9, ...
  EXPECT_EQ(h[1], 1u);
  EXPECT_EQ(h[2], 1u);
  EXPECT_EQ(h[3], 0u);
}

__global__ void partial_mask_shuffle(int* out) {
  const int lane = threadIdx.x;
  if (lane < 16) out[lane] = __shfl_down_sync(0x0000ffffu, lane * 10, 1, 16);
  else out[lane] = __shfl_up_sync(0xffff0000u, lane * 10, 1, 16);
}

TEST(EmuSemantics, DisjointMasksShuffleIndependently) {
  const auto out = DeviceBuffer<int>::filled(32, -1);
  ASSERT_EQ(launch(launch_config(1, 32), partial_mask_shuffle, out.get()), cudaSuccess);
  const auto h = out.download();
  for (int lane = 0; lane < 16; ++lane) EXPECT_EQ(h[lane], (lane < 15 ? lane + 1 : lane) * 10);
  for (int lane = 16; lane < 32; ++lane) EXPECT_EQ(h[lane], (lane > 16 ? lane - 1 : lane) * 10);
}

__global__ void atomics(int* counter, float* fsum, unsigned* maxv, int* minv, unsigned long long* big,
                        __nv_bfloat16* bsum) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(counter, 1);
  atomicAdd(fsum, 0.5f);
  atomicMax(maxv, static_cast<unsigned>(i * 7 % 1000));
  atomicMin(minv, -i);
  atomicAdd(big, 1ull << 33);
  if (i < 8) atomicAdd(bsum, __float2bfloat16(1.0f));
}

TEST(EmuSemantics, AtomicsFromEveryBlockAddUp) {
  const int blocks = 64, threads = 128, n = blocks * threads;
  DeviceBuffer<int> counter(1), minv(1);  // every buffer starts at zero
  DeviceBuffer<float> fsum(1);
  DeviceBuffer<unsigned> maxv(1);
  DeviceBuffer<unsigned long long> big(1);
  DeviceBuffer<__nv_bfloat16> bsum(1);
  ASSERT_EQ(launch(launch_config(blocks, threads), atomics, counter.get(), fsum.get(), maxv.get(),
                   minv.get(), big.get(), bsum.get()),
            cudaSuccess);
  EXPECT_EQ(counter.download()[0], n);
  EXPECT_EQ(fsum.download()[0], 0.5f * n);  // exact: multiples of 0.5 below 2^24
  EXPECT_EQ(maxv.download()[0], 999u);
  EXPECT_EQ(minv.download()[0], -(n - 1));
  EXPECT_EQ(big.download()[0], static_cast<unsigned long long>(n) << 33);
  EXPECT_EQ(__bfloat162float(bsum.download()[0]), 8.0f);
}

__global__ void dynamic_shared_rotate(const float* in, float* out, int n) {
  float* tile = llmlab::cuda::dynamic_shared<float>();
  const int t = threadIdx.x;
  tile[t] = in[t];
  __syncthreads();
  out[t] = tile[(t + 1) % n];
}

TEST(EmuSemantics, DynamicSharedMemoryIsSharedByTheBlock) {
  const int n = 96;
  std::vector<float> in(n);
  std::iota(in.begin(), in.end(), 1.0f);
  DeviceBuffer<float> d_in(in), d_out(n);
  ASSERT_EQ(launch(launch_config(1, n, n * sizeof(float)), dynamic_shared_rotate, d_in.cget(),
                   d_out.get(), n),
            cudaSuccess);
  const auto out = d_out.download();
  for (int t = 0; t < n; ++t) EXPECT_EQ(out[t], in[(t + 1) % n]);
}

TEST(EmuSemantics, MemoryCountersAccountEveryAllocationAndRelease) {
  llmlab::emu::reset_memory_counters();
  const auto before = llmlab::emu::memory_counters();
  EXPECT_EQ(before.allocated_bytes, 0u);
  EXPECT_EQ(before.allocations, 0);
  EXPECT_EQ(before.peak_bytes, before.live_bytes);
  void* a = nullptr;
  void* b = nullptr;
  ASSERT_EQ(cudaMalloc(&a, 1000), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&b, 24), cudaSuccess);
  ASSERT_EQ(cudaFree(a), cudaSuccess);
  {
    DeviceBuffer<float> c(10);  // 40 bytes, freed at the end of the scope
    EXPECT_EQ(llmlab::emu::memory_counters().live_bytes, before.live_bytes + 24 + 40);
  }
  const auto after = llmlab::emu::memory_counters();
  EXPECT_EQ(after.allocated_bytes, 1000u + 24 + 40);
  EXPECT_EQ(after.allocations, 3);
  EXPECT_EQ(after.peak_bytes, before.live_bytes + 1024);  // a and b live together
  EXPECT_EQ(after.live_bytes, before.live_bytes + 24);
  ASSERT_EQ(cudaFree(b), cudaSuccess);
  ASSERT_EQ(cudaFree(nullptr), cudaSuccess);
  EXPECT_EQ(llmlab::emu::memory_counters().live_bytes, before.live_bytes);
  llmlab::emu::reset_memory_counters();
  EXPECT_EQ(llmlab::emu::memory_counters().peak_bytes, before.live_bytes);
}

__global__ void modify_parameter(int n, int* out) {
  out[threadIdx.x] = n;
  n += 1000;  // a thread's parameters are its own copy
}

TEST(EmuSemantics, EachThreadGetsItsOwnCopyOfTheParameters) {
  DeviceBuffer<int> out(64);
  ASSERT_EQ(launch(launch_config(1, 64), modify_parameter, 5, out.get()), cudaSuccess);
  for (int v : out.download()) EXPECT_EQ(v, 5);
}

__global__ void start_order(int* clock, int* when) {
  when[threadIdx.x] = atomicAdd(clock, 1);
}

TEST(EmuSemantics, SchedulesChooseTheOrderThreadsStart) {
  llmlab::testing::ScopedEnv one_thread("LLMLAB_EMU_THREADS", "1");
  auto order_under = [](const char* schedule) {
    llmlab::testing::ScopedEnv env("LLMLAB_EMU_SCHEDULE", schedule);
    DeviceBuffer<int> clock(1);
    const auto when = DeviceBuffer<int>::filled(64, -1);
    EXPECT_EQ(launch(launch_config(1, 64), start_order, clock.get(), when.get()), cudaSuccess);
    return when.download();
  };
  const auto forward = order_under("forward");
  const auto reverse = order_under("reverse");
  const auto random1 = order_under("random:1");
  for (int t = 0; t < 64; ++t) {
    EXPECT_EQ(forward[t], t);
    EXPECT_EQ(reverse[t], 63 - t);
  }
  EXPECT_NE(random1, forward);
  EXPECT_NE(random1, reverse);
  auto sorted = random1;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, forward) << "a random schedule still runs every thread once";
}

TEST(EmuSemantics, ABadScheduleNameIsRejected) {
  llmlab::testing::ScopedEnv env("LLMLAB_EMU_SCHEDULE", "sideways");
  DeviceBuffer<int> clock(1);
  const auto when = DeviceBuffer<int>::filled(4, -1);
  EXPECT_EQ(launch(launch_config(1, 4), start_order, clock.get(), when.get()), cudaErrorInvalidValue);
  EXPECT_NE(llmlab::emu::last_diagnostic().find("LLMLAB_EMU_SCHEDULE='sideways'"), std::string::npos);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "cudaGetLastError resets the error";
}

TEST(EmuSemantics, ImpossibleLaunchConfigurationsAreRejectedWithTheirSizes) {
  DeviceBuffer<int> clock(1);
  const auto when = DeviceBuffer<int>::filled(4, -1);
  EXPECT_EQ(launch(launch_config(1, 2048), start_order, clock.get(), when.get()),
            cudaErrorInvalidConfiguration);
  EXPECT_NE(llmlab::emu::last_diagnostic().find("blockDim (2048,1,1)"), std::string::npos)
      << llmlab::emu::last_diagnostic();
  EXPECT_EQ(launch(launch_config(dim3(0), 32), start_order, clock.get(), when.get()),
            cudaErrorInvalidConfiguration);
  EXPECT_NE(llmlab::emu::last_diagnostic().find("gridDim (0,1,1)"), std::string::npos);
  EXPECT_EQ(launch(launch_config(1, 32, 300 * 1024), start_order, clock.get(), when.get()),
            cudaErrorInvalidConfiguration);
}

TEST(EmuSemantics, BlocksSpreadOverSeveralOsThreadsGiveTheSameResult) {
  for (const char* threads : {"1", "2", "4"}) {
    llmlab::testing::ScopedEnv env("LLMLAB_EMU_THREADS", threads);
    const int blocks = 37, n = blocks * 256;
    std::vector<int> in(n);
    std::iota(in.begin(), in.end(), 0);
    DeviceBuffer<int> d_in(in);
    const auto d_out = DeviceBuffer<int>::filled(n, -1);
    ASSERT_EQ(launch(launch_config(blocks, 256), reverse_in_shared, d_in.cget(), d_out.get()), cudaSuccess);
    const auto out = d_out.download();
    for (int i = 0; i < n; ++i) ASSERT_EQ(out[i], in[i / 256 * 256 + 255 - i % 256]) << threads << " threads";
  }
}

// bf16 / half functions the CUDA headers only give the device: each must equal the exact result
// rounded once (computed here in double and rounded by the header's own conversion).
TEST(EmuSemantics, Bfloat16AndHalfDeviceMathRoundsOnce) {
  const float a = 1.0078125f, b = 3.0f, c = -2.5f;  // all exact in bf16 and half
  const __nv_bfloat16 ba = __float2bfloat16(a), bb = __float2bfloat16(b), bc = __float2bfloat16(c);
  EXPECT_EQ(__bfloat162float(__hfma(ba, bb, bc)), __bfloat162float(__double2bfloat16(double(a) * b + c)));
  const __half ha = __float2half(a), hb = __float2half(b), hc = __float2half(c);
  EXPECT_EQ(__half2float(__hfma(ha, hb, hc)), __half2float(__double2half(double(a) * b + c)));
  EXPECT_EQ(__bfloat162float(hexp(__float2bfloat16(1.0f))), __bfloat162float(__double2bfloat16(std::exp(1.0))));
  EXPECT_EQ(__bfloat162float(hsqrt(__float2bfloat16(2.0f))), __bfloat162float(__double2bfloat16(std::sqrt(2.0))));
  EXPECT_EQ(__half2float(hrsqrt(__float2half(4.0f))), 0.5f);
  EXPECT_EQ(__bfloat162int_rn(__float2bfloat16(2.5f)), 2);  // ties to even
  EXPECT_EQ(__bfloat162int_rn(__float2bfloat16(3.5f)), 4);
  const __nv_bfloat162 v = __hfma2(__nv_bfloat162(ba, bb), __nv_bfloat162(bb, bb), __nv_bfloat162(bc, bc));
  EXPECT_EQ(__bfloat162float(v.x), __bfloat162float(__hfma(ba, bb, bc)));
  EXPECT_EQ(__bfloat162float(v.y), 6.5f);
}

}  // namespace
