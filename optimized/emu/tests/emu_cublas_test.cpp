// The emulator's cuBLAS / cuBLASLt subset against a naive column-major GEMM written here, in double,
// straight from cuBLAS's definition C = α op(A) op(B) + β C: every transpose combination,
// non-square shapes, leading dimensions larger than the minimum, batched strides, bf16/fp16 inputs
// with fp32 compute, bf16 rounding of outputs, TF32 math mode and the cuBLASLt epilogues. Host API
// only, so the same file also compiles and links against the real libcublas (CMakeLists.txt).

#if LLMLAB_EMU
#include <llmlab/cuda/kernel.cuh>  // first: the emulator's definitions come before CUDA's headers
#include <llmlab/emu/cublas.hpp>
#endif
#include <cublasLt.h>
#include <cublas_v2.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#if !LLMLAB_EMU
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#endif

namespace {

/// Host vector copied to device memory and back.
template <class T>
struct Device {
  explicit Device(const std::vector<T>& host) : n(host.size()) {
    EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(p, host.data(), n * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~Device() { cudaFree(p); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  std::vector<T> get() const {
    std::vector<T> host(n);
    EXPECT_EQ(cudaMemcpy(host.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }
  std::size_t n;
  T* p = nullptr;
};

std::vector<float> random_floats(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

double as_double(float x) { return x; }
double as_double(__nv_bfloat16 x) { return __bfloat162float(x); }
double as_double(__half x) { return __half2float(x); }

/// The definition: C(i, j) = α Σ_l op(A)(i, l) op(B)(l, j) + β C(i, j), column-major, in double.
template <class In, class Out>
std::vector<double> naive_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const std::vector<In>& a,
                               int lda, const std::vector<In>& b, int ldb, double beta,
                               const std::vector<Out>& c, int ldc) {
  std::vector<double> out(static_cast<std::size_t>(ldc) * n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int l = 0; l < k; ++l) {
        const double x = as_double(ta ? a[l + i * lda] : a[i + l * lda]);
        const double y = as_double(tb ? b[j + l * ldb] : b[l + j * ldb]);
        s += x * y;
      }
      out[i + j * ldc] = alpha * s + (beta != 0 ? beta * as_double(c[i + j * ldc]) : 0.0);
    }
  return out;
}

template <class T>
std::vector<T> convert(const std::vector<float>& v) {
  std::vector<T> out;
  for (float x : v) {
    if constexpr (std::is_same_v<T, __nv_bfloat16>) out.push_back(__float2bfloat16(x));
    else if constexpr (std::is_same_v<T, __half>) out.push_back(__float2half(x));
    else out.push_back(x);
  }
  return out;
}

class Cublas : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS); }
  void TearDown() override { EXPECT_EQ(cublasDestroy(handle), CUBLAS_STATUS_SUCCESS); }
  cublasHandle_t handle = nullptr;
};

TEST_F(Cublas, SgemmMatchesTheDefinitionForEveryTransposeAndPaddedLeadingDimensions) {
  const int m = 5, n = 7, k = 3;
  for (const bool ta : {false, true})
    for (const bool tb : {false, true}) {
      const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 3, ldc = m + 1;
      const auto a = random_floats(static_cast<std::size_t>(lda) * (ta ? m : k), 1);
      const auto b = random_floats(static_cast<std::size_t>(ldb) * (tb ? k : n), 2);
      const auto c = random_floats(static_cast<std::size_t>(ldc) * n, 3);
      Device<float> da(a), db(b), dc(c);
      const float alpha = 1.5f, beta = -0.75f;
      ASSERT_EQ(cublasSgemm(handle, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m,
                            n, k, &alpha, da.p, lda, db.p, ldb, &beta, dc.p, ldc),
                CUBLAS_STATUS_SUCCESS);
      const auto want = naive_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      const auto got = dc.get();
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < ldc; ++i) {
          const std::size_t at = static_cast<std::size_t>(i + j * ldc);
          if (i < m)
            EXPECT_NEAR(got[at], want[at], 1e-5) << "ta=" << ta << " tb=" << tb << " (" << i << ',' << j << ')';
          else
            EXPECT_EQ(got[at], c[at]) << "padding row " << i << " of column " << j << " was written";
        }
    }
}

TEST_F(Cublas, BetaZeroDoesNotReadC) {
  const int m = 3, n = 2, k = 4;
  const auto a = random_floats(m * k, 4), b = random_floats(k * n, 5);
  Device<float> da(a), db(b), dc(std::vector<float>(m * n, NAN));
  const float alpha = 1.0f, beta = 0.0f;
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da.p, m, db.p, k, &beta, dc.p, m),
            CUBLAS_STATUS_SUCCESS);
  for (float x : dc.get()) EXPECT_FALSE(std::isnan(x));
}

