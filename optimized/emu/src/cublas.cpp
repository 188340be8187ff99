// A cuBLAS / cuBLASLt subset on the CPU for emulated programs (libllmlab_emu_cublas): the toolkit's
// cublas_v2.h and cublasLt.h declare, this file defines. Every GEMM goes through one path: the
// operands are read as stored (column-major, cuBLAS's leading dimensions and transposes), converted
// to float where they are bf16/fp16 (or rounded to TF32/bf16/fp16 where the compute type or math
// mode allows cuBLAS to), multiplied by OpenBLAS's cblas_sgemm (fp32, as cuBLAS computes with
// CUBLAS_COMPUTE_32F), then α·AB + β·C (+ bias, then the epilogue) is rounded once to the output
// type. Unsupported calls, types and attributes return CUBLAS_STATUS_NOT_SUPPORTED and say which
// (stderr unless LLMLAB_EMU_QUIET, and llmlab::emu::cublas_last_message()).

// First: the emulator's definitions come before the toolkit's headers (memory.hpp includes emu.hpp).
#include "memory.hpp"

#include <cblas.h>
#include <cublasLt.h>
#include <cublas_v2.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "llmlab/emu/cublas.hpp"
#include "racecheck.hpp"

/// What a cublasHandle_t points to under the emulator: the settings cuBLAS keeps per handle.
struct cublasContext {
  cudaStream_t stream = nullptr;                                ///< cublasSetStream's (unused)
  cublasMath_t math = CUBLAS_DEFAULT_MATH;                      ///< cublasSetMathMode's
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;  ///< cublasSetPointerMode's
};
/// What a cublasLtHandle_t points to under the emulator (no state).
struct cublasLtContext {};

