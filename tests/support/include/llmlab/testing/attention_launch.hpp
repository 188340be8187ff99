#pragma once
/// \file
/// \ingroup group_attention
/// \brief attention's launchers (<llmlab/cuda/attention.cuh>) on one case of its description
/// (attention_case.hpp), their outputs collected by name for `judge` / `expect_all_agree`. Used by
/// tests/attention_test.cpp and chapter 04's checks, whichever kernels they link (llmlab's, a
/// student's lab, the nvcc-built ones).

#include <cstdint>
#include <string>

#include "llmlab/cuda/attention.cuh"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/testing/attention_case.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/launch.hpp"
#include "llmlab/testing/values.hpp"

namespace llmlab::testing {

/// The case through forward version v (E: float or __nv_bfloat16, the case's dtype). Fills `got`
/// with out (B·H·T·D) and lse (B·H·T), each buffer NaN first so an element the kernel never writes
/// cannot pass. @returns run()'s message when the launch or the kernel failed (a lab's "not
/// implemented" included; `got` is left as it was), else "".
template <class E>
std::string run_attention_forward(const AttentionCase& c, int v, Outputs& got) {
  const AttentionShape& s = c.shape;
  DeviceBuffer<E> q(device_values<E>(c.q)), k(device_values<E>(c.k)), vv(device_values<E>(c.v)),
      out(s.elements());
  DeviceBuffer<float> lse(s.B * s.H * s.T);
  out.fill_nan();
  lse.fill_nan();
  const std::string error = run([&] {
    return cuda::attention_forward(q.cget(), k.cget(), vv.cget(), out.get(), lse.get(), s.B, s.H,
                                   s.T, s.D, s.causal, v);
  });
  if (error.empty()) got = {{"out", out.widened()}, {"lse", lse.widened()}};
  return error;
}

/// The case through backward version v, from the case's out and lse. Fills `got` with dq, dk and
/// dv (each NaN first). @returns run()'s message on failure (`got` left as it was), else "".
template <class E>
std::string run_attention_backward(const AttentionCase& c, int v, Outputs& got) {
  const AttentionShape& s = c.shape;
  DeviceBuffer<E> dout(device_values<E>(c.dout)), q(device_values<E>(c.q)),
      k(device_values<E>(c.k)), vv(device_values<E>(c.v)), out(device_values<E>(c.out)),
      dq(s.elements()), dk(s.elements()), dv(s.elements());
  DeviceBuffer<float> lse(c.lse);
  for (auto* b : {&dq, &dk, &dv}) b->fill_nan();
  const std::string error = run([&] {
    return cuda::attention_backward(dout.cget(), q.cget(), k.cget(), vv.cget(), out.cget(),
                                    lse.cget(), dq.get(), dk.get(), dv.get(), s.B, s.H, s.T, s.D,
                                    s.causal, v);
  });
  if (error.empty()) got = {{"dq", dq.widened()}, {"dk", dk.widened()}, {"dv", dv.widened()}};
  return error;
}

}  // namespace llmlab::testing
