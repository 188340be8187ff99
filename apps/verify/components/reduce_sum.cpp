/// \file
/// \ingroup group_reduce_sum
/// \brief `llmlab verify reduce_sum`: \f$ \mathrm{out}_r = \sum_c x_{r,c} \f$ for fp32 and bf16
/// inputs (fp32 out), over the sweep of reduce_sum's one description
/// (llmlab/testing/reduce_sum_case.hpp).

#include "llmlab/cuda/abi/reduce_sum.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "llmlab/testing/reduce_sum_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::ReduceSumCase;

/// One case through the library's reduce_sum of input element type E (float or bf16 bits); out
/// starts as NaN, so a row the kernel never writes (C = 0 included) cannot pass.
template <class E, class Sum>
void check(const KernelLibrary& lib, Found<Sum> sum, const ReduceSumCase& k, const Emit& emit) {
  const std::int64_t R = k.shape.rows, C = k.shape.cols;
  DeviceArray<E> x(lib, device_values<E>(k.x));
  DeviceArray<float> out(lib, std::vector<float>(static_cast<std::size_t>(R), NAN));
  emit_judged(lib, "reduce_sum", k.shape.label(), k.dtype, testing::reduce_sum_expected(k),
              sum.name, sum.fn(x.get(), out.get(), R, C), {{"out", &out}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::reduce_sum_shapes()) {
    check<float>(lib, LLMLAB_FIND(lib, llmlab_reduce_sum_f32),
                 testing::make_reduce_sum_case(shape, DType::f32), emit);
    check<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_reduce_sum_bf16),
                         testing::make_reduce_sum_case(shape, DType::bf16), emit);
  }
}

/// The rule of `out` in words: the description's, whose floor magnitude is each case's own
/// \f$ \max_r \sum_c |x_{r,c}| \f$ (the same rule for either input dtype: the output is fp32).
std::map<std::string, std::string> rule_words() {
  auto expected =
      testing::reduce_sum_expected(testing::make_reduce_sum_case({3, 97, 1}, DType::f32));
  for (testing::Expected& e : expected) e.rule.magnitude = 0;  // a case's number, not the rule's
  auto words = rules_in_words({expected});
  for (auto& [name, text] : words) text += " at max_r sum_c abs(x[r, c]) (fp32 or bf16 input)";
  return words;
}

Component reduce_sum_component() {
  return {testing::reduce_sum_card(),
          {LLMLAB_C_SYMBOL(llmlab_reduce_sum_f32, "x", "out", "rows", "cols"),
           LLMLAB_C_SYMBOL(llmlab_reduce_sum_bf16, "x", "out", "rows", "cols")},
          case_labels(testing::reduce_sum_shapes()),
          rule_words(),
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::reduce_sum_component())
