/// \file
/// \ingroup group_matmul
/// \brief `llmlab verify matmul`: the linear layer \f$ y = x W^\top + b \f$ (fp32 and bf16) and its
/// fp32 backward (dx, dW, db, accumulated), over the sweep of matmul's one description
/// (llmlab/testing/matmul_case.hpp).

#include "llmlab/cuda/abi/matmul.h"

#include <cstdint>
#include <string>

#include "llmlab/testing/matmul_case.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::MatmulCase;

/// One case through the library's forward of element type E (float or bf16 bits).
template <class E, class Forward>
void forward(const KernelLibrary& lib, Found<Forward> fn, const MatmulCase& k, const Emit& emit) {
  const auto& [N, in, out, scale] = k.shape;
  DeviceArray<E> x(lib, device_values<E>(k.x)), w(lib, device_values<E>(k.w)),
      b(lib, device_values<E>(k.b)), y(lib, static_cast<std::size_t>(N * out));
  emit_judged(lib, "matmul", k.shape.label(), k.dtype,
              testing::only(testing::matmul_expected(k), {"y"}), fn.name,
              fn.fn(x.get(), w.get(), b.get(), y.get(), N, in, out), {{"y", &y}}, emit);
}

/// One fp32 case through the library's backward, from non-zero gradients (so accumulation is
/// checked).
template <class Backward>
void backward(const KernelLibrary& lib, Found<Backward> fn, const MatmulCase& k, const Emit& emit) {
  const auto& [N, in, out, scale] = k.shape;
  DeviceArray<float> dy(lib, k.dy), x(lib, k.x), w(lib, k.w), dx(lib, k.dx0), dw(lib, k.dw0),
      db(lib, k.db0);
  emit_judged(lib, "matmul", k.shape.label(), k.dtype,
              testing::only(testing::matmul_expected(k), {"dx", "dw", "db"}), fn.name,
              fn.fn(dy.get(), x.get(), w.get(), dx.get(), dw.get(), db.get(), N, in, out),
              {{"dx", &dx}, {"dw", &dw}, {"db", &db}}, emit);
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  for (const auto& shape : testing::matmul_shapes()) {
    const MatmulCase f32 = testing::make_matmul_case(shape, DType::f32);
    forward<float>(lib, LLMLAB_FIND(lib, llmlab_matmul_forward_f32), f32, emit);
    forward<std::uint16_t>(lib, LLMLAB_FIND(lib, llmlab_matmul_forward_bf16),
                           testing::make_matmul_case(shape, DType::bf16), emit);
    backward(lib, LLMLAB_FIND(lib, llmlab_matmul_backward_f32), f32, emit);
  }
}

Component matmul_component() {
  const auto f32 = testing::make_matmul_case({5, 17, 33}, DType::f32);
  const auto bf16 = testing::make_matmul_case({5, 17, 33}, DType::bf16);
  return {testing::matmul_card(),
          {LLMLAB_C_SYMBOL(llmlab_matmul_forward_f32, "x", "w", "b", "y", "N", "in", "out"),
           LLMLAB_C_SYMBOL(llmlab_matmul_forward_bf16, "x", "w", "b", "y", "N", "in", "out"),
           LLMLAB_C_SYMBOL(llmlab_matmul_backward_f32, "dy", "x", "w", "dx", "dw", "db", "N", "in",
                           "out")},
          case_labels(testing::matmul_shapes()),
          // The C ABI's backward is fp32 only: the bf16 rules shown are the forward's.
          rules_in_words({testing::matmul_expected(f32),
                          testing::only(testing::matmul_expected(bf16), {"y"})}),
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::matmul_component())
