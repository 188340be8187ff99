/// \file
/// \ingroup group_vector_add
/// \brief `llmlab verify vector_add`: \f$ c_i = a_i + b_i \f$ in fp32 and bf16, over the sweep of
/// vector_add's one description (llmlab/testing/vector_add_case.hpp).

#include "llmlab/cuda/abi/vector_add.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "llmlab/testing/vector_add_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::VectorAddCase;

/// n elements of E with every bit set: NaN in float and in bf16.
template <class E>
std::vector<E> all_nan(std::size_t n) {
  std::vector<E> v(n);
  if (n > 0) std::memset(v.data(), 0xff, n * sizeof(E));  // (memset of a null pointer is UB)
  return v;
}

/// One case through the library's vector_add of element type E (float or bf16 bits); c starts as
/// NaN (all bits set), so an element the kernel never writes cannot pass.
template <class E, class Add>
void check(const KernelLibrary& lib, Found<Add> add, const VectorAddCase& k, const Emit& emit) {
  const std::int64_t n = k.shape.n;
  DeviceArray<E> a(lib, device_values<E>(k.a)), b(lib, device_values<E>(k.b)),
      c(lib, all_nan<E>(k.a.size()));
  emit_judged(lib, "vector_add", k.shape.label(), k.dtype, testing::vector_add_expected(k),
              add.name, add.fn(a.get(), b.get(), c.get(), n), {{"c", &c}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::vector_add_shapes()) {
    check<float>(lib, LLMLAB_FIND(lib, llmlab_vector_add_f32),
                 testing::make_vector_add_case(shape, DType::f32), emit);
    check<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_vector_add_bf16),
                         testing::make_vector_add_case(shape, DType::bf16), emit);
  }
}

Component vector_add_component() {
  return {testing::vector_add_card(),
          {LLMLAB_C_SYMBOL(llmlab_vector_add_f32, "a", "b", "c", "n"),
           LLMLAB_C_SYMBOL(llmlab_vector_add_bf16, "a", "b", "c", "n")},
          case_labels(testing::vector_add_shapes()),
          rules_in_words(
              {testing::vector_add_expected(testing::make_vector_add_case({17, 1}, DType::f32)),
               testing::vector_add_expected(testing::make_vector_add_case({17, 1}, DType::bf16))}),
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::vector_add_component())