namespace llmlab::emu {
namespace {
std::mutex message_mutex;
std::string message;

cublasStatus_t fail(cublasStatus_t status, const std::string& text) {
  {
    std::lock_guard lock(message_mutex);
    message = "llmlab emu cuBLAS: " + text;
  }
  if (!std::getenv("LLMLAB_EMU_QUIET")) std::fprintf(stderr, "llmlab emu cuBLAS: %s\n", text.c_str());
  return status;
}
cublasStatus_t unsupported(const std::string& text) { return fail(CUBLAS_STATUS_NOT_SUPPORTED, text); }

// How the inputs may be rounded before an fp32 multiply (what cuBLAS's fast compute types and the
// TF32 math mode allow; cuBLAS on a tensor-core GPU does round them).
enum class InputRounding { none, tf32, bf16, fp16 };

float tf32(float x) {  // cvt.rna.tf32.f32: 10 mantissa bits, to nearest, ties away from zero
  if (!std::isfinite(x)) return x;
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  b = (b + 0x1000u) & ~0x1fffu;
  std::memcpy(&x, &b, 4);
  return x;
}

float load(cudaDataType_t type, const void* p, std::int64_t i) {
  switch (type) {
    case CUDA_R_32F: return static_cast<const float*>(p)[i];
    case CUDA_R_16BF: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    default: return __half2float(static_cast<const __half*>(p)[i]);  // CUDA_R_16F
  }
}

void store(cudaDataType_t type, void* p, std::int64_t i, float v) {
  switch (type) {
    case CUDA_R_32F: static_cast<float*>(p)[i] = v; break;
    case CUDA_R_16BF: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(v); break;
    default: static_cast<__half*>(p)[i] = __float2half(v); break;
  }
}

std::size_t type_size(cudaDataType_t type) { return type == CUDA_R_32F ? 4 : 2; }

bool supported_type(cudaDataType_t t) { return t == CUDA_R_32F || t == CUDA_R_16BF || t == CUDA_R_16F; }

const char* type_name(cudaDataType_t t) {
  switch (t) {
    case CUDA_R_32F: return "CUDA_R_32F";
    case CUDA_R_16BF: return "CUDA_R_16BF";
    case CUDA_R_16F: return "CUDA_R_16F";
    default: return "a data type outside the subset (CUDA_R_32F, CUDA_R_16BF, CUDA_R_16F)";
  }
}

/// A stored column-major matrix operand.
struct Matrix {
  cudaDataType_t type;
  const void* data;
  std::int64_t ld;
};

enum class Epilogue { none, relu, gelu };

/// One GEMM: D = epilogue(α op(A) op(B) + β C + bias), D (m, n) column-major.
struct Gemm {
  cublasOperation_t ta, tb;
  std::int64_t m, n, k;
  float alpha, beta;
  Matrix a, b, c;
  cudaDataType_t d_type;
  void* d;
  std::int64_t ldd;
  InputRounding rounding = InputRounding::none;
  Epilogue epilogue = Epilogue::none;
  cudaDataType_t bias_type = CUDA_R_32F;
  const void* bias = nullptr;  // m elements, added to every column
};

/// Checks one GEMM's shapes and types; "" if cuBLAS would accept it.
cublasStatus_t check(const char* call, const Gemm& g) {
  if (g.ta != CUBLAS_OP_N && g.ta != CUBLAS_OP_T)
    return unsupported(std::string(call) + ": transa must be CUBLAS_OP_N or CUBLAS_OP_T (real types)");
  if (g.tb != CUBLAS_OP_N && g.tb != CUBLAS_OP_T)
    return unsupported(std::string(call) + ": transb must be CUBLAS_OP_N or CUBLAS_OP_T (real types)");
  const std::int64_t a_rows = g.ta == CUBLAS_OP_N ? g.m : g.k;
  const std::int64_t b_rows = g.tb == CUBLAS_OP_N ? g.k : g.n;
  if (g.m < 0 || g.n < 0 || g.k < 0)
    return fail(CUBLAS_STATUS_INVALID_VALUE, std::string(call) + ": m, n, k must be ≥ 0");
  if (g.a.ld < std::max<std::int64_t>(1, a_rows) || g.b.ld < std::max<std::int64_t>(1, b_rows) ||
      g.ldd < std::max<std::int64_t>(1, g.m) || (g.c.data && g.c.ld < std::max<std::int64_t>(1, g.m)))
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                std::string(call) + ": a leading dimension is smaller than its matrix's rows (lda ≥ " +
                    std::to_string(a_rows) + ", ldb ≥ " + std::to_string(b_rows) + ", ldc ≥ " +
                    std::to_string(g.m) + ")");
  for (const cudaDataType_t t : {g.a.type, g.b.type, g.d_type})
    if (!supported_type(t)) return unsupported(std::string(call) + ": " + type_name(t));
  if (g.a.type != g.b.type)
    return unsupported(std::string(call) + ": A is " + type_name(g.a.type) + " but B is " +
                       type_name(g.b.type));
  if (g.d_type != g.a.type && g.d_type != CUDA_R_32F)
    return unsupported(std::string(call) + ": inputs " + type_name(g.a.type) + " with output " +
                       type_name(g.d_type));
  return CUBLAS_STATUS_SUCCESS;
}

/// The stored operand as a float column-major matrix (rows × cols, ld = rows), rounded as allowed.
std::vector<float> as_float(const Matrix& x, std::int64_t rows, std::int64_t cols, InputRounding r) {
  std::vector<float> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t j = 0; j < cols; ++j)
    for (std::int64_t i = 0; i < rows; ++i) {
      float v = load(x.type, x.data, i + j * x.ld);
      if (r == InputRounding::tf32 && x.type == CUDA_R_32F) v = tf32(v);
      if (r == InputRounding::bf16 && x.type == CUDA_R_32F) v = __bfloat162float(__float2bfloat16(v));
      if (r == InputRounding::fp16 && x.type == CUDA_R_32F) v = __half2float(__float2half(v));
      out[static_cast<std::size_t>(i + j * rows)] = v;
    }
  return out;
}

float gelu_tanh(float x) {  // cuBLASLt's GELU: the tanh approximation
  const float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return 0.5f * x * (1.0f + std::tanh(inner));
}

/// The bytes a column-major rows × cols operand with leading dimension ld spans from its pointer.
std::size_t span_bytes(std::int64_t rows, std::int64_t cols, std::int64_t ld, std::size_t elem) {
  if (rows <= 0 || cols <= 0) return 0;
  return static_cast<std::size_t>(rows + (cols - 1) * ld) * elem;
}

