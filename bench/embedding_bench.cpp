/// \file
/// \brief embedding forward and backward: the reference in float at GPT-2 small's C = 768, and
/// every emulated kernel version at a small size. Bytes processed: forward reads B·T ids, B·T rows
/// of wte and of wpe and writes B·T rows; backward reads the B·T dout rows and reads and writes
/// the touched gradient rows (counted as B·T rows each of dwte and dwpe, an upper bound).
///
/// The emulated timings measure the emulator on this CPU (fibers, scheduling), not a GPU: they
/// show what each version costs to *emulate*, which is not its GPU speed.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/embedding.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/ref/embedding.hpp"

namespace {

/// The sizes of one benchmark: (B, T, C) activations over a (V, C) table and (maxT, C) positions.
struct Sizes {
  std::int64_t B, T, C, V;
};
constexpr Sizes kReference{4, 256, 768, 4096};  // GPT-2 small's width, a 4k-token table
constexpr Sizes kEmulated{2, 32, 128, 512};

std::vector<std::int32_t> ids_for(const Sizes& s) {
  llmlab::Rng rng(11);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(s.B * s.T));
  for (auto& id : ids)
    id = static_cast<std::int32_t>(std::min<double>(rng.uniform() * s.V, s.V - 1));
  return ids;
}

/// Bytes one forward or backward call moves (float rows, int32 ids).
std::int64_t bytes_per_call(const Sizes& s) {
  return s.B * s.T * (static_cast<std::int64_t>(sizeof(std::int32_t)) + 3 * s.C * 4);
}

template <class T>
xt::xtensor<T, 2> table(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  const std::vector<float> v =
      llmlab::Rng(seed).uniform_floats(static_cast<std::size_t>(rows * cols));
  xt::xtensor<T, 2> t =
      xt::empty<T>({static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
  std::copy(v.begin(), v.end(), t.begin());
  return t;
}

void reference_forward_f32(benchmark::State& state) {
  const Sizes s = kReference;
  const std::vector<std::int32_t> v = ids_for(s);
  xt::xtensor<std::int32_t, 2> ids =
      xt::empty<std::int32_t>({static_cast<std::size_t>(s.B), static_cast<std::size_t>(s.T)});
  std::copy(v.begin(), v.end(), ids.begin());
  const auto wte = table<float>(s.V, s.C, 1), wpe = table<float>(s.T, s.C, 2);
  for (auto _ : state) {
    auto out = llmlab::ref::embedding_forward(ids, wte, wpe);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_call(s));
}

void reference_backward_f32(benchmark::State& state) {
  const Sizes s = kReference;
  const std::vector<std::int32_t> v = ids_for(s);
  xt::xtensor<std::int32_t, 2> ids =
      xt::empty<std::int32_t>({static_cast<std::size_t>(s.B), static_cast<std::size_t>(s.T)});
  std::copy(v.begin(), v.end(), ids.begin());
  auto dwte = table<float>(s.V, s.C, 3), dwpe = table<float>(s.T, s.C, 4);
  xt::xtensor<float, 3> dout =
      xt::ones<float>({static_cast<std::size_t>(s.B), static_cast<std::size_t>(s.T),
                       static_cast<std::size_t>(s.C)});
  for (auto _ : state) {
    llmlab::ref::embedding_backward(dout, ids, dwte, dwpe);
    benchmark::DoNotOptimize(dwte.data());
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_call(s));
}

/// Device copies of the emulated case's inputs, freed on scope exit.
struct DeviceCase {
  std::int32_t* ids = nullptr;
  float *wte = nullptr, *wpe = nullptr, *out = nullptr;
  bool ok = true;
  explicit DeviceCase(const Sizes& s) {
    const std::vector<std::int32_t> host_ids = ids_for(s);
    const std::vector<float> w = llmlab::Rng(5).uniform_floats(static_cast<std::size_t>(s.V * s.C));
    const std::vector<float> p = llmlab::Rng(6).uniform_floats(static_cast<std::size_t>(s.T * s.C));
    ok = cudaMalloc(&ids, host_ids.size() * 4) == cudaSuccess &&
         cudaMalloc(&wte, w.size() * 4) == cudaSuccess &&
         cudaMalloc(&wpe, p.size() * 4) == cudaSuccess &&
         cudaMalloc(&out, static_cast<std::size_t>(s.B * s.T * s.C) * 4) == cudaSuccess;
    if (!ok) return;
    cudaMemcpy(ids, host_ids.data(), host_ids.size() * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(wte, w.data(), w.size() * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(wpe, p.data(), p.size() * 4, cudaMemcpyHostToDevice);
    cudaMemset(out, 0, static_cast<std::size_t>(s.B * s.T * s.C) * 4);
  }
  ~DeviceCase() {
    cudaFree(ids);
    cudaFree(wte);
    cudaFree(wpe);
    cudaFree(out);
  }
  DeviceCase(const DeviceCase&) = delete;
  DeviceCase& operator=(const DeviceCase&) = delete;
};

/// Times `launch(version)` (a launcher call for version state.range(0)) on the emulated case.
template <class Launch>
void emulated(benchmark::State& state, const DeviceCase& d, Launch launch) {
  if (!d.ok) return state.SkipWithError("cudaMalloc failed");
  for (auto _ : state) {
    if (launch(static_cast<int>(state.range(0))) != cudaSuccess)
      return state.SkipWithError("launch failed");
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * bytes_per_call(kEmulated));
}

void emulated_forward_f32(benchmark::State& state) {
  const Sizes s = kEmulated;
  DeviceCase d(s);
  emulated(state, d, [&](int v) {
    return llmlab::cuda::embedding_forward(d.ids, d.wte, d.wpe, d.out, s.B, s.T, s.C, s.V, s.T, v);
  });
}

/// dout is the forward's output buffer and the gradients are wte and wpe: values do not matter
/// to the timing.
void emulated_backward_f32(benchmark::State& state) {
  const Sizes s = kEmulated;
  DeviceCase d(s);
  emulated(state, d, [&](int v) {
    return llmlab::cuda::embedding_backward(d.out, d.ids, d.wte, d.wpe, s.B, s.T, s.C, s.V, s.T, v);
  });
}

}  // namespace

BENCHMARK(reference_forward_f32)
    ->Name("embedding/reference_forward_f32")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(reference_backward_f32)
    ->Name("embedding/reference_backward_f32")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_forward_f32)
    ->Name("embedding/emulated_forward_f32")
    ->DenseRange(1, llmlab::cuda::embedding_forward_versions)
    ->ArgName("v")
    ->UseRealTime()  // the emulator's pool threads do the work, not the calling thread
    ->Unit(benchmark::kMillisecond);
BENCHMARK(emulated_backward_f32)
    ->Name("embedding/emulated_backward_f32")
    ->DenseRange(1, llmlab::cuda::embedding_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
