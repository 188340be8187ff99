#pragma once
/// \file
/// \ingroup group_emulator
/// \brief CUDA's device intrinsics and overloads under the emulator: cache-hinted loads and stores,
/// every `atomicAdd` overload, `atomicInc/Dec`, `min`/`max` as CUDA's headers define them, the
/// fast-math intrinsics with CUDA's reduced accuracy, `__trap`, device `assert` and `printf`.
///
/// Included by emu.hpp; see docs/emulator.md ("Intrinsics and their accuracy").
///
/// **Fast-math intrinsics.** `__expf`, `__logf`, `__sinf`, … are not the exact libm calls: each is
/// built, as nvcc builds it, from the hardware's approximate instructions (`ex2.approx`,
/// `lg2.approx`, `sin.approx`, `cos.approx`, `rcp.approx`), and each of those is modelled with the
/// error CUDA documents for it, deterministically:
/// - `ex2.approx`, `rcp.approx`: the exact value rounded toward zero to float (below 1 ulp, and
///   not the correctly rounded result about half the time), so that `__expf` keeps CUDA's 2-ulp
///   bound near 0 and `__fdividef` its 2-ulp bound;
/// - `lg2.approx`: for \f$x \in [0.5, 2]\f$ an absolute error below \f$2^{-24}\f$ (the result is
///   truncated to a multiple of \f$2^{-24}\f$), otherwise rounded toward zero (below 1 ulp, so
///   that `__logf` and `__log10f` keep their 3-ulp bound after the scaling);
/// - `sin.approx` / `cos.approx`: the argument reduced by \f$2\pi\f$ rounded to float (so the error
///   grows with \f$|x|\f$ outside \f$[-\pi, \pi]\f$, as on the hardware), the result truncated to a
///   multiple of \f$2^{-22}\f$ (absolute error below \f$2^{-22}\f$).
///
/// Then, as in CUDA's headers: \f$\_\_expf(x) = ex2(x \cdot \log_2 e)\f$ (the product rounded to
/// float, which is why CUDA documents \f$2 + \lfloor 1.173|x| \rfloor\f$ ulp),
/// \f$\_\_exp10f(x) = ex2(x \cdot \log_2 10)\f$, \f$\_\_logf(x) = lg2(x) \cdot \ln 2\f$,
/// \f$\_\_log10f(x) = lg2(x) \cdot \log_{10} 2\f$, \f$\_\_powf(x, y) = ex2(y \cdot lg2(x))\f$,
/// \f$\_\_tanf(x) = \_\_fdividef(\_\_sinf(x), \_\_cosf(x))\f$ and
/// \f$\_\_fdividef(x, y) = x \cdot rcp(y)\f$, which is 0 for \f$2^{126} < |y| < 2^{128}\f$ (the
/// reciprocal is a flushed subnormal) and NaN for \f$x = \infty\f$ there. With `LLMLAB_EMU_FAST_MATH`
/// defined (what `--use_fast_math` maps to), the plain `expf`, `exp10f`, `logf`, `log2f`, `log10f`,
/// `sinf`, `cosf`, `tanf`, `sincosf` and `powf` of the translation unit become these intrinsics, as
/// nvcc does for device code (under the emulator, host code in the same file is affected too).

#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <source_location>
#include <type_traits>

// ---- cache-hinted loads and stores: plain accesses under the emulator (one memory) -------------
/// \cond CUDA_DEVICE_MATH

/// Load through the read-only data cache (a plain load here).
template <class T>
inline T __ldg(const T* p) { return *p; }
/// Load, cache streaming (evict first) — a plain load here.
template <class T>
inline T __ldcs(const T* p) { return *p; }
/// Load, cache at global level (L2 only) — a plain load here.
template <class T>
inline T __ldcg(const T* p) { return *p; }
/// Load, cache at all levels — a plain load here.
template <class T>
inline T __ldca(const T* p) { return *p; }
/// Load, last use — a plain load here.
template <class T>
inline T __ldlu(const T* p) { return *p; }
/// Load, don't cache and fetch again (volatile) — a plain load here.
template <class T>
inline T __ldcv(const T* p) { return *p; }
/// Store, cache streaming — a plain store here.
template <class T>
inline void __stcs(T* p, std::type_identity_t<T> v) { *p = v; }
/// Store, cache at global level — a plain store here.
template <class T>
inline void __stcg(T* p, std::type_identity_t<T> v) { *p = v; }
/// Store, write back at all coherent levels — a plain store here.
template <class T>
inline void __stwb(T* p, std::type_identity_t<T> v) { *p = v; }
/// Store, write through to system memory — a plain store here.
template <class T>
inline void __stwt(T* p, std::type_identity_t<T> v) { *p = v; }

