/// \file
/// \brief matmul, \f$ y = x W^\top + b \f$ and its backward: both references (triple loop and
/// BLAS) against PyTorch's golden files, every kernel version (fp32 and bf16, forward and
/// backward) against the reference with the ratio rule, a deliberately wrong kernel that the oracle
/// must reject, and the argument errors of the references and the launchers.
///
/// Built twice: against the emulated kernels (matmul_test) and, on a GPU machine, against the
/// nvcc-built ones (matmul_test_gpu, this file compiled by nvcc; there version 0 is cuBLAS).

#include "llmlab/cuda/matmul.cuh"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>
#include <xtensor/xtensor.hpp>

#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"
#include "llmlab/core/npy.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/cuda/kernel.cuh"
#include "llmlab/oracle/gtest.hpp"
#include "llmlab/oracle/oracle.hpp"
#include "llmlab/ref/matmul.hpp"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"
#include "llmlab/testing/golden.hpp"
#include "llmlab/testing/values.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_golden;
using llmlab::oracle::compare_ratio;
using llmlab::oracle::Report;
using llmlab::oracle::Rule;
using llmlab::testing::bf16_bits;
using llmlab::testing::check;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_error;
using llmlab::testing::golden_cases;
using llmlab::testing::matrix;
using llmlab::testing::rounded_to_bf16;
using llmlab::testing::tensor;
using llmlab::testing::widened;
using M32 = xt::xtensor<float, 2>;
using M64 = xt::xtensor<double, 2>;
using V64 = xt::xtensor<double, 1>;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "matmul";

/// (N, in, out) for the kernels: 1 everywhere; sizes below, between and just above the tiles (16,
/// 32, 64) and never a multiple of them; in = 1 (one product) and 768 (GPT-2's C, 24 v3 tiles);
/// out = 1 (one column).
struct Shape {
  std::int64_t N, in, out;
};
constexpr Shape kShapes[] = {{1, 1, 1},    {1, 17, 1},   {17, 97, 129}, {97, 17, 1},
                             {129, 1, 17}, {3, 768, 65}, {65, 129, 97}};

std::string shape_name(const Shape& s) { return llmlab::shape_str({s.N, s.in, s.out}); }

/// n floats uniform in [-1, 1) from `seed`.
std::vector<float> uniform(std::uint64_t seed, std::int64_t n) {
  return llmlab::Rng(seed).uniform_floats(static_cast<std::size_t>(n));
}

/// The value of each element rounded to bf16 (n), widened: the baseline of a bf16 output.
std::vector<double> rounded_bf16(const std::vector<double>& v) {
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out[i] = llmlab::round_to_bf16(static_cast<float>(v[i]));
  return out;
}

template <class T>
xt::xtensor<T, 2> load2(const std::string& c, const char* name) {
  return xt::cast<T>(llmlab::load_npy<float>(kGolden / (c + "_" + name + ".npy")));
}
template <class T>
xt::xtensor<T, 1> load1(const std::string& c, const char* name) {
  return xt::cast<T>(llmlab::load_npy<float>(kGolden / (c + "_" + name + ".npy")));
}
std::vector<double> golden(const std::string& c, const char* name) {
  const xt::xarray<double> g = llmlab::load_npy<double>(kGolden / (c + "_" + name + ".npy"));
  return widened(g);
}

// ---- both references against PyTorch ------------------------------------------------------------

/// y, dx, dW and db of one golden case by one reference path (grads start at 0).
template <class T>
struct Outputs {
  xt::xtensor<T, 2> y, dx, dw;
  xt::xtensor<T, 1> db;
};

