#ifndef LLMLAB_CUDA_ABI_H
#define LLMLAB_CUDA_ABI_H
/**
 * \file
 * \brief The C ABI that `llmlab verify` loads from a shared library: how anyone's kernels (ours in
 *        libllmlab_plugin_{emu,gpu}.so, or your own) are checked against the reference.
 *
 * A plugin is a shared library that exports the symbols below with C linkage. The harness
 * `dlopen`s it, looks each symbol up with `dlsym`, fills inputs from a seeded generator, calls the
 * function, and judges the output with the oracle (tests/oracle) against the double-precision
 * reference.
 *
 * Rules every plugin follows:
 * - **Device pointers.** Every pointer argument is device memory, allocated by the harness with
 *   the `cudaMalloc`, `cudaMemcpy` and `cudaFree` that it finds with `dlsym` in *the plugin itself*
 *   (or the libraries it links). So the plugin must link the CUDA runtime (GPU build: libcudart)
 *   or the emulator (`llmlab::emu`, emulated build) — the same runtime its kernels launch on.
 *   Buffers hold exactly the elements listed below.
 * - **Return value.** 0 (`cudaSuccess`) on success, otherwise a `cudaError_t` value. Nothing may
 *   throw across this C boundary: catch everything and return 1 (`cudaErrorInvalidValue`).
 * - **Streams.** Launch on the default stream; the harness reads outputs back with `cudaMemcpy`,
 *   which waits for them.
 * - **Sizes** are `int64_t`; a size of 0 is valid and returns 0 without touching memory (except
 *   `cols` = 0, which writes zeros to the R outputs).
 * - **bf16** is passed as its raw 16 bits (`uint16_t`): the top half of the IEEE float32 pattern,
 *   so C callers need no CUDA header. Outputs in bf16 are rounded to nearest, ties to even.
 *
 * Our own plugin (optimized/src/abi.cu) forwards each symbol to the C++ launcher of the same
 * name in llmlab::cuda, default version.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief Element-wise sum in fp32: \f$ c_i = a_i + b_i,\ 0 \le i < n \f$.
 * \param a (n) device, fp32   \param b (n) device, fp32   \param c (n) device, fp32 (no aliasing)
 * \param n number of elements, \f$ n \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n);

/**
 * \brief Element-wise sum in bf16: \f$ c_i = \mathrm{bf16}(a_i + b_i) \f$, the sum formed in fp32
 *        and rounded once to nearest-even.
 * \param a (n) device, bf16 bits   \param b (n) device, bf16 bits
 * \param c (n) device, bf16 bits (no aliasing)   \param n number of elements, \f$ n \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n);

/**
 * \brief Row-wise sum in fp32: \f$ \mathrm{out}_r = \sum_{c=0}^{C-1} x_{r,c},\ 0 \le r < R \f$.
 * \param x (R, C) device, fp32, row-major   \param out (R) device, fp32
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 0 \f$ (C = 0 writes zeros)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_reduce_sum_f32(const float* x, float* out, int64_t rows, int64_t cols);

/**
 * \brief Row-wise sum of bf16 input, accumulated and written in fp32:
 *        \f$ \mathrm{out}_r = \sum_{c=0}^{C-1} x_{r,c} \f$.
 * \param x (R, C) device, bf16 bits, row-major   \param out (R) device, fp32
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 0 \f$ (C = 0 writes zeros)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_reduce_sum_bf16(const uint16_t* x, float* out, int64_t rows, int64_t cols);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_H */
