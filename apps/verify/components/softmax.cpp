/// \file
/// \brief `llmlab verify softmax`: row-wise softmax in fp32 and bf16 (ratio rule, k = 2) and its
/// accumulating backward in fp32 (k = 3), on logits that include rows near 90, where forgetting
/// to subtract the row maximum overflows float32.

#include "llmlab/ref/softmax.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::bf16_bits;
using testing::rounded_to_bf16;
using testing::tensor;
using testing::widened;

using ForwardF32 = int(const float* x, float* y, std::int64_t rows, std::int64_t cols);
using ForwardBf16 = int(const std::uint16_t* x, std::uint16_t* y, std::int64_t rows,
                        std::int64_t cols);
using BackwardF32 = int(const float* dy, const float* y, float* dx, std::int64_t rows,
                        std::int64_t cols);

/// (R, C, offset, spread): C = 1, shorter and longer than a warp, GPT-2's 768, one past a
/// power of two; logits uniform in [offset − spread, offset + spread).
struct Shape {
  std::int64_t R, C;
  double offset, spread;
};
constexpr Shape kShapes[] = {{1, 1, 0, 1},   {3, 17, 0, 4},   {5, 97, 0, 2},
                             {2, 768, 0, 3}, {9, 129, 90, 8}, {4, 1025, 0, 30}};

template <class T>
xt::xarray<T> matrix(const std::vector<float>& v, const Shape& s) {
  return tensor<T>(
      v, std::array<std::size_t, 2>{static_cast<std::size_t>(s.R), static_cast<std::size_t>(s.C)});
}

/// The forward: fp32, or bf16 inputs with the float reference rounded once as the baseline.
template <class Fn, class Elem>
CaseResult check_forward(const KernelLibrary& lib, Fn* forward, const char* symbol,
                         const char* dtype, const std::vector<float>& x_in, const Shape& s) {
  constexpr bool bf16 = sizeof(Elem) == 2;
  const std::string shape = shape_str({s.R, s.C});
  const std::vector<float> x = bf16 ? rounded_to_bf16(x_in) : x_in;
  const auto ref64 = ref::softmax_forward<double>(matrix<double>(x, s));
  const auto y32 = ref::softmax_forward<float>(matrix<float>(x, s));
  std::vector<double> ref32(y32.size());
  for (std::size_t i = 0; i < ref32.size(); ++i)
    ref32[i] = bf16 ? round_to_bf16(y32.flat(i)) : y32.flat(i);
  const auto rule = oracle::Rule::forward(bf16 ? DType::bf16 : DType::f32);

  std::vector<Elem> x_dev;
  if constexpr (bf16)
    x_dev = bf16_bits(x);
  else
    x_dev = x;
  DeviceArray<Elem> dx(lib, std::span<const Elem>(x_dev)), dy(lib, x.size());
  const std::string err = call_error(lib, symbol, forward(dx.get(), dy.get(), s.R, s.C));
  if (!err.empty()) return failed_case("softmax", shape, dtype, rule, err);
  std::vector<double> got;
  if constexpr (bf16)
    got = oracle::widen_bf16(dy.download());
  else
    got = oracle::widen(dy.download());
  return {"softmax", shape, dtype,
          oracle::compare_ratio(std::string("softmax ") + dtype + " " + shape, widened(ref64),
                                ref32, got, rule)};
}

/// The backward in fp32 from a true softmax output y, onto a nonzero dx.
CaseResult check_backward(const KernelLibrary& lib, BackwardF32* backward,
                          const std::vector<float>& x, const Shape& s, Rng& rng) {
  const std::string shape = shape_str({s.R, s.C});
  const auto y64 = ref::softmax_forward<double>(matrix<double>(x, s));
  const std::vector<float> y(y64.begin(), y64.end());
  const std::vector<float> dy = rng.uniform_floats(y.size()), dx0 = rng.uniform_floats(y.size());
  auto ref64 = matrix<double>(dx0, s);
  auto ref32 = matrix<float>(dx0, s);
  ref::softmax_backward<double>(matrix<double>(dy, s), matrix<double>(y, s), ref64);
  ref::softmax_backward<float>(matrix<float>(dy, s), matrix<float>(y, s), ref32);
  const auto rule = oracle::Rule::gradient(DType::f32);

  DeviceArray<float> d_dy(lib, std::span<const float>(dy)), d_y(lib, std::span<const float>(y)),
      d_dx(lib, std::span<const float>(dx0));
  const std::string err = call_error(lib, "llmlab_softmax_backward_f32",
                                     backward(d_dy.get(), d_y.get(), d_dx.get(), s.R, s.C));
  if (!err.empty()) return failed_case("softmax/dx", shape, "f32", rule, err);
  return {"softmax/dx", shape, "f32",
          oracle::compare_ratio("softmax/dx f32 " + shape, widened(ref64), widened(ref32),
                                oracle::widen(d_dx.download()), rule)};
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* fwd_f32 = lib.function<ForwardF32>("llmlab_softmax_forward_f32");
  auto* fwd_bf16 = lib.function<ForwardBf16>("llmlab_softmax_forward_bf16");
  auto* bwd_f32 = lib.function<BackwardF32>("llmlab_softmax_backward_f32");
  for (const Shape& s : kShapes) {
    Rng rng(0x50f7'0000u + static_cast<std::uint64_t>(s.R * 100003 + s.C));
    const std::vector<float> x = rng.uniform_floats(static_cast<std::size_t>(s.R * s.C),
                                                    s.offset - s.spread, s.offset + s.spread);
    emit(check_forward<ForwardF32, float>(lib, fwd_f32, "llmlab_softmax_forward_f32", "f32", x, s));
    emit(check_forward<ForwardBf16, std::uint16_t>(lib, fwd_bf16, "llmlab_softmax_forward_bf16",
                                                   "bf16", x, s));
    emit(check_backward(lib, bwd_f32, x, s, rng));
  }
}

Component softmax_component() {
  return {{"softmax", "row-wise softmax y = exp(x - max) / sum (fp32, bf16) and its accumulating backward "
          "(fp32)", {}, {}, "", ""},
          {{"llmlab_softmax_forward_f32",
            "int llmlab_softmax_forward_f32(const float* x, float* y, int64_t rows, int64_t cols)"},
           {"llmlab_softmax_forward_bf16",
            "int llmlab_softmax_forward_bf16(const uint16_t* x, uint16_t* y, int64_t rows, "
            "int64_t cols)"},
           {"llmlab_softmax_backward_f32",
            "int llmlab_softmax_backward_f32(const float* dy, const float* y, float* dx, "
            "int64_t rows, int64_t cols)"}},
          {},
          {},
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::softmax_component())
