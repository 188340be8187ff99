/// \file
/// \brief `llmlab verify reduce_sum`: \f$ \mathrm{out}_r = \sum_c x_{r,c} \f$ for fp32 and bf16
/// inputs.

#include "llmlab/ref/reduce_sum.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::bf16_bits;
using testing::max_row_abs_sum;
using testing::rounded_to_bf16;
using testing::tensor;
using testing::widened;

using SumF32 = int(const float* x, float* out, std::int64_t rows, std::int64_t cols);
using SumBf16 = int(const std::uint16_t* x, float* out, std::int64_t rows, std::int64_t cols);

/// (R, C): a single element, rows shorter and longer than a warp and a block, C one past a
/// power of two, and more rows than one.
constexpr std::pair<std::int64_t, std::int64_t> kShapes[] = {
    {1, 1}, {1, 17}, {3, 97}, {2, 129}, {4, 1000}, {1, 4097}, {7, 33}};

/// One case. Both dtypes write fp32 sums, so both are judged against the float reference on the
/// same (for bf16: bf16-rounded) inputs: ref64 is the exact-ish sum in double, ref32 the same
/// left-to-right sum in float — the error any fp32 accumulation may make.
template <class Fn, class Elem>
CaseResult check(const KernelLibrary& lib, Fn* sum, const char* symbol, const char* dtype,
                 const std::vector<float>& x, const std::vector<Elem>& x_device, std::int64_t R,
                 std::int64_t C) {
  const std::string shape = shape_str({R, C});
  const std::array<std::size_t, 2> s{static_cast<std::size_t>(R), static_cast<std::size_t>(C)};
  const auto ref64 = ref::reduce_sum<double>(tensor<double>(x, s));
  const auto ref32 = ref::reduce_sum<float>(tensor<float>(x, s));
  // The floor's ulps are taken at max_r sum_c |x_rc|: any order's rounding scales with the terms,
  // not with a row sum that cancellation made small.
  const auto rule = oracle::Rule::forward(DType::f32).at_magnitude(max_row_abs_sum(x, R, C));

  DeviceArray<Elem> dx(lib, std::span<const Elem>(x_device));
  DeviceArray<float> dout(lib, static_cast<std::size_t>(R));
  const std::string err = call_error(lib, symbol, sum(dx.get(), dout.get(), R, C));
  if (!err.empty()) return failed_case("reduce_sum", shape, dtype, rule, err);
  const std::vector<float> got = dout.download();
  return {"reduce_sum", shape, dtype,
          oracle::compare_ratio(std::string("reduce_sum ") + dtype + " " + shape, widened(ref64),
                                widened(ref32), oracle::widen(got), rule)};
}

/// Every shape × {f32, bf16}; x uniform in [−1, 1) from a seed fixed per shape.
void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* sum_f32 = lib.function<SumF32>("llmlab_reduce_sum_f32");
  auto* sum_bf16 = lib.function<SumBf16>("llmlab_reduce_sum_bf16");
  for (const auto& [R, C] : kShapes) {
    Rng rng(0x5a3d'0000u + static_cast<std::uint64_t>(R * 100003 + C));
    const std::vector<float> x = rng.uniform_floats(static_cast<std::size_t>(R * C));
    emit(check(lib, sum_f32, "llmlab_reduce_sum_f32", "f32", x, x, R, C));
    const std::vector<float> xr = rounded_to_bf16(x);
    emit(check(lib, sum_bf16, "llmlab_reduce_sum_bf16", "bf16", xr, bf16_bits(xr), R, C));
  }
}

Component reduce_sum_component() {
  return {{"reduce_sum", "row sums out_r = sum_c x[r, c] of an (R, C) matrix (fp32 or bf16 in, fp32 out)", {}, {}, "", ""},
          {{"llmlab_reduce_sum_f32",
            "int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols)"},
           {"llmlab_reduce_sum_bf16",
            "int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, "
            "int64_t cols)"}},
          {},
          {},
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::reduce_sum_component())