TEST_F(Cublas, SgemmStridedBatchedUsesEachBatchsStride) {
  const int m = 4, n = 3, k = 5, batch = 3;
  const long long sa = m * k + 7, sb = k * n + 5, sc = m * n + 3;  // gaps between the matrices
  const auto a = random_floats(sa * batch, 6), b = random_floats(sb * batch, 7), c = random_floats(sc * batch, 8);
  Device<float> da(a), db(b), dc(c);
  const float alpha = 0.5f, beta = 2.0f;
  ASSERT_EQ(cublasSgemmStridedBatched(handle, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, da.p, k, sa, db.p, k,
                                      sb, &beta, dc.p, m, sc, batch),
            CUBLAS_STATUS_SUCCESS);
  const auto got = dc.get();
  for (int i = 0; i < batch; ++i) {
    const std::vector<float> ai(a.begin() + i * sa, a.begin() + i * sa + m * k);
    const std::vector<float> bi(b.begin() + i * sb, b.begin() + i * sb + k * n);
    const std::vector<float> ci(c.begin() + i * sc, c.begin() + i * sc + m * n);
    const auto want = naive_gemm(true, false, m, n, k, alpha, ai, k, bi, k, beta, ci, m);
    for (int e = 0; e < m * n; ++e) EXPECT_NEAR(got[i * sc + e], want[e], 1e-5) << "batch " << i;
    for (long long e = m * n; e < sc; ++e) EXPECT_EQ(got[i * sc + e], c[i * sc + e]) << "gap written";
  }
}

