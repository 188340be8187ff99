/// \file
/// \brief `llmlab verify gelu`: GPT-2's GELU (tanh approximation) forward (ratio rule, k = 2) and
/// its accumulating backward (k = 3), fp32 and bf16.

#include "llmlab/ref/gelu.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/elements.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {
namespace {

using testing::rounded_to_bf16;
using testing::tensor;
using testing::widened;

template <class E>
using ForwardFn = int(const E* x, E* y, std::int64_t n);
template <class E>
using BackwardFn = int(const E* dy, const E* x, E* dx, std::int64_t n);

/// Lengths that are no multiple of a block, a warp or a vector width.
constexpr std::int64_t kSizes[] = {1, 17, 97, 1000, 4097, 65537};

/// x uniform in [-5, 5) (both tails and the bend), dy and dx's starting values in [-1, 1).
template <class E>
void check(const KernelLibrary& lib, ForwardFn<E>* forward, BackwardFn<E>* backward,
           const char* dtype, const char* fwd_symbol, const char* bwd_symbol, std::int64_t n,
           const Emit& emit) {
  constexpr bool bf16 = sizeof(E) == 2;
  constexpr DType out = bf16 ? DType::bf16 : DType::f32;
  Rng rng(0x6e10'0000u + static_cast<std::uint64_t>(n));
  const auto m = static_cast<std::size_t>(n);
  std::vector<float> x = rng.uniform_floats(m, -5.0, 5.0), dy = rng.uniform_floats(m),
                     dx0 = rng.uniform_floats(m);
  if (bf16) x = rounded_to_bf16(x), dy = rounded_to_bf16(dy), dx0 = rounded_to_bf16(dx0);
  const std::string shape = shape_str({n});

  const auto y64 = ref::gelu_forward(tensor<double>(x));
  const auto y32 = ref::gelu_forward(tensor<float>(x));
  auto dx64 = tensor<double>(dx0);
  auto dx32 = tensor<float>(dx0);
  ref::gelu_backward(tensor<double>(dy), tensor<double>(x), dx64);
  ref::gelu_backward(tensor<float>(dy), tensor<float>(x), dx32);

  DeviceArray<E> d_x(lib, std::span<const E>(device_values<E>(x))), d_y(lib, m),
      d_dy(lib, std::span<const E>(device_values<E>(dy))),
      d_dx(lib, std::span<const E>(device_values<E>(dx0)));
  std::string err = call_error(lib, fwd_symbol, forward(d_x.get(), d_y.get(), n));
  if (!err.empty()) {
    emit(failed_case("gelu", shape, dtype, oracle::Rule::forward(out), err));
  } else {
    emit({"gelu", shape, dtype,
          oracle::compare_ratio(std::string("gelu ") + dtype + " " + shape, widened(y64),
                                baseline<E>(y32), widened_device(d_y.download()),
                                oracle::Rule::forward(out))});
  }
  err = call_error(lib, bwd_symbol, backward(d_dy.get(), d_x.get(), d_dx.get(), n));
  if (!err.empty()) {
    emit(failed_case("gelu/dx", shape, dtype, oracle::Rule::gradient(out), err));
    return;
  }
  emit({"gelu/dx", shape, dtype,
        oracle::compare_ratio(std::string("gelu/dx ") + dtype + " " + shape, widened(dx64),
                              baseline<E>(dx32), widened_device(d_dx.download()),
                              oracle::Rule::gradient(out))});
}

void sweep(const KernelLibrary& lib, const Emit& emit) {
  auto* fwd_f32 = lib.function<ForwardFn<float>>("llmlab_gelu_forward_f32");
  auto* fwd_bf16 = lib.function<ForwardFn<std::uint16_t>>("llmlab_gelu_forward_bf16");
  auto* bwd_f32 = lib.function<BackwardFn<float>>("llmlab_gelu_backward_f32");
  auto* bwd_bf16 = lib.function<BackwardFn<std::uint16_t>>("llmlab_gelu_backward_bf16");
  for (const std::int64_t n : kSizes) {
    check<float>(lib, fwd_f32, bwd_f32, "f32", "llmlab_gelu_forward_f32",
                 "llmlab_gelu_backward_f32", n, emit);
    check<std::uint16_t>(lib, fwd_bf16, bwd_bf16, "bf16", "llmlab_gelu_forward_bf16",
                         "llmlab_gelu_backward_bf16", n, emit);
  }
}

Component gelu_component() {
  return {"gelu",
          "GPT-2's GELU, y = x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))), and its accumulating "
          "backward (fp32; bf16 computed in fp32, rounded once)",
          {{"llmlab_gelu_forward_f32",
            "int llmlab_gelu_forward_f32(const float* x, float* y, int64_t n)"},
           {"llmlab_gelu_forward_bf16",
            "int llmlab_gelu_forward_bf16(const uint16_t* x, uint16_t* y, int64_t n)"},
           {"llmlab_gelu_backward_f32",
            "int llmlab_gelu_backward_f32(const float* dy, const float* x, float* dx, int64_t n)"},
           {"llmlab_gelu_backward_bf16",
            "int llmlab_gelu_backward_bf16(const uint16_t* dy, const uint16_t* x, uint16_t* dx, "
            "int64_t n)"}},
          sweep};
}

}  // namespace
}  // namespace llmlab::app

LLMLAB_VERIFY_REGISTER(llmlab::app::gelu_component())
