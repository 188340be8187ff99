// The emulator's speed goals (issue: foundation), measured on one OS thread:
//   1,000 blocks × 256 threads with 3 barriers and 5 shuffles  ≤ 60 ms per launch;
//   a barrier-free kernel                                       ≤ 15 ns per CUDA thread.
// Plus the same number of bare Boost.Context switches between 256 fibers (BM_FiberSwitchFloor): the
// floor under the first while the emulator switched with Boost.Context; its own x86-64 switch
// (optimized/emu/src/fiber_stack.cpp) is cheaper, so it is now the reference it is compared with.
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>

#include <array>
#include <cstdlib>
#include <vector>

#include <llmlab/cuda/kernel.cuh>

namespace {

__global__ void barriers_and_shuffles(const float* __restrict__ x, float* __restrict__ out) {
  __shared__ float tile[256];
  const int t = threadIdx.x;
  float v = x[blockIdx.x * 256 + t];
  tile[t] = v;
  __syncthreads();  // 1
  v += tile[255 - t];
  __syncthreads();  // 2
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);  // 5
  if (t % 32 == 0) tile[t / 32] = v;
  __syncthreads();  // 3
  if (t == 0) {
    float s = 0;
    for (int w = 0; w < 8; ++w) s += tile[w];
    out[blockIdx.x] = s;
  }
}

__global__ void barrier_free(const float* __restrict__ x, float* __restrict__ y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}

struct DeviceBuffers {
  float* x = nullptr;
  float* y = nullptr;
  explicit DeviceBuffers(std::size_t n) {
    cudaMalloc(&x, n * sizeof(float));
    cudaMalloc(&y, n * sizeof(float));
    cudaMemset(x, 0, n * sizeof(float));
  }
  ~DeviceBuffers() {
    cudaFree(x);
    cudaFree(y);
  }
};

void set_one_os_thread() { setenv("LLMLAB_EMU_THREADS", "1", 1); }

void BM_EmuBarriersAndShuffles(benchmark::State& state) {
  set_one_os_thread();
  const int blocks = 1000;
  DeviceBuffers buf(blocks * 256);
  const auto cfg = llmlab::cuda::launch_config(dim3(blocks), dim3(256));
  for (auto _ : state) {
    if (llmlab::cuda::launch(cfg, barriers_and_shuffles, buf.x, buf.y) != cudaSuccess)
      state.SkipWithError("launch failed");
  }
  state.counters["ns_per_thread"] = benchmark::Counter(
      static_cast<double>(blocks) * 256 * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_EmuBarriersAndShuffles)->Unit(benchmark::kMillisecond);

void BM_EmuBarrierFree(benchmark::State& state) {
  set_one_os_thread();
  const int n = 1000 * 256;
  DeviceBuffers buf(n);
  const auto cfg = llmlab::cuda::launch_config(dim3(1000), dim3(256));
  for (auto _ : state) {
    if (llmlab::cuda::launch(cfg, barrier_free, buf.x, buf.y, n) != cudaSuccess)
      state.SkipWithError("launch failed");
  }
  state.counters["ns_per_thread"] = benchmark::Counter(
      static_cast<double>(n) * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_EmuBarrierFree)->Unit(benchmark::kMillisecond);

// 256 fibers on 128 KiB stacks (the emulator's size), each switching straight to the next one as a
// waiting CUDA thread hands over to the next ready one: 8 switches per fiber per "block" (the
// 3 barriers and 5 shuffles above), 1,000 blocks per iteration.
namespace ctx = boost::context;
constexpr int kFibers = 256;
constexpr int kSwitchesPerFiber = 8;
struct Ring {
  std::array<ctx::fiber, kFibers + 1> cont;  // cont[kFibers]: the benchmark's own context
  int from = 0;                              // who jumped last (files its continuation on arrival)
  long long left = 0;                        // switches still to make in this iteration
};
Ring ring;

void hand_over(int self, int to) {
  ring.from = self;
  ctx::fiber jumper = std::move(ring.cont[to]).resume();
  ring.cont[ring.from] = std::move(jumper);
}

void BM_FiberSwitchFloor(benchmark::State& state) {
  ctx::fixedsize_stack stacks(128 * 1024);
  for (int i = 0; i < kFibers; ++i) {
    ring.cont[i] = ctx::fiber(std::allocator_arg, stacks, [i](ctx::fiber&& caller) {
      ring.cont[ring.from] = std::move(caller);
      for (;;) hand_over(i, --ring.left > 0 ? (i + 1) % kFibers : kFibers);
      return ctx::fiber{};
    });
  }
  const long long per_iteration = 1000LL * kFibers * kSwitchesPerFiber;
  for (auto _ : state) {
    ring.left = per_iteration;
    hand_over(kFibers, 0);
  }
  state.counters["ns_per_switch"] = benchmark::Counter(
      static_cast<double>(per_iteration) * state.iterations(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  for (int i = 0; i < kFibers; ++i) ring.cont[i] = ctx::fiber{};  // unwinds each fiber's stack
}
BENCHMARK(BM_FiberSwitchFloor)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