TEST_F(Cublas, GemmExBf16InputsWithBf16OutputRoundOnce) {
  const int m = 6, n = 5, k = 33;
  const auto a = convert<__nv_bfloat16>(random_floats(k * m, 9));
  const auto b = convert<__nv_bfloat16>(random_floats(k * n, 10));
  const auto c = convert<__nv_bfloat16>(random_floats(m * n, 11));
  Device<__nv_bfloat16> da(a), db(b), dc(c);
  const float alpha = 1.0f, beta = 1.0f;
  ASSERT_EQ(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &alpha, da.p, CUDA_R_16BF, k, db.p,
                         CUDA_R_16BF, k, &beta, dc.p, CUDA_R_16BF, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  const auto want = naive_gemm(true, false, m, n, k, alpha, a, k, b, k, beta, c, m);
  const auto got = dc.get();
  int exact = 0;
  for (int e = 0; e < m * n; ++e) {
    const float rounded = __bfloat162float(__float2bfloat16(static_cast<float>(want[e])));
    const double ulp = std::ldexp(1.0, std::ilogb(rounded) - 7);  // bf16 has 8 significant bits
    // fp32 accumulation may put the sum across a bf16 rounding boundary: one bf16 ulp at most.
    EXPECT_LE(std::fabs(__bfloat162float(got[e]) - rounded), ulp) << "element " << e;
    exact += __bfloat162float(got[e]) == rounded;
  }
  EXPECT_GE(exact, m * n * 9 / 10) << "the output is rounded once from an fp32 sum";
}

TEST_F(Cublas, GemmExFp16InputsWithFp32Output) {
  const int m = 4, n = 6, k = 7;
  const auto a = convert<__half>(random_floats(m * k, 12)), b = convert<__half>(random_floats(n * k, 13));
  const auto c = random_floats(m * n, 14);
  Device<__half> da(a), db(b);
  Device<float> dc(c);
  const float alpha = 2.0f, beta = 0.5f;
  ASSERT_EQ(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_T, m, n, k, &alpha, da.p, CUDA_R_16F, m, db.p, CUDA_R_16F,
                         n, &beta, dc.p, CUDA_R_32F, m, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  const auto want = naive_gemm(false, true, m, n, k, alpha, a, m, b, n, beta, c, m);
  const auto got = dc.get();
  for (int e = 0; e < m * n; ++e) EXPECT_NEAR(got[e], want[e], 1e-5) << "element " << e;
}

TEST_F(Cublas, GemmStridedBatchedExBf16) {
  const int m = 3, n = 4, k = 8, batch = 2;
  const long long sa = m * k, sb = k * n + 2, sc = m * n + 1;
  const auto a = convert<__nv_bfloat16>(random_floats(sa * batch, 15));
  const auto b = convert<__nv_bfloat16>(random_floats(sb * batch, 16));
  const std::vector<float> c(sc * batch, 0.0f);
  Device<__nv_bfloat16> da(a), db(b);
  Device<float> dc(c);
  const float alpha = 1.0f, beta = 0.0f;
  ASSERT_EQ(cublasGemmStridedBatchedEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &alpha, da.p, CUDA_R_16BF, m, sa,
                                       db.p, CUDA_R_16BF, k, sb, &beta, dc.p, CUDA_R_32F, m, sc, batch,
                                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_SUCCESS);
  const auto got = dc.get();
  for (int i = 0; i < batch; ++i) {
    const std::vector<__nv_bfloat16> ai(a.begin() + i * sa, a.begin() + i * sa + m * k);
    const std::vector<__nv_bfloat16> bi(b.begin() + i * sb, b.begin() + i * sb + k * n);
    const auto want = naive_gemm(false, false, m, n, k, alpha, ai, m, bi, k, beta, std::vector<float>(m * n), m);
    for (int e = 0; e < m * n; ++e) EXPECT_NEAR(got[i * sc + e], want[e], 1e-5) << "batch " << i;
  }
}

TEST_F(Cublas, Tf32MathModeRoundsTheInputs) {
  // 1 + 2^-20 is exact in fp32 but becomes 1 in TF32 (10 mantissa bits): the product shows which.
  const float x = 1.0f + std::ldexp(1.0f, -20);
  Device<float> da(std::vector<float>{x}), db(std::vector<float>{x}), dc(std::vector<float>{0.0f});
  const float alpha = 1.0f, beta = 0.0f;
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &alpha, da.p, 1, db.p, 1, &beta, dc.p, 1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(dc.get()[0], x * x) << "default math: fp32 inputs as they are";
  ASSERT_EQ(cublasSetMathMode(handle, CUBLAS_TF32_TENSOR_OP_MATH), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &alpha, da.p, 1, db.p, 1, &beta, dc.p, 1),
            CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(dc.get()[0], 1.0f) << "TF32 math: the inputs lose their low mantissa bits";
}

TEST_F(Cublas, BadLeadingDimensionIsInvalidValue) {
  Device<float> d(std::vector<float>(16, 0.0f));
  const float alpha = 1.0f, beta = 0.0f;
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 2, 2, &alpha, d.p, 3, d.p, 2, &beta, d.p, 4),
            CUBLAS_STATUS_INVALID_VALUE);
}

#if LLMLAB_EMU
TEST_F(Cublas, UnsupportedComputeTypeIsRefusedAndNamed) {
  Device<double> d(std::vector<double>(4, 0.0));
  const double alpha = 1.0, beta = 0.0;
  EXPECT_EQ(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 1, &alpha, d.p, CUDA_R_64F, 2, d.p, CUDA_R_64F, 1,
                         &beta, d.p, CUDA_R_64F, 2, CUBLAS_COMPUTE_64F, CUBLAS_GEMM_DEFAULT),
            CUBLAS_STATUS_NOT_SUPPORTED);
  EXPECT_NE(llmlab::emu::cublas_last_message().find("cublasGemmEx"), std::string::npos)
      << llmlab::emu::cublas_last_message();
}