template <class T>
Outputs<T> run_reference(const std::string& c, bool blas) {
  const auto x = load2<T>(c, "x"), w = load2<T>(c, "w"), dy = load2<T>(c, "dy");
  const auto b = load1<T>(c, "b");
  Outputs<T> o;
  o.y = blas ? llmlab::ref::matmul_forward_blas(x, w, b) : llmlab::ref::matmul_forward(x, w, b);
  o.dx = xt::zeros<T>(x.shape());
  o.dw = xt::zeros<T>(w.shape());
  o.db = xt::zeros<T>(b.shape());
  if (blas)
    llmlab::ref::matmul_backward_blas(dy, x, w, o.dx, o.dw, o.db);
  else
    llmlab::ref::matmul_backward(dy, x, w, o.dx, o.dw, o.db);
  return o;
}

class MatmulReference : public ::testing::TestWithParam<bool> {};  // false: triple loop, true: BLAS

TEST_P(MatmulReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  const std::string path = GetParam() ? "blas" : "loop";
  for (const std::string& c : cases) {
    const Outputs<double> o = run_reference<double>(c, GetParam());
    // Both sum the same float inputs in double; only the order differs (BLAS blocks its sums).
    // Either order errs by at most K · 2^-53 · Σ|terms| ≤ 768 · 2^-53 · 768 ≈ 7e-11 absolute for
    // K = 768 and |x|, |w| < 1 (a worst case; random-walk errors are far smaller), while a missing
    // or wrong product errs by ~1e-1: 1e-10 of max|golden| separates the two.
    const Rule rule = Rule::relative(1e-10);
    const std::string n = "ref<double> " + path + " matmul " + c;
    LLMLAB_EXPECT_AGREES(compare_golden(n + " y", golden(c, "out"), widened(o.y), rule));
    LLMLAB_EXPECT_AGREES(compare_golden(n + " dx", golden(c, "dx"), widened(o.dx), rule));
    LLMLAB_EXPECT_AGREES(compare_golden(n + " dw", golden(c, "dw"), widened(o.dw), rule));
    LLMLAB_EXPECT_AGREES(compare_golden(n + " db", golden(c, "db"), widened(o.db), rule));
  }
}

TEST_P(MatmulReference, InFloatMatchesPyTorchWithinTwoUlpsTimesRootK) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  const std::string path = GetParam() ? "blas" : "loop";
  for (const std::string& c : cases) {
    const Outputs<float> o = run_reference<float>(c, GetParam());
    const auto N = static_cast<std::int64_t>(o.dx.shape(0));
    const auto in = static_cast<std::int64_t>(o.dx.shape(1));
    const auto out = static_cast<std::int64_t>(o.db.shape(0));
    // Each output is a sum of K rounded products (+ b); the roundings add like a random walk,
    // ½ ulp each, with partial sums about the result's scale for inputs in [-1, 1). 2 ulps of
    // max|golden| · √K covers it: the worst case measured is 0.99 (dW of n97_in1_out7, 97-term
    // sums whose partial sums may exceed the final value), the others 0.06–0.54, both paths.
    const std::string n = "ref<float> " + path + " matmul " + c;
    LLMLAB_EXPECT_AGREES(compare_golden(n + " y", golden(c, "out"), widened(o.y),
                                        Rule::within_ulps(2, in + 1, DType::f32)));
    LLMLAB_EXPECT_AGREES(compare_golden(n + " dx", golden(c, "dx"), widened(o.dx),
                                        Rule::within_ulps(2, out, DType::f32)));
    LLMLAB_EXPECT_AGREES(compare_golden(n + " dw", golden(c, "dw"), widened(o.dw),
                                        Rule::within_ulps(2, N, DType::f32)));
    LLMLAB_EXPECT_AGREES(compare_golden(n + " db", golden(c, "db"), widened(o.db),
                                        Rule::within_ulps(2, N, DType::f32)));
  }
}

INSTANTIATE_TEST_SUITE_P(BothPaths, MatmulReference, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Blas" : "TripleLoop");
                         });

