/// \file
/// \ingroup group_optimizer
/// \brief The fused AdamW step over GPT-2's list of parameter tensors (148 of them: wte, wpe, 12
/// per layer, ln_f): one launch for every tensor, fp32 parameters and bf16 ones with fp32 master
/// weights; the same kernel launched once per tensor (what a loop over the model's parameters
/// does); the two-stage global gradient norm; and the reference in float.
///
/// Bytes per element, and the minimum for an AdamW whose state lives in memory (read p, g, m, v;
/// write p, m, v): fp32 parameters 16 read + 12 written = 28; bf16 parameters with fp32 master
/// weights 16 read (the master, not the bf16 copy) + 12 + 2 written = 30. The fused kernel moves
/// exactly the minimum, so its bytes_per_second is its useful bandwidth; the counters
/// bytes_per_element and minimum_bytes_per_element say so next to it. (PyTorch's unfused
/// single-tensor AdamW, one ATen operation per term of the formula, moves about 100 bytes per
/// fp32 element: mul_, mul_ + add_, mul_ + addcmul_, sqrt, div_, add_, addcdiv_.) The norm reads
/// 4 bytes per element.
///
/// Under the emulator the model is GPT-2's shape scaled down (C = 64, V = 1000, 2 layers) and the
/// timings measure the emulator on this CPU, not a GPU. Compiled by nvcc (optimizer_bench_gpu) it
/// runs GPT-2 small itself (124 M parameters) and prints peak_GB/s next to bytes_per_second.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <deque>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "bandwidth.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/optimizer.cuh"
#include "llmlab/ref/optimizer.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::cuda::AdamwHyper;
using llmlab::cuda::AdamwList;
using llmlab::cuda::AdamwTensor;
using llmlab::testing::DeviceBuffer;

/// GPT-2's parameter tensors' sizes for width C, vocabulary V, context T and L layers (nanoGPT's
/// order: wte, wpe, then per layer ln_1.w, ln_1.b, attn.c_attn.w, .b, attn.c_proj.w, .b, ln_2.w,
/// ln_2.b, mlp.c_fc.w, .b, mlp.c_proj.w, .b; then ln_f.w, ln_f.b).
std::vector<std::int64_t> gpt2_sizes() {
  const std::int64_t C = LLMLAB_EMULATED ? 64 : 768, V = LLMLAB_EMULATED ? 1000 : 50257,
                     T = LLMLAB_EMULATED ? 128 : 1024, L = LLMLAB_EMULATED ? 2 : 12;
  std::vector<std::int64_t> s = {V * C, T * C};
  for (std::int64_t l = 0; l < L; ++l)
    for (const std::int64_t n :
         {C, C, 3 * C * C, 3 * C, C * C, C, C, C, 4 * C * C, 4 * C, 4 * C * C, C})
      s.push_back(n);
  s.push_back(C);
  s.push_back(C);
  return s;
}

std::int64_t total_of(const std::vector<std::int64_t>& sizes) {
  std::int64_t n = 0;
  for (const std::int64_t k : sizes) n += k;
  return n;
}

/// Every tensor of the model on the device, one allocation per tensor and array, with seeded
/// values (parameters U(±1), gradients U(±1), moments 0).
template <class P>
struct Model {
  std::vector<std::int64_t> sizes = gpt2_sizes();
  std::deque<DeviceBuffer<P>> param;
  std::deque<DeviceBuffer<float>> master, grad, m, v;
  std::vector<AdamwTensor<P>> tensors;

