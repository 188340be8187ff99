#pragma once
/// \file
/// \ingroup group_optimizer
/// \brief The optimizer's sweep as a GoogleTest check, shared by tests/optimizer_test.cpp and
/// chapter 06's checks: every case of optimizer_shapes() through the linked kernels, judged
/// against the reference.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "llmlab/core/dtype.hpp"
#include "llmlab/testing/agree.hpp"
#include "llmlab/testing/optimizer_case.hpp"
#include "llmlab/testing/optimizer_device.hpp"

namespace llmlab::testing {

/// The seed of the bf16 sweep's stochastic rounding.
inline constexpr std::uint32_t kOptimizerSweepSeed = 7;

/// "adamw f32 <shape>": how the sweep names a case in its messages.
inline std::string optimizer_case_name(const OptimizerCase& k) {
  return "adamw " + std::string(dtype_name(k.dtype)) + " " + k.shape.label();
}

/// Runs every case of optimizer_shapes() in `dtype` through the linked kernels
/// (run_optimizer_case; bf16 parameters with fp32 master weights, seed kOptimizerSweepSeed) and
/// expects each output to agree with the reference under optimizer_expected's rules
/// (expect_all_agree). In bf16 it also expects every stored parameter to be the seeded stochastic
/// rounding of its master weight (stochastic_rounding_mismatches() == 0). `more`, when given, gets
/// each case and its outputs (with "params") for further checks.
inline void expect_optimizer_sweep_agrees(
    DType dtype, const std::function<void(const OptimizerCase&, const Outputs&)>& more = {}) {
  for (const OptimizerShape& shape : optimizer_shapes()) {
    const OptimizerCase k = make_optimizer_case(shape, dtype);
    const Outputs out = dtype == DType::bf16
                            ? run_optimizer_outputs<__nv_bfloat16>(k, kOptimizerSweepSeed)
                            : run_optimizer_outputs<float>(k, kOptimizerSweepSeed);
    expect_all_agree(optimizer_case_name(k), optimizer_expected(k), out);
    if (dtype == DType::bf16) {
      EXPECT_EQ(stochastic_rounding_mismatches(out, kOptimizerSweepSeed, shape.step), 0)
          << optimizer_case_name(k) << ": bf16 parameters that are not the seeded stochastic "
          << "rounding of their master weight";
    }
    if (more) more(k, out);
  }
}

}  // namespace llmlab::testing
