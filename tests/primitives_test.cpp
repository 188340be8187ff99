/// \file
/// \brief llmlab/cuda/primitives.cuh: the warp and block all-reduces give every thread the same
/// result, combined in the documented order (bitwise against that order written out on the host);
/// the online-softmax merge gives the row's maximum and sum of exponentials; bf16 stores and adds
/// round once to nearest-even; the launch checks throw the launchers' messages; the launch
/// configurations have the documented sizes.

#include "llmlab/cuda/primitives.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "llmlab/cuda/kernel.cuh"
#include "llmlab/testing/device.hpp"
#include "llmlab/testing/expect.hpp"

namespace {

using llmlab::cuda::kBlock;
using llmlab::cuda::kWarpSize;
using llmlab::cuda::launch;
using llmlab::cuda::launch_config;
using llmlab::cuda::MaxSum;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::expect_error;

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::vector<float> random_values(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

/// The xor butterfly over 32 lanes on the host: v[l] ← op(v[l], v[l ⊕ o]) for o = 16, …, 1.
std::vector<float> butterfly(std::vector<float> v, const std::function<float(float, float)>& op) {
  for (int o = kWarpSize / 2; o > 0; o /= 2) {
    std::vector<float> next(v.size());
    for (std::size_t l = 0; l < v.size(); ++l)
      next[l] = op(v[l], v[l ^ static_cast<std::size_t>(o)]);
    v = next;
  }
  return v;
}

// ---- warp all-reduces ---------------------------------------------------------------------------

__global__ void warp_reduces(const float* in, float* sum, float* max, float* down) {
  const int lane = static_cast<int>(threadIdx.x);
  const float v = in[lane];
  sum[lane] = llmlab::cuda::warp_allsum(v);
  max[lane] = llmlab::cuda::warp_allmax(v);
  float d = v;  // the textbook __shfl_down_sync sum: only lane 0 ends with the total
  for (int o = kWarpSize / 2; o > 0; o /= 2) d += __shfl_down_sync(llmlab::cuda::kFullMask, d, o);
  down[lane] = d;
}

TEST(Primitives, WarpAllsumAndAllmaxGiveEveryLaneTheButterflysResult) {
  const std::vector<float> values = random_values(kWarpSize, 1);
  const DeviceBuffer<float> in(values), sum(kWarpSize), max(kWarpSize), down(kWarpSize);
  ASSERT_EQ(launch(launch_config(dim3(1), dim3(kWarpSize)), warp_reduces, in.cget(), sum.get(),
                   max.get(), down.get()),
            cudaSuccess);
  const std::vector<float> want_sum = butterfly(values, [](float a, float b) { return a + b; });
  const float want_max = *std::max_element(values.begin(), values.end());
  const auto got_sum = sum.download(), got_max = max.download(), got_down = down.download();
  for (int l = 0; l < kWarpSize; ++l) {
    EXPECT_EQ(bits(got_sum[l]), bits(want_sum[l])) << "lane " << l;
    EXPECT_EQ(bits(got_sum[l]), bits(got_sum[0])) << "lane " << l << " differs from lane 0";
    EXPECT_EQ(bits(got_max[l]), bits(want_max)) << "lane " << l;
  }
  // Lane 0 adds in the same tree either way, so reduce_sum may use warp_allsum.
  EXPECT_EQ(bits(got_down[0]), bits(got_sum[0]));
}

// ---- block all-reduces --------------------------------------------------------------------------

template <int kThreads>
__global__ void block_reduces(const float* in, float* sum, float* twice, float* max) {
  const int i = static_cast<int>(blockIdx.x) * kThreads + static_cast<int>(threadIdx.x);
  sum[i] = llmlab::cuda::block_allsum<kThreads>(in[i]);
  twice[i] = llmlab::cuda::block_allsum<kThreads>(-2.0f * in[i]);  // reuses the shared buffer
  max[i] = llmlab::cuda::block_allmax<kThreads>(in[i]);
}

/// The block's sum in block_allsum's documented order: each warp's butterfly, then the warp sums
/// added in a row onto 0.
float block_sum_in_order(const float* v, int threads) {
  float total = 0.0f;
  for (int w = 0; w < threads / kWarpSize; ++w) {
    const std::vector<float> lanes(v + w * kWarpSize, v + (w + 1) * kWarpSize);
    total += butterfly(lanes, [](float a, float b) { return a + b; })[0];
  }
  return total;
}

template <int kThreads>
void check_block_reduces() {
  constexpr int kBlocks = 3;
  std::vector<float> values = random_values(kBlocks * kThreads, 2);
  const DeviceBuffer<float> in(values), sum(kBlocks * kThreads), twice(kBlocks * kThreads),
      max(kBlocks * kThreads);
  ASSERT_EQ(launch(launch_config(dim3(kBlocks), dim3(kThreads)), block_reduces<kThreads>, in.cget(),
                   sum.get(), twice.get(), max.get()),
            cudaSuccess);
  const auto got_sum = sum.download(), got_twice = twice.download(), got_max = max.download();
  for (int b = 0; b < kBlocks; ++b) {
    const float* v = values.data() + b * kThreads;
    std::vector<float> doubled(v, v + kThreads);
    for (float& x : doubled) x *= -2.0f;
    const float want_sum = block_sum_in_order(v, kThreads);
    const float want_twice = block_sum_in_order(doubled.data(), kThreads);
    const float want_max = *std::max_element(v, v + kThreads);
    for (int t = 0; t < kThreads; ++t) {
      const int i = b * kThreads + t;
      EXPECT_EQ(bits(got_sum[i]), bits(want_sum)) << "block " << b << " thread " << t;
      EXPECT_EQ(bits(got_twice[i]), bits(want_twice)) << "block " << b << " thread " << t;
      EXPECT_EQ(bits(got_max[i]), bits(want_max)) << "block " << b << " thread " << t;
    }
  }
}

TEST(Primitives, BlockAllsumAndAllmaxOfTheDefaultBlockGiveEveryThreadTheOrderedResult) {
  check_block_reduces<kBlock>();
}

TEST(Primitives, BlockAllsumAndAllmaxTakeOtherBlockSizes) {
  check_block_reduces<128>();
  check_block_reduces<kWarpSize>();
}

// ---- online softmax -----------------------------------------------------------------------------

__global__ void online_softmax(const float* x, int cols, float* m, float* d) {
  const int lane = static_cast<int>(threadIdx.x);
  MaxSum s{-INFINITY, 0.0f};
  for (int k = lane; k < cols; k += kWarpSize) s = llmlab::cuda::push(s, x[k]);
  s = llmlab::cuda::warp_allmerge(s);
  m[lane] = s.m;
  d[lane] = s.d;
}

TEST(Primitives, WarpAllmergeGivesTheRowsMaxAndSumOfExponentials) {
  // 20 columns: lanes 20 … 31 stay empty; 100: lanes hold 3 or 4; large logits must not overflow.
  for (const int cols : {1, 20, 100, 333}) {
    std::vector<float> x = random_values(static_cast<std::size_t>(cols), 3);
    for (std::size_t k = 0; k < x.size(); k += 7) x[k] += 80.0f;
    const DeviceBuffer<float> in(x), m(kWarpSize), d(kWarpSize);
    ASSERT_EQ(launch(launch_config(dim3(1), dim3(kWarpSize)), online_softmax, in.cget(), cols,
                     m.get(), d.get()),
              cudaSuccess);
    const float want_m = *std::max_element(x.begin(), x.end());
    double want_d = 0.0;
    for (const float v : x) want_d += std::exp(static_cast<double>(v) - want_m);
    const auto got_m = m.download(), got_d = d.download();
    for (int l = 0; l < kWarpSize; ++l) {
      EXPECT_EQ(bits(got_m[l]), bits(want_m)) << cols << " columns, lane " << l;
      EXPECT_NEAR(got_d[l], want_d, 1e-5 * want_d) << cols << " columns, lane " << l;
    }
  }
}

TEST(Primitives, MaskedEntriesAddNothingEvenToALaneThatSeesNoOther) {
  // A masked row: 3 finite logits among 40, the rest −∞ — lanes 3 … 31 see only −∞ (and lanes
  // 0 … 7 a second one). Their state must stay empty rather than turn NaN and poison the merge.
  std::vector<float> x(40, -INFINITY);
  x[0] = 1.0f, x[1] = -2.0f, x[2] = 0.5f;
  const DeviceBuffer<float> in(x), m(kWarpSize), d(kWarpSize);
  ASSERT_EQ(launch(launch_config(dim3(1), dim3(kWarpSize)), online_softmax, in.cget(), 40, m.get(),
                   d.get()),
            cudaSuccess);
  const double want_d = std::exp(0.0) + std::exp(-3.0) + std::exp(-0.5);
  const auto got_m = m.download(), got_d = d.download();
  for (int l = 0; l < kWarpSize; ++l) {
    EXPECT_EQ(got_m[l], 1.0f) << "lane " << l;
    EXPECT_NEAR(got_d[l], want_d, 1e-6 * want_d) << "lane " << l;
  }
}

__global__ void merges(float* out) {
  const MaxSum empty{-INFINITY, 0.0f};
  const MaxSum both_empty = llmlab::cuda::merge(empty, empty);
  const MaxSum one = llmlab::cuda::push(empty, 2.0f);                            // (2, 1)
  const MaxSum two = llmlab::cuda::push(llmlab::cuda::push(empty, 1.0f), 3.0f);  // (3, e^-2 + 1)
  const MaxSum joined = llmlab::cuda::merge(one, two);
  const MaxSum with_empty = llmlab::cuda::merge(empty, one);
  out[0] = both_empty.m;
  out[1] = both_empty.d;
  out[2] = one.m;
  out[3] = one.d;
  out[4] = joined.m;
  out[5] = joined.d;
  out[6] = with_empty.m;
  out[7] = with_empty.d;
}

TEST(Primitives, MergeAndPushFollowTheirFormulas) {
  const DeviceBuffer<float> out(8);
  ASSERT_EQ(launch(launch_config(dim3(1), dim3(1)), merges, out.get()), cudaSuccess);
  const auto got = out.download();
  EXPECT_EQ(got[0], -INFINITY);  // two empty parts stay empty, no NaN
  EXPECT_EQ(got[1], 0.0f);
  EXPECT_EQ(got[2], 2.0f);
  EXPECT_EQ(got[3], 1.0f);
  EXPECT_EQ(got[4], 3.0f);
  EXPECT_NEAR(got[5], std::exp(-1.0) + std::exp(-2.0) + 1.0, 1e-6);  // e^{2-3} + (e^{1-3} + 1)
  EXPECT_EQ(got[6], 2.0f);
  EXPECT_EQ(got[7], 1.0f);
}

// ---- typed loads, stores and adds ---------------------------------------------------------------

__global__ void typed(const float* in, float* f, __nv_bfloat16* b, float* widened,
                      __nv_bfloat16* sums) {
  const int i = static_cast<int>(threadIdx.x);
  llmlab::cuda::store(f + i, in[i]);
  llmlab::cuda::store(b + i, in[i]);
  widened[i] = llmlab::cuda::to_float(b[i]);
  if (i == 0) {
    const __nv_bfloat16 one = __float2bfloat16(1.0f), half_ulp = __float2bfloat16(0x1p-8f);
    const __nv_bfloat16 one_ulp_up = __float2bfloat16(1.0f + 0x1p-7f);
    sums[0] = llmlab::cuda::add(one, half_ulp);         // 1 + 2^-8: a tie, to even (1)
    sums[1] = llmlab::cuda::add(one_ulp_up, half_ulp);  // 1 + 3·2^-8: a tie, to even (1 + 2^-6)
  }
}

TEST(Primitives, StoresAndAddsRoundBf16OnceToNearestEven) {
  // 1 + 2^-8 and 1 + 3·2^-8 are halfway between bf16 neighbours; 1 + 2^-8 + 2^-20 is just above.
  const std::vector<float> in = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -(1.0f + 0x1p-8f),
                                 1.0f + 0x1p-8f + 0x1p-20f, 0.1f};
  const int n = static_cast<int>(in.size());
  const DeviceBuffer<float> x(in), f(n), widened(n);
  const DeviceBuffer<__nv_bfloat16> b(n), sums(2);
  ASSERT_EQ(launch(launch_config(dim3(1), dim3(n)), typed, x.cget(), f.get(), b.get(),
                   widened.get(), sums.get()),
            cudaSuccess);
  const auto got_f = f.download(), got_widened = widened.download();
  const auto got_b = b.download<std::uint16_t>(), got_sums = sums.download<std::uint16_t>();
  const std::vector<std::uint16_t> want_b = {0x3f80, 0x3f82, 0xbf80, 0x3f81, 0x3dcd};
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(bits(got_f[i]), bits(in[i])) << "fp32 store " << i;
    EXPECT_EQ(got_b[i], want_b[i]) << "bf16 store of " << in[i];
    EXPECT_EQ(bits(got_widened[i]), static_cast<std::uint32_t>(want_b[i]) << 16) << i;
  }
  EXPECT_EQ(got_sums[0], 0x3f80);
  EXPECT_EQ(got_sums[1], 0x3f82);
  EXPECT_EQ(from_bits(0x3f820000u), 1.0f + 0x1p-6f);
}