TEST(MatmulReferenceBackward, GradientsAccumulateIntoWhatIsAlreadyThere) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty());
  const std::string c = cases.front();
  const auto x = load2<double>(c, "x"), w = load2<double>(c, "w"), dy = load2<double>(c, "dy");
  for (const bool blas : {false, true}) {
    // Start from 1 everywhere: the result must be 1 + PyTorch's gradient.
    M64 dx = xt::ones<double>(x.shape()), dw = xt::ones<double>(w.shape());
    V64 db = xt::ones<double>({w.shape(0)});
    if (blas)
      llmlab::ref::matmul_backward_blas(dy, x, w, dx, dw, db);
    else
      llmlab::ref::matmul_backward(dy, x, w, dx, dw, db);
    for (const auto& [name, got] : {std::pair{"dx", widened(dx)}, std::pair{"dw", widened(dw)},
                                    std::pair{"db", widened(db)}}) {
      std::vector<double> want = golden(c, name);
      for (double& v : want) v += 1.0;
      LLMLAB_EXPECT_AGREES(compare_golden(
          std::string(blas ? "blas " : "loop ") + name + " += ", want, got, Rule::relative(1e-10)));
    }
  }
}

TEST(MatmulReferenceForward, WithoutBiasIsTheBiasedResultMinusTheBias) {
  const auto cases = golden_cases(kGolden);
  ASSERT_FALSE(cases.empty());
  const std::string c = cases.front();
  const auto x = load2<double>(c, "x"), w = load2<double>(c, "w");
  const auto b = load1<double>(c, "b");
  std::vector<double> want = golden(c, "out");
  for (std::size_t i = 0; i < want.size(); ++i) want[i] -= b(i % b.size());
  LLMLAB_EXPECT_AGREES(compare_golden(
      "loop no bias", want, widened(llmlab::ref::matmul_forward(x, w)), Rule::relative(1e-10)));
  LLMLAB_EXPECT_AGREES(compare_golden("blas no bias", want,
                                      widened(llmlab::ref::matmul_forward_blas(x, w)),
                                      Rule::relative(1e-10)));
}

TEST(MatmulReferenceForward, EmptyInnerDimensionGivesTheBias) {
  const M64 x = xt::zeros<double>({3, 0}), w = xt::zeros<double>({2, 0});
  const V64 b = {0.5, -2.0};
  for (const M64& y :
       {llmlab::ref::matmul_forward(x, w, b), llmlab::ref::matmul_forward_blas(x, w, b)}) {
    ASSERT_EQ(y.shape(0), 3u);
    ASSERT_EQ(y.shape(1), 2u);
    for (std::size_t n = 0; n < 3; ++n) {
      EXPECT_EQ(y(n, 0), 0.5);
      EXPECT_EQ(y(n, 1), -2.0);
    }
  }
}

TEST(MatmulReferenceErrors, MismatchedShapesAreNamed) {
  const M64 x = xt::zeros<double>({2, 3}), w = xt::zeros<double>({4, 5});
  const V64 b = xt::zeros<double>({4});
  expect_error([&] { llmlab::ref::matmul_forward(x, w, b); },
               {"matmul_forward", "x is (2, 3)", "w is (4, 5)"});
  expect_error([&] { llmlab::ref::matmul_forward_blas(x, w); }, {"matmul_forward_blas", "(4, 5)"});
  const M64 w3 = xt::zeros<double>({4, 3});
  const V64 b5 = xt::zeros<double>({5});
  expect_error([&] { llmlab::ref::matmul_forward(x, w3, b5); }, {"matmul_forward", "b is (5)"});

  const M64 dy = xt::zeros<double>({2, 4});
  M64 dx = xt::zeros<double>({2, 3}), dw = xt::zeros<double>({4, 3});
  V64 db = xt::zeros<double>({4});
  M64 bad_dx = xt::zeros<double>({3, 2});
  expect_error([&] { llmlab::ref::matmul_backward(dy, x, w3, bad_dx, dw, db); },
               {"matmul_backward", "dx is (3, 2)"});
  const M64 bad_dy = xt::zeros<double>({2, 5});
  expect_error([&] { llmlab::ref::matmul_backward_blas(bad_dy, x, w3, dx, dw, db); },
               {"matmul_backward_blas", "dy is (2, 5)"});
  V64 bad_db = xt::zeros<double>({3});
  expect_error([&] { llmlab::ref::matmul_backward(dy, x, w3, dx, dw, bad_db); },
               {"matmul_backward", "db is (3)"});
}

