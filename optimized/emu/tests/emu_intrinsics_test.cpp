// Device intrinsics and overloads under the emulator (issue 14): cache-hinted loads and stores, every
// atomicAdd overload, atomicInc/Dec's wrap-around, min/max as CUDA's headers resolve them, the
// fast-math intrinsics within CUDA's documented error bounds yet not libm's results,
// --use_fast_math's mapping, __trap, device assert and device printf.

// This file checks device assert, so it is on whatever the build type says, and it is built the
// way `--use_fast_math` builds (the plain expf/logf/... become the intrinsics).
#undef NDEBUG
#define LLMLAB_EMU_FAST_MATH 1

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <llmlab/cuda/kernel.cuh>
#include <llmlab/testing/device.hpp>
#include <llmlab/testing/env.hpp>

using llmlab::cuda::launch;
using llmlab::cuda::launch_config;

// Kernels outside any anonymous namespace, so that diagnostics can name them.

__global__ void hinted_copy(const float4* in4, float4* out4, const __half2* inh, __half2* outh,
                            const __nv_bfloat162* inb, __nv_bfloat162* outb, const int* in, int* out) {
  const unsigned i = threadIdx.x;
  __stcs(out4 + i, __ldg(in4 + i));
  __stcg(outh + i, __ldcs(inh + i));
  __stwb(outb + i, __ldcg(inb + i));
  __stwt(out + i, __ldca(in + i) + __ldlu(in + i) - __ldcv(in + i));
}

/// One counter per atomicAdd overload, and atomicInc / atomicDec's.
struct Sums {
  int i;                  ///< atomicAdd(int*, int)
  unsigned u;             ///< atomicAdd(unsigned*, unsigned), called with an int
  unsigned long long ull; ///< atomicAdd(unsigned long long*, …)
  float f;                ///< atomicAdd(float*, float)
  double d;               ///< atomicAdd(double*, double)
  __half h;               ///< atomicAdd(__half*, __half)
  __half2 h2;             ///< atomicAdd(__half2*, __half2)
  __nv_bfloat16 b;        ///< atomicAdd(__nv_bfloat16*, …)
  __nv_bfloat162 b2;      ///< atomicAdd(__nv_bfloat162*, …)
  float2 f2;              ///< atomicAdd(float2*, float2)
  float4 f4;              ///< atomicAdd(float4*, float4)
  unsigned inc;           ///< atomicInc's counter
  unsigned dec;           ///< atomicDec's counter
};

__global__ void add_everything(Sums* s) {
  atomicAdd(&s->i, -1);
  atomicAdd(&s->u, 1);  // unsigned* with an int argument: CUDA's overload set takes it
  atomicAdd(&s->ull, 1ull << 33);
  atomicAdd(&s->f, 0.5f);
  atomicAdd(&s->d, 0.25);
  atomicAdd(&s->h, __float2half(1.0f));
  atomicAdd(&s->h2, __half2(__float2half(1.0f), __float2half(2.0f)));
  atomicAdd(&s->b, __float2bfloat16(1.0f));
  atomicAdd(&s->b2, __nv_bfloat162(__float2bfloat16(1.0f), __float2bfloat16(-1.0f)));
  atomicAdd(&s->f2, float2{1.0f, 2.0f});
  atomicAdd(&s->f4, float4{1.0f, 2.0f, 3.0f, 4.0f});
  atomicInc(&s->inc, 3u);
  atomicDec(&s->dec, 3u);
}

__global__ void trap_in_block_1_thread_3() {
  if (blockIdx.x == 1 && threadIdx.x == 3) __trap();
}

__global__ void assert_below_five(int* out) {
  assert(threadIdx.x < 5);
  out[threadIdx.x] = 1;
}

__global__ void print_twice() {
  printf("block %u thread %u first\n", blockIdx.x, threadIdx.x);
  __syncthreads();  // every thread prints its first line before any prints its second
  printf("block %u thread %u second\n", blockIdx.x, threadIdx.x);
}