// Shapes cuBLAS accepts but buffers too small for them: a GPU reads or writes past the buffer (a
// fault, or a neighbour's bytes); the emulator refuses before writing anything and names the operand.
TEST_F(Cublas, OperandPastItsBufferIsNamedAndNothingIsWritten) {
  Device<float> a(std::vector<float>(4 * 3 - 1, 1.0f));  // A (4, 3) needs 12 floats: one short
  Device<float> b(std::vector<float>(3 * 2, 1.0f));
  Device<float> d(std::vector<float>(4 * 2, 7.0f));
  const float alpha = 1.0f, beta = 0.0f;
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 2, 3, &alpha, a.p, 4, b.p, 3, &beta, d.p, 4),
            CUBLAS_STATUS_EXECUTION_FAILED);
  const std::string why = llmlab::emu::cublas_last_message();
  EXPECT_NE(why.find("cublasSgemm: the A operand range of 48 bytes"), std::string::npos) << why;
  EXPECT_NE(why.find("outside its 44 bytes"), std::string::npos) << why;
  for (float x : d.get()) EXPECT_EQ(x, 7.0f);

  // The output's last column past its buffer (ldc larger than the buffer allows).
  Device<float> a_ok(std::vector<float>(4 * 3, 1.0f));
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 2, 3, &alpha, a_ok.p, 4, b.p, 3, &beta, d.p, 5),
            CUBLAS_STATUS_EXECUTION_FAILED);
  EXPECT_NE(llmlab::emu::cublas_last_message().find("D (output) operand"), std::string::npos)
      << llmlab::emu::cublas_last_message();

  // A batch whose last matrix runs past the buffer: every batch item is checked before it runs.
  Device<float> batched(std::vector<float>(2 * 4 * 2, 0.0f));  // room for 2 outputs, asked for 3
  EXPECT_EQ(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, 4, 2, 3, &alpha, a_ok.p, 4, 0,
                                      b.p, 3, 0, &beta, batched.p, 4, 8, 3),
            CUBLAS_STATUS_EXECUTION_FAILED);
  EXPECT_NE(llmlab::emu::cublas_last_message().find("outside its 64 bytes"), std::string::npos)
      << llmlab::emu::cublas_last_message();
  for (float x : batched.get()) EXPECT_EQ(x, 0.0f);  // not even the items that fit were written
}

TEST_F(Cublas, AbsurdSizesFailWithAStatusNotACrash) {
  // 2^30 × 2^30 fp32: shapes cuBLAS's int arguments allow, far beyond any buffer here.
  Device<float> d(std::vector<float>(16, 0.0f));
  const float alpha = 1.0f, beta = 0.0f;
  const int huge = 1 << 30;
  EXPECT_EQ(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, huge, huge, 1, &alpha, d.p, huge, d.p, 1, &beta,
                        d.p, huge),
            CUBLAS_STATUS_EXECUTION_FAILED);
}
#endif

// ---- cuBLASLt ----------------------------------------------------------------------------------

double gelu_tanh(double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x))); }

struct LtCase {
  cublasLtEpilogue_t epilogue;
  bool bias, gelu;
};

class CublasLt : public ::testing::TestWithParam<LtCase> {};