// ---- every kernel version against the reference -------------------------------------------------

/// One shape's inputs (uniform in [-1, 1), bf16-rounded for the bf16 kernels) and its references.
struct Problem {
  Shape s;
  std::vector<float> x, w, b, dy, dx0, dw0, db0;  // dx0, dw0, db0: the gradients before backward

  Problem(Shape shape, std::uint64_t seed, bool bf16) : s(shape) {
    auto draw = [&](std::int64_t n) {
      std::vector<float> v = uniform(seed++, n);
      return bf16 ? rounded_to_bf16(v) : v;
    };
    x = draw(s.N * s.in), w = draw(s.out * s.in), b = draw(s.out), dy = draw(s.N * s.out);
    dx0 = draw(s.N * s.in), dw0 = draw(s.out * s.in), db0 = draw(s.out);
  }
  template <class T>
  xt::xtensor<T, 2> y_ref() const {
    return llmlab::ref::matmul_forward(matrix<T>(x, s.N, s.in), matrix<T>(w, s.out, s.in),
                                       tensor<T>(b));
  }
  template <class T>
  Outputs<T> grads_ref() const {
    Outputs<T> o{{}, matrix<T>(dx0, s.N, s.in), matrix<T>(dw0, s.out, s.in), tensor<T>(db0)};
    llmlab::ref::matmul_backward(matrix<T>(dy, s.N, s.out), matrix<T>(x, s.N, s.in),
                                 matrix<T>(w, s.out, s.in), o.dx, o.dw, o.db);
    return o;
  }
};

/// Device copies in the kernel's element type: float itself, or bf16 bits.
template <class T>
DeviceBuffer<T> device(const std::vector<float>& v) {
  if constexpr (std::is_same_v<T, float>)
    return DeviceBuffer<T>(v);
  else
    return DeviceBuffer<T>(bf16_bits(v));
}
template <class T>
std::vector<double> host(const DeviceBuffer<T>& d) {
  if constexpr (std::is_same_v<T, float>)
    return llmlab::oracle::widen(d.download());
  else
    return llmlab::oracle::widen_bf16(d.template download<std::uint16_t>());
}

template <class T>
constexpr DType kDType = std::is_same_v<T, float> ? DType::f32 : DType::bf16;

/// The baseline of a result stored in T: the float reference, rounded to bf16 for bf16 outputs.
template <class T, class E>
std::vector<double> baseline(const E& ref32) {
  return std::is_same_v<T, float> ? widened(ref32) : rounded_bf16(widened(ref32));
}

class MatmulKernel : public ::testing::TestWithParam<int> {
 protected:
  template <class T>
  void forward_agrees(const Shape& s, std::uint64_t seed, bool with_bias) {
    const int version = GetParam();
    const Problem p(s, seed, !std::is_same_v<T, float>);
    M64 ref64 = p.y_ref<double>();
    M32 ref32 = p.y_ref<float>();
    if (!with_bias) {
      ref64 = llmlab::ref::matmul_forward(matrix<double>(p.x, s.N, s.in),
                                          matrix<double>(p.w, s.out, s.in));
      ref32 = llmlab::ref::matmul_forward(matrix<float>(p.x, s.N, s.in),
                                          matrix<float>(p.w, s.out, s.in));
    }
    auto dx = device<T>(p.x), dw = device<T>(p.w), db = device<T>(p.b);
    DeviceBuffer<T> dy(s.N * s.out);
    dy.fill_nan();  // an element the kernel never writes stays NaN
    const cudaError_t err = llmlab::cuda::matmul_forward(
        dx.cget(), dw.cget(), with_bias ? db.cget() : nullptr, dy.get(), s.N, s.in, s.out, version);
    ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    const std::string name = "matmul_forward v" + std::to_string(version) +
                             (std::is_same_v<T, float> ? " f32 " : " bf16 ") + shape_name(s) +
                             (with_bias ? "" : " no bias");
    Report r =
        compare_ratio(name, widened(ref64), baseline<T>(ref32), host(dy), Rule::forward(kDType<T>));
    r.shape = {s.N, s.out};
    LLMLAB_EXPECT_AGREES(r);
  }