  Model() {
    llmlab::Rng rng(0x0b7e'0006u);
    for (const std::int64_t n : sizes) {
      const std::vector<float> p0 = rng.uniform_floats(static_cast<std::size_t>(n));
      param.emplace_back(llmlab::testing::device_values<P>(p0));
      if constexpr (sizeof(P) == 2) master.emplace_back(p0);
      grad.emplace_back(rng.uniform_floats(static_cast<std::size_t>(n)));
      m.emplace_back(n);
      v.emplace_back(n);
      tensors.push_back({param.back().get(), sizeof(P) == 2 ? master.back().get() : nullptr,
                         grad.back().cget(), m.back().get(), v.back().get(), n, 0});
    }
  }
};

/// Bytes an AdamW step moves per element: 28 (fp32 parameters) or 30 (bf16 with master weights).
template <class P>
constexpr std::int64_t kBytesPerElement = sizeof(P) == 2 ? 30 : 28;

template <class P>
void count(benchmark::State& state, std::int64_t elements, std::int64_t bytes_per_element,
           std::int64_t minimum) {
  state.SetBytesProcessed(state.iterations() * elements * bytes_per_element);
  state.counters["bytes_per_element"] = static_cast<double>(bytes_per_element);
  state.counters["minimum_bytes_per_element"] = static_cast<double>(minimum);
  state.counters["tensors"] = static_cast<double>(gpt2_sizes().size());
  llmlab::bench::report_peak(state);
}

template <class P>
void fused(benchmark::State& state) {
  Model<P> model;
  const AdamwList<P> list(model.tensors);
  std::int64_t step = 1;
  for (auto _ : state) {
    if (llmlab::cuda::adamw_step(list, AdamwHyper{6e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, step++, 1}) !=
        cudaSuccess) {
      state.SkipWithError("adamw_step failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  count<P>(state, list.total(), kBytesPerElement<P>, kBytesPerElement<P>);
}

template <class P>
void launch_per_tensor(benchmark::State& state) {
  Model<P> model;
  std::deque<AdamwList<P>> lists;  // one list of one tensor each: a launch per tensor
  for (const auto& t : model.tensors) lists.emplace_back(std::span<const AdamwTensor<P>>(&t, 1));
  std::int64_t step = 1;
  for (auto _ : state) {
    for (const auto& l : lists)
      if (llmlab::cuda::adamw_step(l, AdamwHyper{6e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, step, 1}) !=
          cudaSuccess) {
        state.SkipWithError("adamw_step failed");
        break;
      }
    ++step;
    cudaDeviceSynchronize();
  }
  count<P>(state, total_of(model.sizes), kBytesPerElement<P>, kBytesPerElement<P>);
}

void grad_norm(benchmark::State& state) {
  Model<float> model;
  const AdamwList<float> list(model.tensors);
  DeviceBuffer<float> out(2);
  for (auto _ : state) {
    if (llmlab::cuda::grad_norm(list, 1.0f, out.get()) != cudaSuccess) {
      state.SkipWithError("grad_norm failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  count<float>(state, list.total(), 4, 4);
}

void reference_f32(benchmark::State& state) {
  llmlab::Rng rng(0x0b7e'0006u);
  std::vector<xt::xtensor<float, 1>> p, g, m, v;
  for (const std::int64_t n : gpt2_sizes()) {
    const auto k = static_cast<std::size_t>(n);
    p.push_back(llmlab::testing::tensor<float>(rng.uniform_floats(k)));
    g.push_back(llmlab::testing::tensor<float>(rng.uniform_floats(k)));
    m.push_back(xt::zeros<float>({k}));
    v.push_back(xt::zeros<float>({k}));
  }
  std::int64_t step = 1;
  for (auto _ : state) {
    for (std::size_t t = 0; t < p.size(); ++t)
      llmlab::ref::adamw_step(p[t], g[t], m[t], v[t], step,
                              llmlab::ref::AdamOptions{6e-4, 0.9, 0.95, 1e-8, 0.1});
    ++step;
    benchmark::DoNotOptimize(p[0].data());
  }
  state.SetBytesProcessed(state.iterations() * total_of(gpt2_sizes()) * 28);
}

}  // namespace

BENCHMARK(reference_f32)->Name("optimizer/reference_adamw_f32")->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK(fused<float>)
    ->Name(LLMLAB_EMULATED ? "optimizer/emulated_fused_adamw_f32" : "optimizer/gpu_fused_adamw_f32")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(fused<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "optimizer/emulated_fused_adamw_bf16_master"
                           : "optimizer/gpu_fused_adamw_bf16_master")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(launch_per_tensor<float>)
    ->Name(LLMLAB_EMULATED ? "optimizer/emulated_adamw_launch_per_tensor_f32"
                           : "optimizer/gpu_adamw_launch_per_tensor_f32")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(grad_norm)
    ->Name(LLMLAB_EMULATED ? "optimizer/emulated_grad_norm" : "optimizer/gpu_grad_norm")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
