/// \file
/// \brief `llmlab verify vector_add`: \f$ c_i = a_i + b_i \f$ in fp32 and bf16 against the
/// reference.

#include "llmlab/ref/vector_add.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

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

using AddF32 = int(const float* a, const float* b, float* c, std::int64_t n);
using AddBf16 = int(const std::uint16_t* a, const std::uint16_t* b, std::uint16_t* c,
                    std::int64_t n);

/// Lengths that are not a multiple of any block size (1, primes, one past a power of two).
constexpr std::int64_t kSizes[] = {1, 17, 97, 129, 1000, 4097, 65537};

/// The fp32 case: ref64 on the inputs in double, ref32 the same sum in float.
CaseResult check_f32(const KernelLibrary& lib, AddF32* add, const std::vector<float>& a,
                     const std::vector<float>& b, const std::string& shape) {
  const auto n = static_cast<std::int64_t>(a.size());
  const std::array<std::size_t, 1> s{a.size()};
  const auto ref64 = ref::vector_add<double>(tensor<double>(a, s), tensor<double>(b, s));
  const auto ref32 = ref::vector_add<float>(tensor<float>(a, s), tensor<float>(b, s));
  const auto rule = oracle::Rule::forward(DType::f32);

  DeviceArray<float> da(lib, std::span<const float>(a)), db(lib, std::span<const float>(b)),
      dc(lib, a.size());
  const std::string err =
      call_error(lib, "llmlab_vector_add_f32", add(da.get(), db.get(), dc.get(), n));
  if (!err.empty()) return failed_case("vector_add", shape, "f32", rule, err);
  const std::vector<float> got = dc.download();
  return {"vector_add", shape, "f32",
          oracle::compare_ratio("vector_add f32 " + shape, widened(ref64), widened(ref32),
                                oracle::widen(got), rule)};
}

/// The bf16 case: inputs rounded to bf16 first; ref64 is their exact sum, and the baseline is the
/// sum formed in float and rounded once to bf16 — what a correct bf16 kernel writes.
CaseResult check_bf16(const KernelLibrary& lib, AddBf16* add, const std::vector<float>& a_in,
                      const std::vector<float>& b_in, const std::string& shape) {
  const auto n = static_cast<std::int64_t>(a_in.size());
  const std::vector<float> a = rounded_to_bf16(a_in), b = rounded_to_bf16(b_in);
  const std::array<std::size_t, 1> s{a.size()};
  const auto ref64 = ref::vector_add<double>(tensor<double>(a, s), tensor<double>(b, s));
  const auto sum32 = ref::vector_add<float>(tensor<float>(a, s), tensor<float>(b, s));
  std::vector<double> ref32(sum32.size());
  for (std::size_t i = 0; i < ref32.size(); ++i) ref32[i] = round_to_bf16(sum32(i));
  const auto rule = oracle::Rule::forward(DType::bf16);

  const std::vector<std::uint16_t> a16 = bf16_bits(a), b16 = bf16_bits(b);
  DeviceArray<std::uint16_t> da(lib, std::span<const std::uint16_t>(a16)),
      db(lib, std::span<const std::uint16_t>(b16)), dc(lib, a.size());
  const std::string err =
      call_error(lib, "llmlab_vector_add_bf16", add(da.get(), db.get(), dc.get(), n));
  if (!err.empty()) return failed_case("vector_add", shape, "bf16", rule, err);
  const std::vector<std::uint16_t> got = dc.download();
  return {"vector_add", shape, "bf16",
          oracle::compare_ratio("vector_add bf16 " + shape, widened(ref64), ref32,
                                oracle::widen_bf16(got), rule)};
}

/// Every length × {f32, bf16}; inputs uniform in [−1, 1) from a seed fixed per length.
void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* add_f32 = lib.function<AddF32>("llmlab_vector_add_f32");
  auto* add_bf16 = lib.function<AddBf16>("llmlab_vector_add_bf16");
  for (const std::int64_t n : kSizes) {
    Rng rng(0x7ec7'0000u + static_cast<std::uint64_t>(n));
    const std::vector<float> a = rng.uniform_floats(static_cast<std::size_t>(n));
    const std::vector<float> b = rng.uniform_floats(static_cast<std::size_t>(n));
    const std::string shape = shape_str({n});
    emit(check_f32(lib, add_f32, a, b, shape));
    emit(check_bf16(lib, add_bf16, a, b, shape));
  }
}

Component vector_add_component() {
  return {{"vector_add", "c = a + b element-wise (fp32; bf16 summed in float, rounded once)", {}, {}, "", ""},
          {{"llmlab_vector_add_f32",
            "int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n)"},
           {"llmlab_vector_add_bf16",
            "int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, "
            "int64_t n)"}},
          {},
          {},
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::vector_add_component())
