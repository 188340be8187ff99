/// \file
/// \brief vector_add, \f$ c_i = a_i + b_i \f$: the reference against PyTorch's golden files, every
/// kernel version (fp32 and bf16) against the reference with the ratio rule, a deliberately wrong
/// kernel that the oracle must reject, and the launcher's argument errors.
///
/// Built twice: against the emulated kernels (vector_add_test) and, on a GPU machine, against the
/// nvcc-built ones (vector_add_test_gpu, this file compiled by nvcc).

#include "llmlab/cuda/vector_add.cuh"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <span>
#include <stdexcept>
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
#include "llmlab/ref/vector_add.hpp"

namespace {

namespace fs = std::filesystem;
using llmlab::DType;
using llmlab::oracle::compare_golden;
using llmlab::oracle::compare_ratio;
using llmlab::oracle::Report;
using llmlab::oracle::Rule;

const fs::path kGolden = fs::path(LLMLAB_GOLDEN_DIR) / "vector_add";

/// Lengths no block, warp or float4 divides (plus 0 and 1), and one past 2^16 so v2's grid-stride
/// loop goes round several times.
constexpr std::int64_t kSizes[] = {0, 1, 17, 97, 129, 1000, 4097, 65537};

// ---- host helpers -------------------------------------------------------------------------------

/// Throws with the CUDA error's name when a runtime call fails.
void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

/// n elements of device memory, freed on scope exit; `offset` extra leading elements let a test
/// hand the kernel a pointer that is not 16-byte aligned.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::int64_t n, std::int64_t offset = 0) : n_(n), offset_(offset) {
    if (n + offset > 0)
      check(cudaMalloc(&base_, static_cast<std::size_t>(n + offset) * sizeof(T)), "cudaMalloc");
    if (base_ != nullptr)
      check(cudaMemset(base_, 0, static_cast<std::size_t>(n + offset) * sizeof(T)), "cudaMemset");
  }
  ~DeviceBuffer() { cudaFree(base_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// The n elements the kernel sees (null when n == 0).
  T* get() const { return n_ > 0 ? base_ + offset_ : nullptr; }

  /// Copies host values of the same size as T (float, or bf16 bits for __nv_bfloat16) in.
  template <class H>
  void upload(const std::vector<H>& host) {
    static_assert(sizeof(H) == sizeof(T));
    if (n_ > 0)
      check(cudaMemcpy(get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
            "cudaMemcpy");
  }
  /// Copies the n elements out as H.
  template <class H>
  std::vector<H> download() const {
    static_assert(sizeof(H) == sizeof(T));
    std::vector<H> host(static_cast<std::size_t>(n_));
    if (n_ > 0)
      check(cudaMemcpy(host.data(), get(), host.size() * sizeof(T), cudaMemcpyDeviceToHost),
            "cudaMemcpy");
    return host;
  }

 private:
  std::int64_t n_;
  std::int64_t offset_;
  T* base_ = nullptr;
};

/// A 1-D xtensor of T holding `v`.
template <class T>
xt::xtensor<T, 1> tensor(const std::vector<float>& v) {
  xt::xtensor<T, 1> t = xt::empty<T>({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) t(i) = static_cast<T>(v[i]);
  return t;
}

/// The elements of a 1-D tensor widened to double (for the oracle).
template <class T>
std::vector<double> widened(const xt::xtensor<T, 1>& t) {
  return std::vector<double>(t.begin(), t.end());
}

/// Each value rounded to the nearest bfloat16.
std::vector<float> rounded_to_bf16(std::vector<float> v) {
  for (float& x : v) x = llmlab::round_to_bf16(x);
  return v;
}

std::vector<std::uint16_t> bf16_bits(const std::vector<float>& v) {
  std::vector<std::uint16_t> bits(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) bits[i] = llmlab::float_to_bf16_bits(v[i]);
  return bits;
}

/// cudaMalloc aligns to 256 bytes on CUDA (16 suffices here): otherwise offset 0 would quietly test
/// the scalar fallback instead of the float4 path.
void expect_wide_aligned(const void* p) {
  if (p == nullptr) return;
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u)
      << "cudaMalloc returned a pointer that is not 16-byte aligned";
}

/// Runs `f` and expects an llmlab::Error whose message contains every one of `parts`.
void expect_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected llmlab::Error mentioning \"" << *parts.begin()
                  << "\", nothing thrown";
  } catch (const llmlab::Error& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message \"" << e.what() << "\" does not mention \"" << part << "\"";
  }
}

/// The golden cases: every `<case>_out.npy` in tests/golden/vector_add.
std::vector<std::string> golden_cases() {
  std::vector<std::string> cases;
  for (const auto& entry : fs::directory_iterator(kGolden)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = "_out.npy";
    if (name.size() > suffix.size() && name.ends_with(suffix))
      cases.push_back(name.substr(0, name.size() - suffix.size()));
  }
  return cases;
}