namespace {

using llmlab::testing::ScopedEnv;

TEST(Intrinsics, CacheHintedLoadsAndStoresMoveScalarsAndVectors) {
  const int n = 8;
  std::vector<float4> h4(n);
  std::vector<__half2> hh(n);
  std::vector<__nv_bfloat162> hb(n);
  std::vector<int> hi(n);
  for (int i = 0; i < n; ++i) {
    h4[i] = float4{float(i), float(i + 1), float(i + 2), float(i + 3)};
    hh[i] = __half2(__float2half(float(i)), __float2half(float(-i)));
    hb[i] = __nv_bfloat162(__float2bfloat16(float(2 * i)), __float2bfloat16(0.5f));
    hi[i] = 10 * i;
  }
  llmlab::testing::DeviceBuffer<float4> in4(h4), out4(n);
  llmlab::testing::DeviceBuffer<__half2> inh(hh), outh(n);
  llmlab::testing::DeviceBuffer<__nv_bfloat162> inb(hb), outb(n);
  llmlab::testing::DeviceBuffer<int> in(hi), out(n);
  ASSERT_EQ(launch(launch_config(1, n), hinted_copy, in4.get(), out4.get(), inh.get(), outh.get(), inb.get(),
                   outb.get(), in.get(), out.get()),
            cudaSuccess);
  const auto r4 = out4.download();
  const auto rh = outh.download();
  const auto rb = outb.download();
  const auto ri = out.download();
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(r4[i].w, float(i + 3));
    EXPECT_EQ(__half2float(rh[i].y), float(-i));
    EXPECT_EQ(__bfloat162float(rb[i].x), float(2 * i));
    EXPECT_EQ(ri[i], 10 * i);
  }
}

TEST(Intrinsics, EveryAtomicAddOverloadAndIncDecWrapAround) {
  Sums zero{};
  std::memset(static_cast<void*>(&zero), 0, sizeof zero);
  llmlab::testing::DeviceBuffer<Sums> s(std::vector<Sums>{zero});
  const int threads = 10;
  ASSERT_EQ(launch(launch_config(1, threads), add_everything, s.get()), cudaSuccess)
      << llmlab::emu::last_diagnostic();
  const Sums r = s.download()[0];
  EXPECT_EQ(r.i, -threads);
  EXPECT_EQ(r.u, 10u);
  EXPECT_EQ(r.ull, 10ull << 33);
  EXPECT_EQ(r.f, 5.0f);
  EXPECT_EQ(r.d, 2.5);
  EXPECT_EQ(__half2float(r.h), 10.0f);
  EXPECT_EQ(__half2float(r.h2.x), 10.0f);
  EXPECT_EQ(__half2float(r.h2.y), 20.0f);
  EXPECT_EQ(__bfloat162float(r.b), 10.0f);
  EXPECT_EQ(__bfloat162float(r.b2.y), -10.0f);
  EXPECT_EQ(r.f2.y, 20.0f);
  EXPECT_EQ(r.f4.w, 40.0f);
  // atomicInc(·, 3) counts 0,1,2,3,0,…: after 10 increments 10 mod 4 = 2. atomicDec(·, 3) from 0
  // wraps to 3 and counts down: 0→3→2→1→0→3→…, after 10 decrements also 2.
  EXPECT_EQ(r.inc, 2u);
  EXPECT_EQ(r.dec, 2u);
}

TEST(Intrinsics, MinMaxResolveAsCudasHeaders) {
  static_assert(std::is_same_v<decltype(min(1, 2u)), unsigned>);
  static_assert(std::is_same_v<decltype(max(1u, 2)), unsigned>);
  static_assert(std::is_same_v<decltype(min(1ll, 2ull)), unsigned long long>);
  static_assert(std::is_same_v<decltype(min(1.0f, 2.0)), double>);
  static_assert(std::is_same_v<decltype(max(1.0f, 2.0f)), float>);
  static_assert(std::is_same_v<decltype(min(1l, 2l)), long>);
  EXPECT_EQ(min(-1, 1u), 1u) << "mixed signedness compares as unsigned: -1 is 0xffffffff";
  EXPECT_EQ(max(-1, 1u), 0xffffffffu);
  EXPECT_EQ(min(-3, 2), -3);
  EXPECT_EQ(max(-1ll, 5ull), 0xffffffffffffffffull);
  EXPECT_EQ(min(std::numeric_limits<float>::quiet_NaN(), 1.0f), 1.0f) << "fminf ignores a NaN";
  EXPECT_EQ(max(2.0, 3.0f), 3.0);
}