// ---- atomics: CUDA's overload set, so `atomicAdd(unsigned*, 1)` resolves as under nvcc ---------

namespace llmlab::emu::detail {
/// Atomically replaces *address by f(*address) through a compare-and-swap loop on its bits.
template <class T, class F>
T cas_update(T* address, F f) {
  using Bits = std::conditional_t<sizeof(T) == 2, std::uint16_t,
               std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
  static_assert(sizeof(T) == sizeof(Bits));
  std::atomic_ref<Bits> word(*reinterpret_cast<Bits*>(address));
  Bits expected = word.load();
  for (;;) {
    T old;  // memcpy, not bit_cast: __half2 and __nv_bfloat162 are not trivially copyable
    std::memcpy(static_cast<void*>(&old), &expected, sizeof(T));
    const T updated = static_cast<T>(f(old));
    Bits desired;
    std::memcpy(&desired, static_cast<const void*>(&updated), sizeof(T));
    if (word.compare_exchange_weak(expected, desired)) return old;
  }
}
}  // namespace llmlab::emu::detail

inline int atomicAdd(int* address, int val) { return std::atomic_ref<int>(*address).fetch_add(val); }
inline unsigned atomicAdd(unsigned* address, unsigned val) {
  return std::atomic_ref<unsigned>(*address).fetch_add(val);
}
inline unsigned long long atomicAdd(unsigned long long* address, unsigned long long val) {
  return std::atomic_ref<unsigned long long>(*address).fetch_add(val);
}
inline float atomicAdd(float* address, float val) {
  return llmlab::emu::detail::cas_update(address, [&](float old) { return old + val; });
}
inline double atomicAdd(double* address, double val) {
  return llmlab::emu::detail::cas_update(address, [&](double old) { return old + val; });
}
inline __half atomicAdd(__half* address, __half val) {
  return llmlab::emu::detail::cas_update(address, [&](__half old) { return __float2half(float(old) + float(val)); });
}
inline __nv_bfloat16 atomicAdd(__nv_bfloat16* address, __nv_bfloat16 val) {
  return llmlab::emu::detail::cas_update(
      address, [&](__nv_bfloat16 old) { return __float2bfloat16(float(old) + float(val)); });
}
// The pairs: each half is added on its own (CUDA guarantees atomicity per element; one 32-bit
// compare-and-swap here is stronger).
inline __half2 atomicAdd(__half2* address, __half2 val) {
  return llmlab::emu::detail::cas_update(address, [&](__half2 old) {
    return __half2(__float2half(float(old.x) + float(val.x)), __float2half(float(old.y) + float(val.y)));
  });
}
inline __nv_bfloat162 atomicAdd(__nv_bfloat162* address, __nv_bfloat162 val) {
  return llmlab::emu::detail::cas_update(address, [&](__nv_bfloat162 old) {
    return __nv_bfloat162(__float2bfloat16(float(old.x) + float(val.x)),
                          __float2bfloat16(float(old.y) + float(val.y)));
  });
}
// sm_90's vector atomics: atomic per element.
inline float2 atomicAdd(float2* address, float2 val) {
  return float2{atomicAdd(&address->x, val.x), atomicAdd(&address->y, val.y)};
}
inline float4 atomicAdd(float4* address, float4 val) {
  return float4{atomicAdd(&address->x, val.x), atomicAdd(&address->y, val.y),
                atomicAdd(&address->z, val.z), atomicAdd(&address->w, val.w)};
}
/// old = *address; *address = old >= val ? 0 : old + 1; returns old (CUDA's wrap-around increment).
inline unsigned atomicInc(unsigned* address, unsigned val) {
  return llmlab::emu::detail::cas_update(address, [&](unsigned old) { return old >= val ? 0u : old + 1u; });
}
/// old = *address; *address = (old == 0 || old > val) ? val : old − 1; returns old.
inline unsigned atomicDec(unsigned* address, unsigned val) {
  return llmlab::emu::detail::cas_update(
      address, [&](unsigned old) { return (old == 0u || old > val) ? val : old - 1u; });
}

// ---- min / max: the overloads of CUDA's math_functions.hpp, mixed signedness included ----------
// Mixed signed/unsigned arguments convert to the unsigned type (as CUDA's headers do, so
// min(-1, 1u) is 1u); float/double mixes use fmin/fmax in double (NaN-ignoring, as fminf).