xt::xtensor<float, 1> load_input(const std::string& c, const std::string& input) {
  return llmlab::load_npy<float>(kGolden / (c + "_" + input + ".npy"));
}

// ---- the reference against PyTorch --------------------------------------------------------------

TEST(VectorAddReference, InDoubleMatchesPyTorchFloat64ToTenDigits) {
  const auto cases = golden_cases();
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const xt::xtensor<double, 1> a = xt::cast<double>(load_input(c, "a"));
    const xt::xtensor<double, 1> b = xt::cast<double>(load_input(c, "b"));
    const xt::xarray<double> golden = llmlab::load_npy<double>(kGolden / (c + "_out.npy"));
    const auto out = llmlab::ref::vector_add(a, b);
    // Both sides are one double addition of the same float inputs: only the rounding of that one
    // addition could differ, so 1e-10 relative (the oracle's double-vs-PyTorch rule) is generous.
    LLMLAB_EXPECT_AGREES(compare_golden("ref<double> vector_add " + c,
                                        std::span(golden.data(), golden.size()), widened(out),
                                        Rule::relative(1e-10)));
  }
}

TEST(VectorAddReference, InFloatMatchesPyTorchWithinOneUlp) {
  const auto cases = golden_cases();
  ASSERT_FALSE(cases.empty()) << "no golden files in " << kGolden;
  for (const std::string& c : cases) {
    const xt::xtensor<float, 1> a = load_input(c, "a");
    const xt::xtensor<float, 1> b = load_input(c, "b");
    const xt::xarray<double> golden = llmlab::load_npy<double>(kGolden / (c + "_out.npy"));
    const auto out = llmlab::ref::vector_add(a, b);
    // The inputs are the golden float32 values exactly, so each output is the exact sum rounded
    // once: at most ½ ulp off. 1 ulp (K = 1: one addition per output) leaves a factor 2 of room.
    LLMLAB_EXPECT_AGREES(compare_golden("ref<float> vector_add " + c,
                                        std::span(golden.data(), golden.size()), widened(out),
                                        Rule::within_ulps(1, 1, DType::f32)));
  }
}

TEST(VectorAddReference, RejectsVectorsOfDifferentLengthsNamingBothShapes) {
  const xt::xtensor<double, 1> a = xt::zeros<double>({3});
  const xt::xtensor<double, 1> b = xt::zeros<double>({4});
  expect_error([&] { llmlab::ref::vector_add(a, b); }, {"vector_add", "a is (3)", "b is (4)"});
}

// ---- every kernel version against the reference -------------------------------------------------

/// One kernel version, 0 (the launcher's default) through vector_add_versions.
class VectorAddKernel : public ::testing::TestWithParam<int> {};