  template <class T>
  void backward_agrees(const Shape& s, std::uint64_t seed, bool with_bias) {
    const int version = GetParam();
    const Problem p(s, seed, !std::is_same_v<T, float>);
    const Outputs<double> ref64 = p.grads_ref<double>();
    const Outputs<float> ref32 = p.grads_ref<float>();
    auto ddy = device<T>(p.dy), dx = device<T>(p.x), dw = device<T>(p.w);
    auto gx = device<T>(p.dx0), gw = device<T>(p.dw0), gb = device<T>(p.db0);
    const cudaError_t err =
        llmlab::cuda::matmul_backward(ddy.cget(), dx.cget(), dw.cget(), gx.get(), gw.get(),
                                      with_bias ? gb.get() : nullptr, s.N, s.in, s.out, version);
    ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    const std::string name = "matmul_backward v" + std::to_string(version) +
                             (std::is_same_v<T, float> ? " f32 " : " bf16 ") + shape_name(s);
    const Rule rule = Rule::gradient(kDType<T>);
    Report rx =
        compare_ratio(name + " dx", widened(ref64.dx), baseline<T>(ref32.dx), host(gx), rule);
    rx.shape = {s.N, s.in};
    LLMLAB_EXPECT_AGREES(rx);
    Report rw =
        compare_ratio(name + " dw", widened(ref64.dw), baseline<T>(ref32.dw), host(gw), rule);
    rw.shape = {s.out, s.in};
    LLMLAB_EXPECT_AGREES(rw);
    if (with_bias)
      LLMLAB_EXPECT_AGREES(
          compare_ratio(name + " db", widened(ref64.db), baseline<T>(ref32.db), host(gb), rule));
    else  // no bias: db was not ours to touch
      EXPECT_EQ(host(gb), baseline<T>(tensor<float>(p.db0)));
  }
};

TEST_P(MatmulKernel, Float32ForwardMatchesReferenceWithinTwiceFloat32Error) {
  for (const Shape& s : kShapes)
    forward_agrees<float>(s, 100 + static_cast<std::uint64_t>(s.N * s.in), true);
}

TEST_P(MatmulKernel, Bfloat16ForwardIsSummedInFloat32AndRoundedOnce) {
  for (const Shape& s : kShapes)
    forward_agrees<__nv_bfloat16>(s, 200 + static_cast<std::uint64_t>(s.N * s.in), true);
}

TEST_P(MatmulKernel, ForwardWithoutBiasMatchesReference) {
  forward_agrees<float>({17, 97, 129}, 300, false);
  forward_agrees<__nv_bfloat16>({3, 768, 65}, 301, false);
}

TEST_P(MatmulKernel, Float32GradientsAccumulateWithinThriceFloat32Error) {
  for (const Shape& s : kShapes)
    backward_agrees<float>(s, 400 + static_cast<std::uint64_t>(s.N * s.in), true);
}

TEST_P(MatmulKernel, Bfloat16GradientsAccumulateInFloat32AndRoundOnce) {
  for (const Shape& s : kShapes)
    backward_agrees<__nv_bfloat16>(s, 500 + static_cast<std::uint64_t>(s.N * s.in), true);
}

TEST_P(MatmulKernel, BackwardWithoutBiasLeavesDbAlone) {
  backward_agrees<float>({65, 129, 97}, 600, false);
}