/// Checks that each operand's span lies inside its cudaMalloc'd buffer (host memory the emulator
/// did not allocate passes, as for cudaMemcpy): where a GPU would read or write past a buffer and
/// fault — or silently use a neighbour's bytes — the emulator names the operand, its span and the
/// buffer (memory.hpp, check_range).
cublasStatus_t check_operands(const char* call, const Gemm& g) {
  const std::int64_t a_rows = g.ta == CUBLAS_OP_N ? g.m : g.k, a_cols = g.ta == CUBLAS_OP_N ? g.k : g.m;
  const std::int64_t b_rows = g.tb == CUBLAS_OP_N ? g.k : g.n, b_cols = g.tb == CUBLAS_OP_N ? g.n : g.k;
  struct Operand {
    const char* role;
    const void* data;
    std::size_t bytes;
  };
  const bool reads_ab = g.m > 0 && g.n > 0 && g.k > 0;
  const Operand operands[] = {
      {"A operand", g.a.data, reads_ab ? span_bytes(a_rows, a_cols, g.a.ld, type_size(g.a.type)) : 0},
      {"B operand", g.b.data, reads_ab ? span_bytes(b_rows, b_cols, g.b.ld, type_size(g.b.type)) : 0},
      {"C operand", g.c.data, g.beta != 0.0f ? span_bytes(g.m, g.n, g.c.ld, type_size(g.c.type)) : 0},
      {"D (output) operand", g.d, span_bytes(g.m, g.n, g.ldd, type_size(g.d_type))},
      {"bias", g.bias, g.m > 0 && g.n > 0 ? static_cast<std::size_t>(g.m) * type_size(g.bias_type) : 0}};
  for (const Operand& o : operands) {
    if (!o.data || o.bytes == 0) continue;
    std::string problem;
    if (detail::check_range(o.data, o.bytes, o.role, problem) != cudaSuccess)
      return fail(CUBLAS_STATUS_EXECUTION_FAILED, std::string(call) + ": " + problem);
  }
  return CUBLAS_STATUS_SUCCESS;
}

void compute(const Gemm& g);

/// Runs one checked GEMM; an operand outside its buffer fails before anything is written.
cublasStatus_t run(const char* call, const Gemm& g) {
  if (const cublasStatus_t s = check_operands(call, g); s != CUBLAS_STATUS_SUCCESS) return s;
  if (g.m == 0 || g.n == 0) return CUBLAS_STATUS_SUCCESS;
  try {
    compute(g);
  } catch (const std::bad_alloc&) {  // fp32 copies of absurdly large operands
    return fail(CUBLAS_STATUS_ALLOC_FAILED,
                std::string(call) + ": out of host memory for the fp32 copies of a " +
                    std::to_string(g.m) + " × " + std::to_string(g.n) + " × " + std::to_string(g.k) +
                    " GEMM's operands");
  }
  return CUBLAS_STATUS_SUCCESS;
}

/// D = epilogue(α op(A) op(B) + β C + bias) for m, n > 0, through OpenBLAS in fp32.
void compute(const Gemm& g) {
  const std::int64_t a_rows = g.ta == CUBLAS_OP_N ? g.m : g.k, a_cols = g.ta == CUBLAS_OP_N ? g.k : g.m;
  const std::int64_t b_rows = g.tb == CUBLAS_OP_N ? g.k : g.n, b_cols = g.tb == CUBLAS_OP_N ? g.n : g.k;
  std::vector<float> t(static_cast<std::size_t>(g.m * g.n), 0.0f);  // α op(A) op(B), fp32
  if (g.k > 0) {
    const std::vector<float> a = as_float(g.a, a_rows, a_cols, g.rounding);
    const std::vector<float> b = as_float(g.b, b_rows, b_cols, g.rounding);
    cblas_sgemm(CblasColMajor, g.ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                g.tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, static_cast<int>(g.m),
                static_cast<int>(g.n), static_cast<int>(g.k), g.alpha, a.data(),
                static_cast<int>(std::max<std::int64_t>(1, a_rows)), b.data(),
                static_cast<int>(std::max<std::int64_t>(1, b_rows)), 0.0f, t.data(),
                static_cast<int>(g.m));
  }
  for (std::int64_t j = 0; j < g.n; ++j)
    for (std::int64_t i = 0; i < g.m; ++i) {
      float v = t[static_cast<std::size_t>(i + j * g.m)];
      // β = 0: C is not read (it may hold NaN), as in cuBLAS.
      if (g.beta != 0.0f) v += g.beta * load(g.c.type, g.c.data, i + j * g.c.ld);
      if (g.bias) v += load(g.bias_type, g.bias, i);
      if (g.epilogue == Epilogue::relu) v = v > 0.0f ? v : 0.0f;
      if (g.epilogue == Epilogue::gelu) v = gelu_tanh(v);
      store(g.d_type, g.d, i + j * g.ldd, v);
    }
  // Written by this (uninstrumented) library: the memory checks must count D's columns as
  // initialised, or a kernel reading them would be reported (racecheck.hpp).
  const std::size_t elem = type_size(g.d_type);
  for (std::int64_t j = 0; j < g.n; ++j)
    llmlab::emu::detail::mark_initialised(
        reinterpret_cast<std::uintptr_t>(static_cast<char*>(g.d) +
                                         static_cast<std::size_t>(j * g.ldd) * elem),
        static_cast<std::size_t>(g.m) * elem);
}