/// |got − exact| in units of the last place of the correctly rounded float result.
double ulps(float got, double exact) {
  const float rounded = static_cast<float>(exact);
  const double ulp = std::ldexp(1.0, std::ilogb(rounded) - 23);
  return std::fabs(static_cast<double>(got) - exact) / ulp;
}

std::vector<float> sweep(float lo, float hi, int n) {
  std::vector<float> xs;
  for (int i = 0; i < n; ++i) xs.push_back(lo + (hi - lo) * (static_cast<float>(i) + 0.37f) / static_cast<float>(n));
  return xs;
}

TEST(Intrinsics, FastExpStaysWithinCudasBoundButIsNotLibm) {
  int differs = 0;
  const auto xs = sweep(-80.0f, 80.0f, 20000);
  for (const float x : xs) {
    const double exact = std::exp(static_cast<double>(x));
    EXPECT_LE(ulps(__expf(x), exact), 2.0 + std::floor(std::fabs(1.173 * x))) << "x = " << x;
    differs += __expf(x) != static_cast<float>(exact);
  }
  EXPECT_GT(differs, static_cast<int>(xs.size()) / 2) << "__expf must not be the correctly rounded expf";
  for (const float x : sweep(-30.0f, 30.0f, 5000))
    EXPECT_LE(ulps(__exp10f(x), std::pow(10.0, static_cast<double>(x))), 2.0 + std::floor(std::fabs(2.97 * x)))
        << "x = " << x;
}

TEST(Intrinsics, FastLogsStayWithinCudasBounds) {
  int differs = 0;
  for (const float x : sweep(0.5f, 2.0f, 5000)) {
    EXPECT_LE(std::fabs(__logf(x) - std::log(static_cast<double>(x))), std::exp2(-21.41)) << x;
    EXPECT_LE(std::fabs(__log2f(x) - std::log2(static_cast<double>(x))), std::exp2(-22.0)) << x;
    EXPECT_LE(std::fabs(__log10f(x) - std::log10(static_cast<double>(x))), std::exp2(-24.0)) << x;
    differs += __logf(x) != static_cast<float>(std::log(static_cast<double>(x)));
  }
  EXPECT_GT(differs, 1000);
  for (const float x : sweep(2.5f, 1e6f, 5000)) {
    EXPECT_LE(ulps(__logf(x), std::log(static_cast<double>(x))), 3.0) << x;
    EXPECT_LE(ulps(__log2f(x), std::log2(static_cast<double>(x))), 2.0) << x;
    EXPECT_LE(ulps(__log10f(x), std::log10(static_cast<double>(x))), 3.0) << x;
  }
}

TEST(Intrinsics, FastSinCosStayWithinCudasBoundsOnMinusPiToPi) {
  int differs = 0;
  for (const float x : sweep(-3.14159f, 3.14159f, 10000)) {
    EXPECT_LE(std::fabs(__sinf(x) - std::sin(static_cast<double>(x))), std::exp2(-21.41)) << x;
    EXPECT_LE(std::fabs(__cosf(x) - std::cos(static_cast<double>(x))), std::exp2(-21.19)) << x;
    float s, c;
    __sincosf(x, &s, &c);
    EXPECT_EQ(s, __sinf(x));
    EXPECT_EQ(c, __cosf(x));
    differs += __sinf(x) != static_cast<float>(std::sin(static_cast<double>(x)));
  }
  EXPECT_GT(differs, 5000);
  // Outside [-π, π] the hardware's reduction by a float 2π makes the error grow with |x|.
  EXPECT_GT(std::fabs(__sinf(100000.0f) - std::sin(100000.0)), std::exp2(-21.41));
  EXPECT_NEAR(__tanf(0.5f), std::tan(0.5), 1e-6);
  EXPECT_NEAR(__powf(2.0f, 10.0f), 1024.0, 1024.0 * 1e-6);
}

