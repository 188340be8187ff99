#pragma once
/// \file
/// \ingroup group_layernorm
/// \brief layernorm's launchers (<llmlab/cuda/layernorm.cuh>) on one case of its description
/// (layernorm_case.hpp), their outputs collected by name for `judge` / `expect_all_agree`. Used by
/// tests/layernorm_test.cpp and chapter 03's checks, whichever kernels they link (llmlab's, a
/// student's lab, the nvcc-built ones).

#include <cstdint>
#include <string>

#include "llmlab/cuda/kernel.cuh"
#include "llmlab/cuda/layernorm.cuh"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/layernorm_case.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// The case through forward version v (E: float or __nv_bfloat16, the case's dtype), ε = 1e-5.
/// Fills `got` with y (N·C), mean (N) and rstd (N), each buffer NaN first so an element the kernel
/// never writes cannot pass. @returns run()'s message when the launch or the kernel failed (a
/// lab's "not implemented" included; `got` is left as it was), else "".
template <class E>
std::string run_layernorm_forward(const LayerNormCase& k, int v, Outputs& got) {
  const std::int64_t N = k.shape.N, C = k.shape.C;
  DeviceBuffer<E> x(device_values<E>(k.x)), w(device_values<E>(k.w)), b(device_values<E>(k.b)),
      y(N * C);
  DeviceBuffer<float> mean(N), rstd(N);
  for (auto* out : {&mean, &rstd}) out->fill_nan();
  y.fill_nan();
  const std::string error = run([&] {
    return cuda::layernorm_forward(x.cget(), w.cget(), b.cget(), y.get(), mean.get(), rstd.get(), N,
                                   C, 1e-5f, v);
  });
  if (error.empty()) got = {{"y", y.widened()}, {"mean", mean.widened()}, {"rstd", rstd.widened()}};
  return error;
}

/// The case through backward version v, from the statistics a float forward saved
/// (layernorm_saved), onto the starting gradients dx0 (N·C, in E), dw0 and db0 (C, fp32). Fills
/// `got` with dx, dw and db. @returns run()'s message on failure (`got` left as it was), else "".
template <class E>
std::string run_layernorm_backward(const LayerNormCase& k, int v, Outputs& got) {
  const std::int64_t N = k.shape.N, C = k.shape.C;
  const LayerNormSaved saved = layernorm_saved(k);
  DeviceBuffer<E> dy(device_values<E>(k.dy)), x(device_values<E>(k.x)), w(device_values<E>(k.w)),
      dx(device_values<E>(k.dx0));
  DeviceBuffer<float> mean(saved.mean), rstd(saved.rstd), dw(k.dw0), db(k.db0),
      scratch(cuda::layernorm_backward_scratch(N, C));
  const std::string error = run([&] {
    return cuda::layernorm_backward(dy.cget(), x.cget(), w.cget(), mean.cget(), rstd.cget(),
                                    dx.get(), dw.get(), db.get(), scratch.get(), N, C, v);
  });
  if (error.empty()) got = {{"dx", dx.widened()}, {"dw", dw.widened()}, {"db", db.widened()}};
  return error;
}

}  // namespace llmlab::testing
