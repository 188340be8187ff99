#pragma once
/// \file
/// \ingroup group_cross_entropy
/// \brief cross_entropy's launchers (<llmlab/cuda/cross_entropy.cuh>) on one case of its
/// description (cross_entropy_case.hpp), their outputs collected by name for `judge` /
/// `expect_all_agree`, and the sweep through them under GoogleTest. Used by
/// tests/cross_entropy_test.cpp and chapter 05's checks, whichever kernels they link (llmlab's, a
/// student's lab, the nvcc-built ones).

#include <cstdint>
#include <string>

#include "llmlab/core/dtype.hpp"
#include "llmlab/cuda/cross_entropy.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/cross_entropy_case.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// The case through forward version v (E: float or __nv_bfloat16, the case's dtype), ignore_index
/// −100. Fills `got` with losses and lse (B·T each), their buffers NaN first so an element the
/// kernel never writes cannot pass. @returns run()'s message when the launch or the kernel failed
/// (a lab's "not implemented" included; `got` is left as it was), else "".
template <class E>
std::string run_cross_entropy_forward(const CrossEntropyCase& k, int v, Outputs& got) {
  const std::int64_t B = k.shape.B, T = k.shape.T, V = k.shape.V;
  DeviceBuffer<E> logits(device_values<E>(k.logits));
  DeviceBuffer<std::int32_t> targets(k.targets);
  DeviceBuffer<float> losses(B * T), lse(B * T);
  losses.fill_nan();
  lse.fill_nan();
  const std::string error = run([&] {
    return cuda::cross_entropy_forward(logits.cget(), targets.cget(), losses.get(), lse.get(), B, T,
                                       V, cuda::kCrossEntropyIgnoreIndex, v);
  });
  if (error.empty()) got = {{"losses", losses.widened()}, {"lse", lse.widened()}};
  return error;
}

/// The case through backward version v, from the case's lse and dlosses: dlogits into a
/// NaN-filled buffer, or (in_place) over the logits themselves, as llm.c's fused classifier
/// does. Fills `got` with dlogits (B·T·V). @returns run()'s message on failure, else "".
template <class E>
std::string run_cross_entropy_backward(const CrossEntropyCase& k, int v, Outputs& got,
                                       bool in_place = false) {
  const std::int64_t B = k.shape.B, T = k.shape.T, V = k.shape.V;
  DeviceBuffer<E> logits(device_values<E>(k.logits)), out(in_place ? 0 : B * T * V);
  out.fill_nan();
  DeviceBuffer<std::int32_t> targets(k.targets);
  DeviceBuffer<float> lse(k.lse), dlosses(k.dlosses);
  E* dlogits = in_place ? logits.get() : out.get();
  const std::string error = run([&] {
    return cuda::cross_entropy_backward(logits.cget(), targets.cget(), lse.cget(), dlosses.cget(),
                                        dlogits, B, T, V, cuda::kCrossEntropyIgnoreIndex, v);
  });
  if (error.empty()) got = {{"dlogits", in_place ? logits.widened() : out.widened()}};
  return error;
}

/// "cross_entropy_forward v2 f32 (3, 17, 97) x~U(±4)": what a message names.
inline std::string cross_entropy_case_name(const char* fn, const CrossEntropyCase& k, int v) {
  return std::string(fn) + " v" + std::to_string(v) + " " + std::string(dtype_name(k.dtype)) + " " +
         k.shape.label();
}

/// Every case of the sweep in E's dtype through forward version v, losses and lse judged with
/// expect_all_agree; a failed launch (a lab's "not implemented" included) is a test failure
/// naming the case.
template <class E>
void expect_cross_entropy_forward_agrees(int v) {
  const DType d = sizeof(E) == 2 ? DType::bf16 : DType::f32;
  for (const CrossEntropyShape& shape : cross_entropy_shapes()) {
    const CrossEntropyCase k = make_cross_entropy_case(shape, d);
    const std::string name = cross_entropy_case_name("cross_entropy_forward", k, v);
    Outputs got;
    const std::string error = run_cross_entropy_forward<E>(k, v, got);
    if (!error.empty()) {
      ADD_FAILURE() << name << ": " << error;
      return;
    }
    expect_all_agree(name, only(cross_entropy_expected(k), {"losses", "lse"}), got);
  }
}

/// Every case of the sweep in E's dtype through backward version v, dlogits judged; as the
/// forward's.
template <class E>
void expect_cross_entropy_backward_agrees(int v) {
  const DType d = sizeof(E) == 2 ? DType::bf16 : DType::f32;
  for (const CrossEntropyShape& shape : cross_entropy_shapes()) {
    const CrossEntropyCase k = make_cross_entropy_case(shape, d);
    const std::string name = cross_entropy_case_name("cross_entropy_backward", k, v);
    Outputs got;
    const std::string error = run_cross_entropy_backward<E>(k, v, got);
    if (!error.empty()) {
      ADD_FAILURE() << name << ": " << error;
      return;
    }
    expect_all_agree(name, only(cross_entropy_expected(k), {"dlogits"}), got);
  }
}

}  // namespace llmlab::testing