/// The input rounding cuBLAS may apply for a compute type and math mode with these inputs.
cublasStatus_t rounding_for(const char* call, cublasComputeType_t compute, cublasMath_t math,
                            InputRounding& r) {
  switch (compute) {
    case CUBLAS_COMPUTE_32F:
      r = (math & 0xf) == CUBLAS_TF32_TENSOR_OP_MATH ? InputRounding::tf32 : InputRounding::none;
      return CUBLAS_STATUS_SUCCESS;
    case CUBLAS_COMPUTE_32F_PEDANTIC: r = InputRounding::none; return CUBLAS_STATUS_SUCCESS;
    case CUBLAS_COMPUTE_32F_FAST_TF32: r = InputRounding::tf32; return CUBLAS_STATUS_SUCCESS;
    case CUBLAS_COMPUTE_32F_FAST_16BF: r = InputRounding::bf16; return CUBLAS_STATUS_SUCCESS;
    case CUBLAS_COMPUTE_32F_FAST_16F: r = InputRounding::fp16; return CUBLAS_STATUS_SUCCESS;
    default:
      return unsupported(std::string(call) + ": compute type " + std::to_string(static_cast<int>(compute)) +
                         " (the subset computes in fp32: CUBLAS_COMPUTE_32F and its _PEDANTIC / _FAST_* forms)");
  }
}

cublasStatus_t gemm_batched(const char* call, cublasHandle_t handle, Gemm g, std::int64_t stride_a,
                            std::int64_t stride_b, std::int64_t stride_c, int batch) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, std::string(call) + ": null handle");
  if (const cublasStatus_t s = check(call, g); s != CUBLAS_STATUS_SUCCESS) return s;
  if (batch < 0) return fail(CUBLAS_STATUS_INVALID_VALUE, std::string(call) + ": batchCount < 0");
  const auto item = [&, a = g.a.data, b = g.b.data, c = g.d](int i) {
    Gemm gi = g;
    gi.a.data = static_cast<const char*>(a) + i * stride_a * static_cast<std::int64_t>(type_size(g.a.type));
    gi.b.data = static_cast<const char*>(b) + i * stride_b * static_cast<std::int64_t>(type_size(g.b.type));
    gi.d = static_cast<char*>(c) + i * stride_c * static_cast<std::int64_t>(type_size(g.d_type));
    gi.c.data = gi.d;
    return gi;
  };
  // Every item's operands are checked before any item runs: a bad last item writes nothing.
  for (int i = 0; i < batch; ++i)
    if (const cublasStatus_t s = check_operands(call, item(i)); s != CUBLAS_STATUS_SUCCESS) return s;
  for (int i = 0; i < batch; ++i)
    if (const cublasStatus_t s = run(call, item(i)); s != CUBLAS_STATUS_SUCCESS) return s;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t gemm_ex(const char* call, cublasHandle_t handle, cublasOperation_t transa,
                       cublasOperation_t transb, int m, int n, int k, const void* alpha, const void* A,
                       cudaDataType Atype, int lda, long long stride_a, const void* B,
                       cudaDataType Btype, int ldb, long long stride_b, const void* beta, void* C,
                       cudaDataType Ctype, int ldc, long long stride_c, int batch,
                       cublasComputeType_t compute) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, std::string(call) + ": null handle");
  if (!alpha || !beta) return fail(CUBLAS_STATUS_INVALID_VALUE, std::string(call) + ": null alpha or beta");
  Gemm g{transa, transb, m, n, k, *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
         {Atype, A, lda}, {Btype, B, ldb}, {Ctype, C, ldc}, Ctype, C, ldc};
  if (const cublasStatus_t s = rounding_for(call, compute, handle->math, g.rounding);
      s != CUBLAS_STATUS_SUCCESS)
    return s;
  return gemm_batched(call, handle, g, stride_a, stride_b, stride_c, batch);
}

}  // namespace

std::string cublas_last_message() {
  std::lock_guard lock(message_mutex);
  return message;
}

}  // namespace llmlab::emu