TEST_P(MatmulKernel, EmptyInnerDimensionWritesTheBias) {
  const std::vector<float> b = {0.5f, -2.0f, 3.0f};
  DeviceBuffer<float> db(b), dy(2 * 3);
  dy.fill_nan();
  const cudaError_t err = llmlab::cuda::matmul_forward(static_cast<const float*>(nullptr), nullptr,
                                                       db.cget(), dy.get(), 2, 0, 3, GetParam());
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  EXPECT_EQ(dy.download(), (std::vector<float>{0.5f, -2.0f, 3.0f, 0.5f, -2.0f, 3.0f}));
}

TEST_P(MatmulKernel, RerunsAreBitwiseEqual) {
  // No atomics: every sum runs in an order fixed by the version and shape (DESIGN.md §3).
  const Shape s{65, 129, 97};
  const Problem p(s, 800, false);
  auto run_once = [&] {
    auto dx = device<float>(p.x), dw = device<float>(p.w), db = device<float>(p.b),
         ddy = device<float>(p.dy), gx = device<float>(p.dx0), gw = device<float>(p.dw0),
         gb = device<float>(p.db0);
    DeviceBuffer<float> y(s.N * s.out);
    check(llmlab::cuda::matmul_forward(dx.cget(), dw.cget(), db.cget(), y.get(), s.N, s.in, s.out,
                                       GetParam()),
          "matmul_forward");
    check(llmlab::cuda::matmul_backward(ddy.cget(), dx.cget(), dw.cget(), gx.get(), gw.get(),
                                        gb.get(), s.N, s.in, s.out, GetParam()),
          "matmul_backward");
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return std::vector<std::vector<float>>{y.download(), gx.download(), gw.download(),
                                           gb.download()};
  };
  EXPECT_EQ(run_once(), run_once());
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, MatmulKernel,
                         ::testing::Range(0, llmlab::cuda::matmul_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Default")
                                                  : "V" + std::to_string(info.param);
                         });

// ---- the check can fail: a deliberately wrong kernel --------------------------------------------

constexpr int kWrongTile = 16;

/// WRONG on purpose: a fair shared-memory tiled y = x Wᵀ (16 × 16 tiles), except that its K loop
/// stops before the last partial tile (`k0 + 16 <= in`), so for in = 97 the last product of every
/// sum is never added — the classic off-by-one at a tile edge.
__global__ void matmul_skipping_last_k_tile(const float* __restrict__ x,
                                            const float* __restrict__ w, float* __restrict__ y,
                                            std::int64_t N, std::int64_t in, std::int64_t out) {
  __shared__ float xs[kWrongTile][kWrongTile];
  __shared__ float ws[kWrongTile][kWrongTile + 1];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const std::int64_t n = static_cast<std::int64_t>(blockIdx.y) * kWrongTile + ty;
  const std::int64_t o0 = static_cast<std::int64_t>(blockIdx.x) * kWrongTile;
  float sum = 0.0f;
  for (std::int64_t k0 = 0; k0 + kWrongTile <= in; k0 += kWrongTile) {  // BUG: should be k0 < in
    xs[ty][tx] = n < N ? x[n * in + k0 + tx] : 0.0f;
    ws[ty][tx] = o0 + ty < out ? w[(o0 + ty) * in + k0 + tx] : 0.0f;
    __syncthreads();
    for (int kk = 0; kk < kWrongTile; ++kk) sum += xs[ty][kk] * ws[tx][kk];
    __syncthreads();
  }
  if (n < N && o0 + tx < out) y[n * out + o0 + tx] = sum;
}

