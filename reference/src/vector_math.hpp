#pragma once
/// \file
/// \brief Private to reference/src: element loops that call exp, vectorised with glibc's vector
/// maths library (libmvec) — the speed of the reference's GELU, softmax and cross-entropy.
///
/// A loop marked `#pragma omp simd` that calls `std::exp` can run 4, 8 or 16 elements at a time
/// only if the compiler knows a vector version of exp exists. glibc's libmvec has them
/// (`_ZGVeN16v_expf`, …, the x86-64 vector function ABI), but `<math.h>` declares them only under
/// `-ffast-math`, which would also let the compiler assume no NaN or infinity — wrong for a
/// reference that must report a NaN loss. So they are declared here, once, and nothing else about
/// floating point changes: each element is still computed by the same formula (libmvec's exp is,
/// like the scalar one, within a few ulp of the exact value). And since a vector is only as wide as
/// the instruction set the code is compiled for (SSE2 by default on x86-64: 4 floats), the
/// functions that hold such loops are compiled three times — AVX-512, AVX2 and the default —
/// and the widest the processor has is picked when the program starts (GCC's `target_clones`).
/// Which one ran can change the last bits of a result, never between runs on one machine.

#include <cmath>  // first: it defines __GLIBC__, and these declarations must follow glibc's

#if defined(__GLIBC__) && defined(__x86_64__)  // libmvec (linked in reference/CMakeLists.txt)
extern "C" {
/// \f$ e^x \f$ in float, declared with its vector versions (libmvec's `_ZGV{b,c,d,e}N*v_expf`).
#pragma omp declare simd notinbranch
float expf(float) noexcept;
/// \f$ e^x \f$ in double, declared with its vector versions (libmvec's `_ZGV{b,c,d,e}N*v_exp`).
#pragma omp declare simd notinbranch
double exp(double) noexcept;
}
#endif

/// \cond PRIVATE
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
/// Compiles the function it marks for AVX-512, AVX2 and baseline x86-64; the loader picks one.
#define LLMLAB_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LLMLAB_VECTOR_CLONES  // clang: no target_clones on templates; one baseline version
#endif
/// \endcond