// llm.c's layout: D (m = out channels, n = tokens) = Wᵀ-stored A transposed × B, bf16 in and out.
TEST_P(CublasLt, MatmulWithEpilogueMatchesTheDefinition) {
  const LtCase p = GetParam();
  const int m = 6, n = 5, k = 12;
  const auto a = convert<__nv_bfloat16>(random_floats(k * m, 20));  // stored k × m, used transposed
  const auto b = convert<__nv_bfloat16>(random_floats(k * n, 21));
  const auto bias = convert<__nv_bfloat16>(random_floats(m, 22));
  const auto c = convert<__nv_bfloat16>(random_floats(m * n, 23));
  Device<__nv_bfloat16> da(a), db(b), dbias(bias), dc(c), dd(std::vector<__nv_bfloat16>(m * n));
  cublasLtHandle_t lt;
  ASSERT_EQ(cublasLtCreate(&lt), CUBLAS_STATUS_SUCCESS);
  cublasLtMatmulDesc_t desc;
  ASSERT_EQ(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), CUBLAS_STATUS_SUCCESS);
  const cublasOperation_t t = CUBLAS_OP_T, nop = CUBLAS_OP_N;
  ASSERT_EQ(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &nop, sizeof nop), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &p.epilogue, sizeof p.epilogue),
            CUBLAS_STATUS_SUCCESS);
  const void* bias_ptr = dbias.p;
  if (p.bias) {
    ASSERT_EQ(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias_ptr, sizeof bias_ptr),
              CUBLAS_STATUS_SUCCESS);
  }
  cublasLtMatrixLayout_t la, lb, lc;
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, k, m, k), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, k, n, k), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasLtMatrixLayoutCreate(&lc, CUDA_R_16BF, m, n, m), CUBLAS_STATUS_SUCCESS);
  cublasLtMatmulPreference_t pref;
  ASSERT_EQ(cublasLtMatmulPreferenceCreate(&pref), CUBLAS_STATUS_SUCCESS);
  const std::uint64_t workspace = 1 << 20;
  ASSERT_EQ(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                                 sizeof workspace),
            CUBLAS_STATUS_SUCCESS);
  cublasLtMatmulHeuristicResult_t heuristic;
  int found = 0;
  ASSERT_EQ(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, lc, lc, pref, 1, &heuristic, &found),
            CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(found, 1);
  const float alpha = 1.0f, beta = 0.5f;
  ASSERT_EQ(cublasLtMatmul(lt, desc, &alpha, da.p, la, db.p, lb, &beta, dc.p, lc, dd.p, lc, &heuristic.algo,
                           nullptr, 0, nullptr),
            CUBLAS_STATUS_SUCCESS);
  const auto got = dd.get();
  auto want = naive_gemm(true, false, m, n, k, alpha, a, k, b, k, beta, c, m);
  int exact = 0;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double v = want[i + j * m] + (p.bias ? as_double(bias[i]) : 0.0);
      if (p.gelu) v = gelu_tanh(v);
      const float rounded = __bfloat162float(__float2bfloat16(static_cast<float>(v)));
      const double ulp = std::ldexp(1.0, std::ilogb(rounded) - 7);
      EXPECT_LE(std::fabs(__bfloat162float(got[i + j * m]) - rounded), ulp) << '(' << i << ',' << j << ')';
      exact += __bfloat162float(got[i + j * m]) == rounded;
    }
  EXPECT_GE(exact, m * n * 9 / 10);
  cublasLtMatmulPreferenceDestroy(pref);
  cublasLtMatrixLayoutDestroy(la);
  cublasLtMatrixLayoutDestroy(lb);
  cublasLtMatrixLayoutDestroy(lc);
  cublasLtMatmulDescDestroy(desc);
  cublasLtDestroy(lt);
}

INSTANTIATE_TEST_SUITE_P(Epilogues, CublasLt,
                         ::testing::Values(LtCase{CUBLASLT_EPILOGUE_DEFAULT, false, false},
                                           LtCase{CUBLASLT_EPILOGUE_BIAS, true, false},
                                           LtCase{CUBLASLT_EPILOGUE_GELU, false, true},
                                           LtCase{CUBLASLT_EPILOGUE_GELU_BIAS, true, true}),
                         [](const auto& info) {
                           return std::string(info.param.bias ? "Bias" : "") + (info.param.gelu ? "Gelu" : "") +
                                  (!info.param.bias && !info.param.gelu ? "Plain" : "");
                         });

}  // namespace