TEST(MatmulOracle, RejectsAKernelThatSkipsTheLastPartialKTile) {
  const Shape s{17, 97, 33};
  const Problem p(s, 700, false);
  const auto ref64 =
      llmlab::ref::matmul_forward(matrix<double>(p.x, s.N, s.in), matrix<double>(p.w, s.out, s.in));
  const auto ref32 =
      llmlab::ref::matmul_forward(matrix<float>(p.x, s.N, s.in), matrix<float>(p.w, s.out, s.in));
  DeviceBuffer<float> dx(p.x), dw(p.w), dy(s.N * s.out);
  const cudaError_t err = llmlab::cuda::launch(
      llmlab::cuda::launch_config(
          dim3(llmlab::cuda::ceil_div(s.out, kWrongTile), llmlab::cuda::ceil_div(s.N, kWrongTile)),
          dim3(kWrongTile, kWrongTile)),
      matmul_skipping_last_k_tile, dx.cget(), dw.cget(), dy.get(), s.N, s.in, s.out);
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  const Report r = compare_ratio("matmul skipping the last K tile", widened(ref64), widened(ref32),
                                 llmlab::oracle::widen(dy.download()), Rule::forward(DType::f32));
  EXPECT_FALSE(r.pass) << r.detail();
  EXPECT_EQ(r.first_bad, 0) << r.detail();  // every sum misses its last product
}

// ---- the launchers' argument errors -------------------------------------------------------------

TEST(MatmulLauncher, RejectsNegativeSizesNamingThem) {
  DeviceBuffer<float> a(4), b(4), c(4);
  expect_error(
      [&] { llmlab::cuda::matmul_forward(a.cget(), b.cget(), nullptr, c.get(), -1, 2, 2); },
      {"matmul_forward", "N = -1"});
  expect_error(
      [&] { llmlab::cuda::matmul_forward(a.cget(), b.cget(), nullptr, c.get(), 2, -2, 2); },
      {"matmul_forward", "in = -2"});
  expect_error(
      [&] {
        llmlab::cuda::matmul_backward(a.cget(), a.cget(), b.cget(), c.get(), c.get(), nullptr, 2, 2,
                                      -3);
      },
      {"matmul_backward", "out = -3"});
}

TEST(MatmulLauncher, RejectsNullPointersNamingTheArgumentAndShape) {
  DeviceBuffer<float> a(6), b(6), c(6);
  expect_error([&] { llmlab::cuda::matmul_forward(nullptr, b.cget(), nullptr, c.get(), 2, 3, 2); },
               {"matmul_forward", "x is null", "(2, 3, 2)"});
  expect_error([&] { llmlab::cuda::matmul_forward(a.cget(), nullptr, nullptr, c.get(), 2, 3, 2); },
               {"matmul_forward", "w is null"});
  expect_error([&] { llmlab::cuda::matmul_forward(a.cget(), b.cget(), nullptr, nullptr, 2, 3, 2); },
               {"matmul_forward", "y is null"});
  expect_error(
      [&] {
        llmlab::cuda::matmul_backward(a.cget(), a.cget(), b.cget(), nullptr, c.get(), nullptr, 2, 3,
                                      2);
      },
      {"matmul_backward", "dx is null", "(2, 3, 2)"});
  expect_error(
      [&] {
        llmlab::cuda::matmul_backward(a.cget(), a.cget(), b.cget(), c.get(), nullptr, nullptr, 2, 3,
                                      2);
      },
      {"matmul_backward", "dw is null"});
}

TEST(MatmulLauncher, RejectsAnUnknownVersionNamingIt) {
  DeviceBuffer<float> a(4), b(4), c(4);
  const int too_high = llmlab::cuda::matmul_versions + 1;
  expect_error(
      [&] {
        llmlab::cuda::matmul_forward(a.cget(), b.cget(), nullptr, c.get(), 2, 2, 2, too_high);
      },
      {"matmul_forward", "version = " + std::to_string(too_high)});
}

TEST(MatmulLauncher, AcceptsEmptyOutputsWithoutLaunching) {
  EXPECT_EQ(llmlab::cuda::matmul_forward(static_cast<const float*>(nullptr), nullptr, nullptr,
                                         nullptr, 0, 0, 3),
            cudaSuccess);
  EXPECT_EQ(llmlab::cuda::matmul_backward(static_cast<const float*>(nullptr), nullptr, nullptr,
                                          nullptr, nullptr, nullptr, 0, 0, 0),
            cudaSuccess);
}

}  // namespace
