/// \file
/// \brief embedding forward and backward: the reference in float at GPT-2 small's C = 768, and
/// every kernel version, fp32 and bf16, at a small size under the emulator. Bytes processed:
/// forward reads B·T ids, B·T rows of wte and of wpe and writes B·T rows; backward reads the B·T
/// ids and dout rows and reads and writes the touched fp32 gradient rows (counted as B·T rows each
/// of dwte and dwpe, an upper bound).
///
/// The emulated timings measure the emulator on this CPU (fibers, scheduling), not a GPU: they
/// show what each version costs to *emulate*, which is not its GPU speed. Compiled by nvcc
/// (embedding_bench_gpu) it times the GPU kernels on 8 × 1024 tokens and prints the achieved
/// bytes_per_second next to the device's peak_GB/s (the forward is memory-bound).

#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <xtensor/xtensor.hpp>

#include "bandwidth.hpp"
#include "llmlab/cuda/embedding.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/ref/embedding.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/embedding_case.hpp"
#include "llmlab/testing/values.hpp"

namespace {

using llmlab::DType;
using llmlab::testing::device_values;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::EmbeddingCase;
using llmlab::testing::EmbeddingShape;

/// The reference's sizes: GPT-2 small's width, a 4k-token table, T = maxT.
constexpr EmbeddingShape kReference{4, 256, 768, 4096, 256};
/// The kernels' sizes: small under the emulator, 8 × 1024 tokens of C = 768 on a GPU.
constexpr EmbeddingShape kKernel = LLMLAB_EMULATED ? EmbeddingShape{2, 32, 128, 512, 32}
                                                   : EmbeddingShape{8, 1024, 768, 8192, 1024};

/// The dtype of device element type T.
template <class T>
constexpr DType dtype_of = sizeof(T) == 2 ? DType::bf16 : DType::f32;

/// embedding's seeded case (its description, llmlab/testing/embedding_case.hpp), made once.
template <class T>
const EmbeddingCase& kernel_case() {
  static const EmbeddingCase k = llmlab::testing::make_embedding_case(kKernel, dtype_of<T>);
  return k;
}

/// Bytes one forward call moves: ids, two table rows read and one row written per position.
template <class T>
std::int64_t forward_bytes(const EmbeddingShape& s) {
  return s.B * s.T * (4 + 3 * s.C * static_cast<std::int64_t>(sizeof(T)));
}

/// Bytes one backward call moves: ids and a dout row per position, plus a row each of the fp32
/// dwte and dwpe.
template <class T>
std::int64_t backward_bytes(const EmbeddingShape& s) {
  return s.B * s.T * (4 + s.C * static_cast<std::int64_t>(sizeof(T)) + 2 * s.C * 4);
}

void reference_forward_f32(benchmark::State& state) {
  const auto& s = kReference;
  const EmbeddingCase k = llmlab::testing::make_embedding_case(s, DType::f32);
  const auto ids = k.ids_tensor();
  const auto wte = llmlab::testing::matrix<float>(k.wte, s.V, s.C);
  const auto wpe = llmlab::testing::matrix<float>(k.wpe, s.maxT, s.C);
  for (auto _ : state) {
    auto out = llmlab::ref::embedding_forward(ids, wte, wpe);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * forward_bytes<float>(s));
}

void reference_backward_f32(benchmark::State& state) {
  const auto& s = kReference;
  const EmbeddingCase k = llmlab::testing::make_embedding_case(s, DType::f32);
  const auto ids = k.ids_tensor();
  auto dwte = llmlab::testing::matrix<float>(k.dwte0, s.V, s.C);
  auto dwpe = llmlab::testing::matrix<float>(k.dwpe0, s.maxT, s.C);
  const auto dout = llmlab::testing::tensor<float>(
      k.dout,
      std::array<std::size_t, 3>{static_cast<std::size_t>(s.B), static_cast<std::size_t>(s.T),
                                 static_cast<std::size_t>(s.C)});
  for (auto _ : state) {
    llmlab::ref::embedding_backward(dout, ids, dwte, dwpe);
    benchmark::DoNotOptimize(dwte.data());
  }
  state.SetBytesProcessed(state.iterations() * backward_bytes<float>(s));
}

/// Forward version state.range(0) on the kernels' case.
template <class T>
void kernel_forward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const EmbeddingCase& k = kernel_case<T>();
  const auto& s = k.shape;
  DeviceBuffer<std::int32_t> ids(k.ids);
  DeviceBuffer<T> wte(device_values<T>(k.wte)), wpe(device_values<T>(k.wpe)), out(s.B * s.T * s.C);
  for (auto _ : state) {
    if (llmlab::cuda::embedding_forward(ids.cget(), wte.cget(), wpe.cget(), out.get(), s.B, s.T,
                                        s.C, s.V, s.maxT, version) != cudaSuccess) {
      state.SkipWithError("embedding_forward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * forward_bytes<T>(s));
  llmlab::bench::report_peak(state);
}

/// Backward version state.range(0) on the kernels' case, dout in T (the gradients keep
/// accumulating: the timing ignores values).
template <class T>
void kernel_backward(benchmark::State& state) {
  const int version = static_cast<int>(state.range(0));
  const EmbeddingCase& k = kernel_case<T>();
  const auto& s = k.shape;
  DeviceBuffer<std::int32_t> ids(k.ids);
  DeviceBuffer<T> dout(device_values<T>(k.dout));
  DeviceBuffer<float> dwte(k.dwte0), dwpe(k.dwpe0);
  for (auto _ : state) {
    if (llmlab::cuda::embedding_backward(dout.cget(), ids.cget(), dwte.get(), dwpe.get(), s.B, s.T,
                                         s.C, s.V, s.maxT, version) != cudaSuccess) {
      state.SkipWithError("embedding_backward failed");
      break;
    }
    cudaDeviceSynchronize();
  }
  state.SetBytesProcessed(state.iterations() * backward_bytes<T>(s));
  llmlab::bench::report_peak(state);
}

}  // namespace

BENCHMARK(reference_forward_f32)
    ->Name("embedding/reference_forward_f32")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(reference_backward_f32)
    ->Name("embedding/reference_backward_f32")
    ->Unit(benchmark::kMillisecond);
// UseRealTime: the emulator's pool threads do the work, not the calling thread.
BENCHMARK(kernel_forward<float>)
    ->Name(LLMLAB_EMULATED ? "embedding/emulated_forward_f32" : "embedding/gpu_forward_f32")
    ->DenseRange(1, llmlab::cuda::embedding_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_forward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "embedding/emulated_forward_bf16" : "embedding/gpu_forward_bf16")
    ->DenseRange(1, llmlab::cuda::embedding_forward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_backward<float>)
    ->Name(LLMLAB_EMULATED ? "embedding/emulated_backward_f32" : "embedding/gpu_backward_f32")
    ->DenseRange(1, llmlab::cuda::embedding_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(kernel_backward<__nv_bfloat16>)
    ->Name(LLMLAB_EMULATED ? "embedding/emulated_backward_bf16" : "embedding/gpu_backward_bf16")
    ->DenseRange(1, llmlab::cuda::embedding_backward_versions)
    ->ArgName("v")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