// ---- the cuBLAS API -----------------------------------------------------------------------------

using llmlab::emu::fail;
using llmlab::emu::unsupported;

extern "C" {

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  if (!handle) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate: null handle pointer");
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasDestroy: null handle");
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetStream: null handle");
  handle->stream = stream;  // work is synchronous here: every stream is always complete
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, cudaStream_t* stream) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetStream: null handle");
  if (!stream) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetStream: null stream pointer");
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void*, size_t) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetWorkspace: null handle");
  return CUBLAS_STATUS_SUCCESS;  // the CPU GEMM needs no workspace
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetMathMode: null handle");
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetMathMode: null handle");
  if (!mode) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetMathMode: null mode pointer");
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t mode) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetPointerMode: null handle");
  handle->pointer_mode = mode;  // host and device pointers are both host memory here
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, cublasPointerMode_t* mode) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetPointerMode: null handle");
  if (!mode) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetPointerMode: null mode pointer");
  *mode = handle->pointer_mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "the functionality requested is not supported (llmlab emu: see cublas_last_message())";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
    default: return "unknown error";
  }
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                              int m, int n, int k, const float* alpha, const float* A, int lda,
                              const float* B, int ldb, const float* beta, float* C, int ldc) {
  return llmlab::emu::gemm_ex("cublasSgemm", handle, transa, transb, m, n, k, alpha, A, CUDA_R_32F,
                              lda, 0, B, CUDA_R_32F, ldb, 0, beta, C, CUDA_R_32F, ldc, 0, 1,
                              CUBLAS_COMPUTE_32F);
}

cublasStatus_t cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                            int m, int n, int k, const void* alpha, const void* A, cudaDataType Atype,
                            int lda, const void* B, cudaDataType Btype, int ldb, const void* beta,
                            void* C, cudaDataType Ctype, int ldc, cublasComputeType_t computeType,
                            cublasGemmAlgo_t) {
  return llmlab::emu::gemm_ex("cublasGemmEx", handle, transa, transb, m, n, k, alpha, A, Atype, lda,
                              0, B, Btype, ldb, 0, beta, C, Ctype, ldc, 0, 1, computeType);
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda,
                                         long long int strideA, const float* B, int ldb,
                                         long long int strideB, const float* beta, float* C, int ldc,
                                         long long int strideC, int batchCount) {
  return llmlab::emu::gemm_ex("cublasSgemmStridedBatched", handle, transa, transb, m, n, k, alpha, A,
                              CUDA_R_32F, lda, strideA, B, CUDA_R_32F, ldb, strideB, beta, C,
                              CUDA_R_32F, ldc, strideC, batchCount, CUBLAS_COMPUTE_32F);
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t transa,
                                          cublasOperation_t transb, int m, int n, int k,
                                          const void* alpha, const void* A, cudaDataType Atype,
                                          int lda, long long int strideA, const void* B,
                                          cudaDataType Btype, int ldb, long long int strideB,
                                          const void* beta, void* C, cudaDataType Ctype, int ldc,
                                          long long int strideC, int batchCount,
                                          cublasComputeType_t computeType, cublasGemmAlgo_t) {
  return llmlab::emu::gemm_ex("cublasGemmStridedBatchedEx", handle, transa, transb, m, n, k, alpha, A,
                              Atype, lda, strideA, B, Btype, ldb, strideB, beta, C, Ctype, ldc,
                              strideC, batchCount, computeType);
}

}  // extern "C"

// ---- the cuBLASLt API ---------------------------------------------------------------------------

namespace {
struct LtDesc {
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  cudaDataType_t scale = CUDA_R_32F;
  cublasOperation_t ta = CUBLAS_OP_N, tb = CUBLAS_OP_N;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  const void* bias = nullptr;
  std::int64_t bias_batch_stride = 0;
  int bias_type = -1;  // -1: the output's type
};
struct LtLayout {
  cudaDataType_t type;
  std::uint64_t rows, cols;
  std::int64_t ld;
  std::int32_t order = CUBLASLT_ORDER_COL;
  std::int32_t batch = 1;
  std::int64_t stride = 0;
};
struct LtPreference {};

LtDesc* desc(cublasLtMatmulDesc_t d) { return reinterpret_cast<LtDesc*>(d); }
LtLayout* layout(cublasLtMatrixLayout_t l) { return reinterpret_cast<LtLayout*>(l); }

template <class T>
bool read_attr(const void* buf, size_t size, T& out) {
  if (!buf || size != sizeof(T)) return false;
  std::memcpy(&out, buf, sizeof(T));
  return true;
}
}  // namespace