// ---- the launchers' checks and launch configurations (host) -------------------------------------

TEST(Primitives, ChecksThrowTheLaunchersMessages) {
  using namespace llmlab::cuda;
  expect_error([] { check_count("f", "n", -1); }, {"f: n = -1 must be >= 0"});
  EXPECT_NO_THROW(check_count("f", "n", 0));
  expect_error([] { check_version("f", 3, 2); }, {"f: version = 3 but versions are 0 (best) to 2"});
  expect_error([] { check_version("f", -1, 2); }, {"version = -1"});
  EXPECT_EQ(checked_version("f", 0, 2), 2);
  EXPECT_EQ(checked_version("f", 1, 2), 1);

  const float x = 0.0f;
  expect_error(
      [&] {
        check_pointers("f", "n", {4}, {{&x, "a"}, {nullptr, "b"}});
      },
      {"f: b is null but n = 4"});
  expect_error(
      [&] {
        check_pointers("f", "(rows, cols)", {2, 3}, {{nullptr, "x"}});
      },
      {"f: x is null but (rows, cols) = (2, 3)"});
  EXPECT_NO_THROW(check_pointers("f", "(rows, cols)", {2, 0}, {{nullptr, "x"}}));  // no elements
  EXPECT_NO_THROW(check_pointers("f", "n", {4}, {{nullptr, "scratch", false}}));   // not needed
  expect_error(
      [&] {
        check_pointers("f", "(N, in, out) = (2, 3, 2)", {{&x, "x"}, {nullptr, "w"}});
      },
      {"f: w is null but (N, in, out) = (2, 3, 2)"});
}

TEST(Primitives, LaunchConfigurationsHaveTheDocumentedSizes) {
  using namespace llmlab::cuda;
  EXPECT_EQ(thread_per_item_config(257).gridDim.x, 2u);
  EXPECT_EQ(thread_per_item_config(257).blockDim.x, static_cast<unsigned>(kBlock));
  EXPECT_EQ(thread_per_item_config(257, 128).gridDim.x, 3u);
  EXPECT_EQ(thread_per_item_config(257, 128).blockDim.x, 128u);
  EXPECT_EQ(grid_stride_config(0).gridDim.x, 1u);  // at least one block
  EXPECT_EQ(grid_stride_config(5000, 4).gridDim.x, 5u);
  EXPECT_EQ(grid_stride_config(kGridStrideMaxBlocks * kBlock * 4, 4).gridDim.x, 1024u);
  EXPECT_EQ(grid_stride_config(kGridStrideMaxBlocks * kBlock * 40, 4).gridDim.x, 1024u);  // capped
  EXPECT_EQ(grid_stride_config(5000).gridDim.x, 20u);
  EXPECT_EQ(grid_stride_config(5000, 1, 128).blockDim.x, 128u);
}

}  // namespace