TEST_P(VectorAddKernel, Float32MatchesReferenceWithinTwiceFloat32Error) {
  const int version = GetParam();
  for (const std::int64_t n : kSizes) {
    for (const std::int64_t offset : {0, 1}) {  // 1: a, b, c not 16-byte aligned
      llmlab::Rng rng(1000 + static_cast<std::uint64_t>(n));
      const std::vector<float> a = rng.uniform_floats(static_cast<std::size_t>(n));
      const std::vector<float> b = rng.uniform_floats(static_cast<std::size_t>(n));
      const auto ref64 = llmlab::ref::vector_add(tensor<double>(a), tensor<double>(b));
      const auto ref32 = llmlab::ref::vector_add(tensor<float>(a), tensor<float>(b));

      DeviceBuffer<float> da(n, offset), db(n, offset), dc(n, offset);
      if (offset == 0) expect_wide_aligned(da.get());
      da.upload(a);
      db.upload(b);
      const cudaError_t err = llmlab::cuda::vector_add(da.get(), db.get(), dc.get(), n, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      const std::vector<float> c = dc.download<float>();

      const std::string name = "vector_add v" + std::to_string(version) +
                               " f32 n=" + std::to_string(n) + " offset=" + std::to_string(offset);
      LLMLAB_EXPECT_AGREES(compare_ratio(name, widened(ref64), widened(ref32),
                                         llmlab::oracle::widen(c), Rule::forward(DType::f32)));
    }
  }
}

TEST_P(VectorAddKernel, Bfloat16MatchesReferenceWithinTwiceBfloat16Error) {
  const int version = GetParam();
  for (const std::int64_t n : kSizes) {
    for (const std::int64_t offset : {0, 1}) {  // 1: a, b, c not 4-byte aligned
      llmlab::Rng rng(2000 + static_cast<std::uint64_t>(n));
      // The kernel sees bf16 inputs, so both references start from the same rounded values.
      const std::vector<float> a = rounded_to_bf16(rng.uniform_floats(static_cast<std::size_t>(n)));
      const std::vector<float> b = rounded_to_bf16(rng.uniform_floats(static_cast<std::size_t>(n)));
      const auto ref64 = llmlab::ref::vector_add(tensor<double>(a), tensor<double>(b));
      // The baseline at the kernel's precision: the float sum rounded to bf16 once.
      std::vector<double> baseline =
          widened(llmlab::ref::vector_add(tensor<float>(a), tensor<float>(b)));
      for (double& x : baseline) x = llmlab::round_to_bf16(static_cast<float>(x));

      DeviceBuffer<__nv_bfloat16> da(n, offset), db(n, offset), dc(n, offset);
      da.upload(bf16_bits(a));
      db.upload(bf16_bits(b));
      const cudaError_t err = llmlab::cuda::vector_add(da.get(), db.get(), dc.get(), n, version);
      ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
      check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
      const std::vector<std::uint16_t> c = dc.download<std::uint16_t>();

      const std::string name = "vector_add v" + std::to_string(version) +
                               " bf16 n=" + std::to_string(n) + " offset=" + std::to_string(offset);
      LLMLAB_EXPECT_AGREES(compare_ratio(name, widened(ref64), baseline,
                                         llmlab::oracle::widen_bf16(c),
                                         Rule::forward(DType::bf16)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryVersion, VectorAddKernel,
                         ::testing::Range(0, llmlab::cuda::vector_add_versions + 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Default")
                                                  : "V" + std::to_string(info.param);
                         });

// ---- the check can fail: a deliberately wrong kernel --------------------------------------------

/// WRONG on purpose: `i < n - 1` is an off-by-one bound, so the last element is never written.
__global__ void vector_add_skipping_last(const float* __restrict__ a, const float* __restrict__ b,
                                         float* __restrict__ c, std::int64_t n) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n - 1) c[i] = a[i] + b[i];
}

TEST(VectorAddOracle, RejectsAKernelThatSkipsTheLastElement) {
  const std::int64_t n = 97;
  llmlab::Rng rng(3000);
  const std::vector<float> a = rng.uniform_floats(n);
  const std::vector<float> b = rng.uniform_floats(n);
  const auto ref64 = llmlab::ref::vector_add(tensor<double>(a), tensor<double>(b));
  const auto ref32 = llmlab::ref::vector_add(tensor<float>(a), tensor<float>(b));

  DeviceBuffer<float> da(n), db(n), dc(n);  // dc starts as zeros
  da.upload(a);
  db.upload(b);
  const cudaError_t err = llmlab::cuda::launch(
      llmlab::cuda::launch_config(dim3(llmlab::cuda::ceil_div(n, 32)), dim3(32)),
      vector_add_skipping_last, static_cast<const float*>(da.get()),
      static_cast<const float*>(db.get()), dc.get(), n);
  ASSERT_EQ(err, cudaSuccess) << cudaGetErrorString(err);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");

  const Report r =
      compare_ratio("vector_add skipping the last element", widened(ref64), widened(ref32),
                    llmlab::oracle::widen(dc.download<float>()), Rule::forward(DType::f32));
  EXPECT_FALSE(r.pass) << r.detail();
  EXPECT_EQ(r.first_bad, n - 1) << r.detail();
}

// ---- the launcher's argument errors -------------------------------------------------------------

TEST(VectorAddLauncher, RejectsANegativeLengthNamingIt) {
  DeviceBuffer<float> d(4);
  expect_error([&] { llmlab::cuda::vector_add(d.get(), d.get(), d.get(), -1); },
               {"vector_add", "n = -1"});
}

TEST(VectorAddLauncher, RejectsNullPointersNamingTheArgument) {
  DeviceBuffer<float> a(4), b(4), c(4);
  expect_error([&] { llmlab::cuda::vector_add(nullptr, b.get(), c.get(), 4); },
               {"vector_add", "a is null", "n = 4"});
  expect_error([&] { llmlab::cuda::vector_add(a.get(), nullptr, c.get(), 4); },
               {"vector_add", "b is null"});
  const __nv_bfloat16* none = nullptr;
  expect_error([&] { llmlab::cuda::vector_add(none, none, nullptr, 4); },
               {"vector_add", "a is null"});
}

TEST(VectorAddLauncher, RejectsAnUnknownVersionNamingIt) {
  DeviceBuffer<float> d(4);
  const int too_high = llmlab::cuda::vector_add_versions + 1;
  expect_error([&] { llmlab::cuda::vector_add(d.get(), d.get(), d.get(), 4, too_high); },
               {"vector_add", "version = " + std::to_string(too_high)});
  expect_error([&] { llmlab::cuda::vector_add(d.get(), d.get(), d.get(), 4, -1); },
               {"vector_add", "version = -1"});
}

TEST(VectorAddLauncher, AcceptsAnEmptyVectorWithoutLaunching) {
  EXPECT_EQ(llmlab::cuda::vector_add(static_cast<const float*>(nullptr), nullptr, nullptr, 0),
            cudaSuccess);
}

}  // namespace