extern "C" {

cublasStatus_t cublasLtCreate(cublasLtHandle_t* handle) {
  if (!handle) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtCreate: null handle pointer");
  *handle = new cublasLtContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtDestroy(cublasLtHandle_t handle) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtDestroy: null handle");
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescCreate(cublasLtMatmulDesc_t* matmulDesc, cublasComputeType_t computeType,
                                        cudaDataType_t scaleType) {
  if (!matmulDesc) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmulDescCreate: null pointer");
  if (scaleType != CUDA_R_32F)
    return unsupported("cublasLtMatmulDescCreate: scale type must be CUDA_R_32F (fp32 compute)");
  auto* d = new LtDesc;
  d->compute = computeType;
  d->scale = scaleType;
  *matmulDesc = reinterpret_cast<cublasLtMatmulDesc_t>(d);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescDestroy(cublasLtMatmulDesc_t matmulDesc) {
  delete desc(matmulDesc);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulDescSetAttribute(cublasLtMatmulDesc_t matmulDesc,
                                              cublasLtMatmulDescAttributes_t attr, const void* buf,
                                              size_t sizeInBytes) {
  if (!matmulDesc) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtMatmulDescSetAttribute: null descriptor");
  LtDesc& d = *desc(matmulDesc);
  bool ok = true;
  std::int32_t i32 = 0;
  std::uint32_t u32 = 0;
  switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA: ok = read_attr(buf, sizeInBytes, i32); d.ta = cublasOperation_t(i32); break;
    case CUBLASLT_MATMUL_DESC_TRANSB: ok = read_attr(buf, sizeInBytes, i32); d.tb = cublasOperation_t(i32); break;
    case CUBLASLT_MATMUL_DESC_EPILOGUE: ok = read_attr(buf, sizeInBytes, u32); d.epilogue = cublasLtEpilogue_t(u32); break;
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER: ok = read_attr(buf, sizeInBytes, d.bias); break;
    case CUBLASLT_MATMUL_DESC_BIAS_BATCH_STRIDE: ok = read_attr(buf, sizeInBytes, d.bias_batch_stride); break;
    case CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE: ok = read_attr(buf, sizeInBytes, i32); d.bias_type = i32; break;
    case CUBLASLT_MATMUL_DESC_POINTER_MODE: ok = read_attr(buf, sizeInBytes, i32);
      if (ok && i32 != CUBLASLT_POINTER_MODE_HOST && i32 != CUBLASLT_POINTER_MODE_DEVICE)
        return unsupported("cublasLtMatmulDescSetAttribute: pointer mode " + std::to_string(i32) +
                           " (host or device scalars only)");
      break;
    case CUBLASLT_MATMUL_DESC_SCALE_TYPE: ok = read_attr(buf, sizeInBytes, i32);
      if (ok && i32 != CUDA_R_32F) return unsupported("cublasLtMatmulDescSetAttribute: scale type must be CUDA_R_32F");
      break;
    case CUBLASLT_MATMUL_DESC_COMPUTE_TYPE: ok = read_attr(buf, sizeInBytes, i32); d.compute = cublasComputeType_t(i32); break;
    case CUBLASLT_MATMUL_DESC_SM_COUNT_TARGET: case CUBLASLT_MATMUL_DESC_FAST_ACCUM: break;  // no effect here
    default:
      return unsupported("cublasLtMatmulDescSetAttribute: attribute " + std::to_string(static_cast<int>(attr)) +
                         " is not in the subset");
  }
  if (!ok) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmulDescSetAttribute: attribute " +
                                                        std::to_string(static_cast<int>(attr)) +
                                                        ": null buffer or wrong size");
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutCreate(cublasLtMatrixLayout_t* matLayout, cudaDataType type,
                                          uint64_t rows, uint64_t cols, int64_t ld) {
  if (!matLayout) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatrixLayoutCreate: null pointer");
  *matLayout = reinterpret_cast<cublasLtMatrixLayout_t>(new LtLayout{type, rows, cols, ld});
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutDestroy(cublasLtMatrixLayout_t matLayout) {
  delete layout(matLayout);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatrixLayoutSetAttribute(cublasLtMatrixLayout_t matLayout,
                                                cublasLtMatrixLayoutAttribute_t attr, const void* buf,
                                                size_t sizeInBytes) {
  if (!matLayout) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtMatrixLayoutSetAttribute: null layout");
  LtLayout& l = *layout(matLayout);
  bool ok = true;
  std::uint32_t type = 0;
  switch (attr) {
    case CUBLASLT_MATRIX_LAYOUT_TYPE: ok = read_attr(buf, sizeInBytes, type); l.type = cudaDataType_t(type); break;
    case CUBLASLT_MATRIX_LAYOUT_ORDER: ok = read_attr(buf, sizeInBytes, l.order); break;
    case CUBLASLT_MATRIX_LAYOUT_ROWS: ok = read_attr(buf, sizeInBytes, l.rows); break;
    case CUBLASLT_MATRIX_LAYOUT_COLS: ok = read_attr(buf, sizeInBytes, l.cols); break;
    case CUBLASLT_MATRIX_LAYOUT_LD: ok = read_attr(buf, sizeInBytes, l.ld); break;
    case CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT: ok = read_attr(buf, sizeInBytes, l.batch); break;
    case CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET: ok = read_attr(buf, sizeInBytes, l.stride); break;
    default:
      return unsupported("cublasLtMatrixLayoutSetAttribute: attribute " + std::to_string(static_cast<int>(attr)) +
                         " is not in the subset");
  }
  if (!ok) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatrixLayoutSetAttribute: attribute " +
                                                        std::to_string(static_cast<int>(attr)) +
                                                        ": null buffer or wrong size");
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceCreate(cublasLtMatmulPreference_t* pref) {
  if (!pref) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmulPreferenceCreate: null pointer");
  *pref = reinterpret_cast<cublasLtMatmulPreference_t>(new LtPreference);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceDestroy(cublasLtMatmulPreference_t pref) {
  delete reinterpret_cast<LtPreference*>(pref);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmulPreferenceSetAttribute(cublasLtMatmulPreference_t pref,
                                                    cublasLtMatmulPreferenceAttributes_t, const void*,
                                                    size_t) {
  // Preferences only steer the choice of algorithm (there is one here).
  return pref ? CUBLAS_STATUS_SUCCESS
              : fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtMatmulPreferenceSetAttribute: null preference");
}

cublasStatus_t cublasLtMatmulAlgoGetHeuristic(cublasLtHandle_t handle, cublasLtMatmulDesc_t,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatrixLayout_t, cublasLtMatrixLayout_t,
                                              cublasLtMatmulPreference_t, int requestedAlgoCount,
                                              cublasLtMatmulHeuristicResult_t heuristicResultsArray[],
                                              int* returnAlgoCount) {
  if (!handle) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtMatmulAlgoGetHeuristic: null handle");
  if (requestedAlgoCount < 1 || !heuristicResultsArray || !returnAlgoCount)
    return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmulAlgoGetHeuristic: no room for a result");
  std::memset(&heuristicResultsArray[0], 0, sizeof heuristicResultsArray[0]);  // the one algorithm
  heuristicResultsArray[0].state = CUBLAS_STATUS_SUCCESS;
  heuristicResultsArray[0].wavesCount = 1.0f;
  *returnAlgoCount = 1;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasLtMatmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t computeDesc, const void* alpha,
                              const void* A, cublasLtMatrixLayout_t Adesc, const void* B,
                              cublasLtMatrixLayout_t Bdesc, const void* beta, const void* C,
                              cublasLtMatrixLayout_t Cdesc, void* D, cublasLtMatrixLayout_t Ddesc,
                              const cublasLtMatmulAlgo_t*, void*, size_t, cudaStream_t) {
  constexpr const char* call = "cublasLtMatmul";
  if (!handle || !computeDesc || !Adesc || !Bdesc || !Cdesc || !Ddesc)
    return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasLtMatmul: null handle or descriptor");
  if (!alpha || !beta) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmul: null alpha or beta");
  const LtDesc& d = *desc(computeDesc);
  const LtLayout &a = *layout(Adesc), &b = *layout(Bdesc), &c = *layout(Cdesc), &o = *layout(Ddesc);
  for (const LtLayout* l : {&a, &b, &c, &o})
    if (l->order != CUBLASLT_ORDER_COL)
      return unsupported("cublasLtMatmul: matrix order " + std::to_string(l->order) +
                         " (the subset takes CUBLASLT_ORDER_COL)");
  llmlab::emu::Gemm g{d.ta, d.tb, static_cast<std::int64_t>(o.rows), static_cast<std::int64_t>(o.cols),
                      0, *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
                      {a.type, A, a.ld}, {b.type, B, b.ld}, {c.type, C, c.ld}, o.type, D, o.ld};
  g.k = static_cast<std::int64_t>(d.ta == CUBLAS_OP_N ? a.cols : a.rows);
  const std::int64_t a_m = static_cast<std::int64_t>(d.ta == CUBLAS_OP_N ? a.rows : a.cols);
  const std::int64_t b_k = static_cast<std::int64_t>(d.tb == CUBLAS_OP_N ? b.rows : b.cols);
  const std::int64_t b_n = static_cast<std::int64_t>(d.tb == CUBLAS_OP_N ? b.cols : b.rows);
  if (a_m != g.m || b_k != g.k || b_n != g.n || c.rows != o.rows || c.cols != o.cols)
    return fail(CUBLAS_STATUS_INVALID_VALUE,
                "cublasLtMatmul: shapes disagree: op(A) " + std::to_string(a_m) + "×" + std::to_string(g.k) +
                    ", op(B) " + std::to_string(b_k) + "×" + std::to_string(b_n) + ", D " +
                    std::to_string(g.m) + "×" + std::to_string(g.n));
  if (c.type != o.type) return unsupported("cublasLtMatmul: C and D of different types");
  if (C != D && (c.ld != o.ld))
    return unsupported("cublasLtMatmul: C and D in different places with different leading dimensions");
  switch (d.epilogue) {
    case CUBLASLT_EPILOGUE_DEFAULT: break;
    case CUBLASLT_EPILOGUE_RELU: g.epilogue = llmlab::emu::Epilogue::relu; break;
    case CUBLASLT_EPILOGUE_GELU: g.epilogue = llmlab::emu::Epilogue::gelu; break;
    case CUBLASLT_EPILOGUE_BIAS: g.bias = d.bias; break;
    case CUBLASLT_EPILOGUE_RELU_BIAS: g.bias = d.bias; g.epilogue = llmlab::emu::Epilogue::relu; break;
    case CUBLASLT_EPILOGUE_GELU_BIAS: g.bias = d.bias; g.epilogue = llmlab::emu::Epilogue::gelu; break;
    default:
      return unsupported("cublasLtMatmul: epilogue " + std::to_string(static_cast<int>(d.epilogue)) +
                         " (the subset: DEFAULT, RELU, GELU, BIAS, RELU_BIAS, GELU_BIAS)");
  }
  if ((d.epilogue & CUBLASLT_EPILOGUE_BIAS) && !d.bias)
    return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmul: a bias epilogue without CUBLASLT_MATMUL_DESC_BIAS_POINTER");
  g.bias_type = d.bias_type < 0 ? o.type : cudaDataType_t(d.bias_type);
  if (g.bias && !llmlab::emu::supported_type(g.bias_type))
    return unsupported(std::string("cublasLtMatmul: bias of ") + llmlab::emu::type_name(g.bias_type));
  cublasContext settings;  // Lt has no math mode: the compute type alone decides
  if (const cublasStatus_t s = llmlab::emu::rounding_for(call, d.compute, settings.math, g.rounding);
      s != CUBLAS_STATUS_SUCCESS)
    return s;
  if (const cublasStatus_t s = llmlab::emu::check(call, g); s != CUBLAS_STATUS_SUCCESS) return s;
  const int batch = o.batch;
  if (a.batch != batch || b.batch != batch || c.batch != batch)
    return unsupported("cublasLtMatmul: layouts with different batch counts");
  for (int i = 0; i < batch; ++i) {
    llmlab::emu::Gemm one = g;
    const auto offset = [i](const void* p, const LtLayout& l) {
      return static_cast<const char*>(p) + i * l.stride * static_cast<std::int64_t>(llmlab::emu::type_size(l.type));
    };
    one.a.data = offset(A, a);
    one.b.data = offset(B, b);
    one.c.data = C ? offset(C, c) : nullptr;
    one.d = const_cast<char*>(offset(D, o));
    if (one.bias)
      one.bias = static_cast<const char*>(g.bias) +
                 i * d.bias_batch_stride * static_cast<std::int64_t>(llmlab::emu::type_size(g.bias_type));
    if (one.beta != 0.0f && !one.c.data)
      return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasLtMatmul: beta ≠ 0 with a null C");
    if (const cublasStatus_t s = llmlab::emu::run(call, one); s != CUBLAS_STATUS_SUCCESS) return s;
  }
  return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