TEST(Intrinsics, FastDivideAndSaturate) {
  for (const float y : sweep(-1e30f, 1e30f, 2001)) {
    if (std::fabs(y) < std::ldexp(1.0f, -126)) continue;
    EXPECT_LE(ulps(__fdividef(3.0f, y), 3.0 / static_cast<double>(y)), 2.0) << y;
  }
  EXPECT_EQ(__fdividef(1.0f, std::ldexp(1.0f, 127)), 0.0f) << "for 2^126 < |y| < 2^128 the result is 0";
  EXPECT_TRUE(std::isnan(__fdividef(INFINITY, std::ldexp(1.0f, 127))));
  EXPECT_EQ(__saturatef(std::numeric_limits<float>::quiet_NaN()), 0.0f);
  EXPECT_EQ(__saturatef(1.5f), 1.0f);
  EXPECT_EQ(__saturatef(-2.0f), 0.0f);
  EXPECT_EQ(__saturatef(0.25f), 0.25f);
}

TEST(Intrinsics, UseFastMathMapsThePlainCalls) {
  // This file defines LLMLAB_EMU_FAST_MATH (what llmlab-nvcc --use_fast_math defines).
  for (const float x : {0.3f, 1.7f, 12.5f, -4.25f}) {
    EXPECT_EQ(expf(x), __expf(x));
    EXPECT_EQ(std::expf(x), __expf(x));
    EXPECT_EQ(logf(x + 5.0f), __logf(x + 5.0f));
    EXPECT_EQ(sinf(x), __sinf(x));
    EXPECT_EQ(powf(x + 5.0f, 1.5f), __powf(x + 5.0f, 1.5f));
  }
}

TEST(Intrinsics, TrapFailsTheLaunchNamingBlockAndThread) {
  ScopedEnv quiet("LLMLAB_EMU_QUIET", "1");
  EXPECT_EQ(launch(launch_config(2, 8), trap_in_block_1_thread_3), cudaErrorLaunchFailure);
  const std::string why = llmlab::emu::last_diagnostic();
  EXPECT_NE(why.find("trap_in_block_1_thread_3"), std::string::npos) << why;
  EXPECT_NE(why.find("block (1,0,0)"), std::string::npos) << why;
  EXPECT_NE(why.find("thread (3,0,0)"), std::string::npos) << why;
  EXPECT_NE(why.find("__trap() at"), std::string::npos) << why;
  EXPECT_NE(why.find("emu_intrinsics_test.cpp"), std::string::npos) << why;
  cudaGetLastError();
}

TEST(Intrinsics, FailedDeviceAssertFailsTheLaunchInsteadOfAborting) {
  ScopedEnv quiet("LLMLAB_EMU_QUIET", "1");
  llmlab::testing::DeviceBuffer<int> out(8);
  EXPECT_EQ(launch(launch_config(1, 8), assert_below_five, out.get()), cudaErrorLaunchFailure);
  const std::string why = llmlab::emu::last_diagnostic();
  EXPECT_NE(why.find("assert_below_five"), std::string::npos) << why;
  EXPECT_NE(why.find("assert(threadIdx.x < 5) failed"), std::string::npos) << why;
  EXPECT_NE(why.find("emu_intrinsics_test.cpp:"), std::string::npos) << why;
  EXPECT_NE(why.find("thread ("), std::string::npos) << why;
  cudaGetLastError();
}

TEST(Intrinsics, DevicePrintfIsOrderedByBlockThenThreadWhateverTheSchedule) {
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(launch(launch_config(2, 3), print_twice), cudaSuccess);
  const std::string out = ::testing::internal::GetCapturedStdout();
  std::string want;
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 3; ++t)
      want += "block " + std::to_string(b) + " thread " + std::to_string(t) + " first\nblock " +
              std::to_string(b) + " thread " + std::to_string(t) + " second\n";
  EXPECT_EQ(out, want);
}

}  // namespace