inline int min(int a, int b) { return a < b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned min(int a, unsigned b) { return min(static_cast<unsigned>(a), b); }
inline unsigned min(unsigned a, int b) { return min(a, static_cast<unsigned>(b)); }
inline long min(long a, long b) { return a < b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long min(long a, unsigned long b) { return min(static_cast<unsigned long>(a), b); }
inline unsigned long min(unsigned long a, long b) { return min(a, static_cast<unsigned long>(b)); }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long min(long long a, unsigned long long b) {
  return min(static_cast<unsigned long long>(a), b);
}
inline unsigned long long min(unsigned long long a, long long b) {
  return min(a, static_cast<unsigned long long>(b));
}
inline float min(float a, float b) { return std::fmin(a, b); }
inline double min(double a, double b) { return std::fmin(a, b); }
inline double min(float a, double b) { return std::fmin(static_cast<double>(a), b); }
inline double min(double a, float b) { return std::fmin(a, static_cast<double>(b)); }

inline int max(int a, int b) { return a < b ? b : a; }
inline unsigned max(unsigned a, unsigned b) { return a < b ? b : a; }
inline unsigned max(int a, unsigned b) { return max(static_cast<unsigned>(a), b); }
inline unsigned max(unsigned a, int b) { return max(a, static_cast<unsigned>(b)); }
inline long max(long a, long b) { return a < b ? b : a; }
inline unsigned long max(unsigned long a, unsigned long b) { return a < b ? b : a; }
inline unsigned long max(long a, unsigned long b) { return max(static_cast<unsigned long>(a), b); }
inline unsigned long max(unsigned long a, long b) { return max(a, static_cast<unsigned long>(b)); }
inline long long max(long long a, long long b) { return a < b ? b : a; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a < b ? b : a; }
inline unsigned long long max(long long a, unsigned long long b) {
  return max(static_cast<unsigned long long>(a), b);
}
inline unsigned long long max(unsigned long long a, long long b) {
  return max(a, static_cast<unsigned long long>(b));
}
inline float max(float a, float b) { return std::fmax(a, b); }
inline double max(double a, double b) { return std::fmax(a, b); }
inline double max(float a, double b) { return std::fmax(static_cast<double>(a), b); }
inline double max(double a, float b) { return std::fmax(a, static_cast<double>(b)); }

// ---- the hardware's approximate instructions, with their documented error (see \file) ---------

namespace llmlab::emu::approx {
/// The exact value rounded toward zero to float: below 1 ulp, and not the correctly rounded result
/// about half the time.
inline float one_ulp(double exact) {
  if (!std::isfinite(exact) || exact == 0.0) return static_cast<float>(exact);
  float f = static_cast<float>(exact);
  if (std::fabs(static_cast<double>(f)) > std::fabs(exact)) f = std::nextafter(f, 0.0f);
  return f;
}
/// Truncates toward zero to a multiple of 2^-bits (an absolute error below 2^-bits).
inline float absolute(double exact, int bits) {
  return static_cast<float>(std::trunc(std::ldexp(exact, bits)) * std::ldexp(1.0, -bits));
}
/// Flushes a subnormal float to zero (the .ftz of the approximate instructions).
inline float ftz(float x) { return std::fpclassify(x) == FP_SUBNORMAL ? std::copysign(0.0f, x) : x; }
/// ex2.approx.ftz.f32: 2^x.
inline float ex2(float x) { return ftz(one_ulp(std::exp2(static_cast<double>(ftz(x))))); }
/// lg2.approx.ftz.f32: log2(x).
inline float lg2(float x) {
  x = ftz(x);
  const double exact = std::log2(static_cast<double>(x));
  if (x >= 0.5f && x <= 2.0f) return absolute(exact, 24);
  return one_ulp(exact);
}
/// The argument reduction of sin.approx / cos.approx: by 2π rounded to float.
inline double reduce(float x) {
  const double two_pi_f = static_cast<double>(6.2831853071795864769f);
  return static_cast<double>(x) - two_pi_f * std::nearbyint(static_cast<double>(x) / two_pi_f);
}
/// sin.approx.ftz.f32.
inline float sin(float x) { return std::isinf(x) ? NAN : ftz(absolute(std::sin(reduce(ftz(x))), 22)); }
/// cos.approx.ftz.f32.
inline float cos(float x) { return std::isinf(x) ? NAN : ftz(absolute(std::cos(reduce(ftz(x))), 22)); }
/// rcp.approx.ftz.f32: 1/x; 0 for |x| > 2^126 (the reciprocal would be subnormal).
inline float rcp(float x) { return ftz(one_ulp(1.0 / static_cast<double>(ftz(x)))); }
}  // namespace llmlab::emu::approx

/// x / y through rcp.approx: 2 ulp for |y| in [2^-126, 2^126]; 0 for 2^126 < |y| < 2^128.
inline float __fdividef(float x, float y) { return x * llmlab::emu::approx::rcp(y); }
/// x clamped to [0, 1]; NaN gives 0.
inline float __saturatef(float x) { return !(x > 0.0f) ? 0.0f : (x > 1.0f ? 1.0f : x); }
/// e^x as ex2.approx(x · log2 e): at most 2 + floor(|1.173 x|) ulp.
inline float __expf(float x) { return llmlab::emu::approx::ex2(x * 1.44269504088896340736f); }
/// 10^x as ex2.approx(x · log2 10): at most 2 + floor(|2.97 x|) ulp.
inline float __exp10f(float x) { return llmlab::emu::approx::ex2(x * 3.32192809488736234787f); }
/// ln x as lg2.approx(x) · ln 2: absolute error 2^-21.41 in [0.5, 2], else 3 ulp.
inline float __logf(float x) { return llmlab::emu::approx::lg2(x) * 0.69314718055994530942f; }
/// log2 x as lg2.approx(x): absolute error 2^-22 in [0.5, 2], else 2 ulp.
inline float __log2f(float x) { return llmlab::emu::approx::lg2(x); }
/// log10 x as lg2.approx(x) · log10 2: absolute error 2^-24 in [0.5, 2], else 3 ulp.
inline float __log10f(float x) { return llmlab::emu::approx::lg2(x) * 0.30102999566398119521f; }
/// sin x as sin.approx: absolute error 2^-21.41 in [-π, π], larger outside.
inline float __sinf(float x) { return llmlab::emu::approx::sin(x); }
/// cos x as cos.approx: absolute error 2^-21.19 in [-π, π], larger outside.
inline float __cosf(float x) { return llmlab::emu::approx::cos(x); }
/// sin and cos through sin.approx and cos.approx.
inline void __sincosf(float x, float* s, float* c) {
  *s = __sinf(x);
  *c = __cosf(x);
}
/// tan x as __fdividef(__sinf(x), __cosf(x)).
inline float __tanf(float x) { return __fdividef(__sinf(x), __cosf(x)); }
/// x^y as ex2.approx(y · lg2.approx(x)).
inline float __powf(float x, float y) {
  return llmlab::emu::approx::ex2(y * llmlab::emu::approx::lg2(x));
}

/// \endcond

// ---- __trap, device assert, device printf --------------------------------------------------------

namespace llmlab::emu {

/// Whether the calling thread is running a kernel (an emulated CUDA thread).
bool in_kernel();

/// `__trap()`: inside a kernel, fails the launch (cudaErrorLaunchFailure) with a diagnostic naming
/// the block, the thread and `where`; outside one, aborts the process as a GPU trap would.
[[noreturn]] void trap(const std::source_location& where);

/// A failed device `assert(expression)`: inside a kernel, fails the launch with a diagnostic naming
/// the block, the thread, the file and line, and the expression; outside one, glibc's assert failure.
[[noreturn]] void assert_fail(const char* expression, const char* file, unsigned line,
                              const char* function);

/// Writes the printf output buffered by the kernel launch that just ended: the lines of block 0
/// (thread 0's, then thread 1's, …), then block 1's — the same order whatever the schedule.
void flush_device_printf();

}  // namespace llmlab::emu

/// Stops the kernel: the launch fails, naming block, thread and the calling line.
[[noreturn]] inline void __trap(const std::source_location& where = std::source_location::current()) {
  llmlab::emu::trap(where);
}

extern "C" {
/// printf: inside a kernel the output is buffered per thread and written, ordered by block then
/// thread, when the launch ends; elsewhere it is the C library's printf.
int llmlab_emu_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
}
namespace std {
using ::llmlab_emu_printf;
}

/// \cond CUDA_DEVICE_MATH
#ifndef LLMLAB_EMU_NO_PRINTF_MACRO
#define printf llmlab_emu_printf
#endif

// CUDA's device assert: a failed one fails the launch instead of aborting the process. (A later
// `#include <cassert>` restores the host's assert for the rest of that file.)
#ifndef NDEBUG
#undef assert
#define assert(e)                                                                                  \
  (static_cast<bool>(e) ? void(0) : ::llmlab::emu::assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#ifdef LLMLAB_EMU_FAST_MATH
// --use_fast_math: the plain single-precision calls become the intrinsics, as nvcc does.
namespace std {
using ::__expf, ::__exp10f, ::__logf, ::__log2f, ::__log10f, ::__sinf, ::__cosf, ::__tanf,
    ::__sincosf, ::__powf;
}
#define expf __expf
#define exp10f __exp10f
#define logf __logf
#define log2f __log2f
#define log10f __log10f
#define sinf __sinf
#define cosf __cosf
#define tanf __tanf
#define sincosf __sincosf
#define powf __powf
#endif
/// \endcond
