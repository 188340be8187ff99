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

/**
 * \brief Token + position embedding in fp32:
 *        \f$ \mathrm{out}_{b,t,c} = \mathrm{wte}_{\mathrm{ids}_{b,t},c} + \mathrm{wpe}_{t,c} \f$.
 * \param ids (B, T) device, int32, each in [0, V)   \param wte (V, C) device, fp32
 * \param wpe (maxT, C) device, fp32   \param out (B, T, C) device, fp32 (no aliasing)
 * \param B, T, C, V, maxT sizes \f$ \ge 0 \f$, T \f$ \le \f$ maxT
 * \return 0, or a cudaError_t value (1 for bad arguments, an id outside [0, V) included)
 */
int llmlab_embedding_forward_f32(const int32_t* ids, const float* wte, const float* wpe,
                                 float* out, int64_t B, int64_t T, int64_t C, int64_t V,
                                 int64_t maxT);

/**
 * \brief Token + position embedding in bf16: \f$ \mathrm{out} = \mathrm{bf16}(\mathrm{wte} +
 *        \mathrm{wpe}) \f$, the sum formed in fp32 and rounded once to nearest-even.
 * \param ids (B, T) device, int32   \param wte (V, C) device, bf16 bits
 * \param wpe (maxT, C) device, bf16 bits   \param out (B, T, C) device, bf16 bits
 * \param B, T, C, V, maxT sizes \f$ \ge 0 \f$, T \f$ \le \f$ maxT
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_embedding_forward_bf16(const int32_t* ids, const uint16_t* wte, const uint16_t* wpe,
                                  uint16_t* out, int64_t B, int64_t T, int64_t C, int64_t V,
                                  int64_t maxT);

/**
 * \brief Backward of the embedding in fp32, **accumulated** (+=) and deterministic (the same
 *        inputs give the same bits): \f$ \mathrm{dwte}_{v,c} \mathrel{+}=
 *        \sum_{(b,t):\,\mathrm{ids}_{b,t}=v} \mathrm{dout}_{b,t,c} \f$,
 *        \f$ \mathrm{dwpe}_{t,c} \mathrel{+}= \sum_b \mathrm{dout}_{b,t,c} \f$.
 * \param dout (B, T, C) device, fp32   \param ids (B, T) device, int32, each in [0, V)
 * \param dwte (V, C) device, fp32, accumulated   \param dwpe (maxT, C) device, fp32, accumulated
 * \param B, T, C, V, maxT sizes \f$ \ge 0 \f$, T \f$ \le \f$ maxT
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_embedding_backward_f32(const float* dout, const int32_t* ids, float* dwte, float* dwpe,
                                  int64_t B, int64_t T, int64_t C, int64_t V, int64_t maxT);

/**
 * \brief The residual add in fp32: \f$ \mathrm{out}_i = a_i + b_i \f$.
 * \param a (n) device, fp32   \param b (n) device, fp32   \param out (n) device, fp32
 * \param n number of elements, \f$ n \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_residual_forward_f32(const float* a, const float* b, float* out, int64_t n);

/**
 * \brief Backward of the residual add in fp32, **accumulated** (+=):
 *        \f$ \mathrm{da}_i \mathrel{+}= \mathrm{dout}_i \f$, \f$ \mathrm{db}_i \mathrel{+}= \mathrm{dout}_i \f$.
 * \param dout (n) device, fp32   \param da (n) device, fp32, accumulated
 * \param db (n) device, fp32, accumulated (no aliasing)   \param n number of elements
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_residual_backward_f32(const float* dout, float* da, float* db, int64_t n);

/**
 * \brief Softmax of each row in fp32, the row maximum subtracted first:
 *        \f$ y_{r,j} = e^{x_{r,j} - m_r} / \sum_k e^{x_{r,k} - m_r},\ m_r = \max_k x_{r,k} \f$.
 * \param x (R, C) device, fp32, row-major   \param y (R, C) device, fp32 (no aliasing)
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when R > 0 (no softmax of 0 values)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_softmax_forward_f32(const float* x, float* y, int64_t rows, int64_t cols);

/**
 * \brief Softmax of each row in bf16, computed in fp32, each output rounded once to bf16.
 * \param x (R, C) device, bf16 bits   \param y (R, C) device, bf16 bits (no aliasing)
 * \param rows R \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when R > 0
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_softmax_forward_bf16(const uint16_t* x, uint16_t* y, int64_t rows, int64_t cols);

/**
 * \brief Backward of the softmax in fp32 from its output y, **accumulated** (+=):
 *        \f$ \mathrm{dx}_{r,i} \mathrel{+}= y_{r,i} (\mathrm{dy}_{r,i} - \sum_j \mathrm{dy}_{r,j}
 *        y_{r,j}) \f$.
 * \param dy (R, C) device, fp32   \param y (R, C) device, fp32
 * \param dx (R, C) device, fp32, accumulated   \param rows R \f$ \ge 0 \f$
 * \param cols C \f$ \ge 1 \f$ when R > 0
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_softmax_backward_f32(const float* dy, const float* y, float* dx, int64_t rows,
                                int64_t cols);

/**
 * \brief Layer normalisation of each row in fp32 (biased variance, as PyTorch):
 *        \f$ y_{r,c} = (x_{r,c} - \mu_r)\, s_r\, w_c + b_c \f$ with
 *        \f$ \mu_r = \frac{1}{C}\sum_c x_{r,c} \f$ and
 *        \f$ s_r = 1/\sqrt{\frac{1}{C}\sum_c (x_{r,c} - \mu_r)^2 + \epsilon} \f$.
 * \param x (N, C) device, fp32, row-major   \param w (C) device, fp32
 * \param b (C) device, fp32   \param y (N, C) device, fp32 (no aliasing)
 * \param mean (N) device, fp32: \f$ \mu \f$   \param rstd (N) device, fp32: \f$ s \f$
 * \param rows N \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when N > 0
 * \param eps \f$ \epsilon > 0 \f$ (GPT-2: 1e-5)
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_layernorm_forward_f32(const float* x, const float* w, const float* b, float* y,
                                 float* mean, float* rstd, int64_t rows, int64_t cols, float eps);

/**
 * \brief Layer normalisation in bf16: x, w, b and y in bf16, the math in fp32, y rounded once to
 *        nearest-even; mean and rstd in fp32.
 * \param x (N, C) device, bf16 bits   \param w (C) device, bf16 bits
 * \param b (C) device, bf16 bits   \param y (N, C) device, bf16 bits
 * \param mean (N) device, fp32   \param rstd (N) device, fp32
 * \param rows N \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when N > 0
 * \param eps \f$ \epsilon > 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_layernorm_forward_bf16(const uint16_t* x, const uint16_t* w, const uint16_t* b,
                                  uint16_t* y, float* mean, float* rstd, int64_t rows,
                                  int64_t cols, float eps);

/**
 * \brief Backward of layer normalisation in fp32, **accumulated** (+=) and deterministic. With
 *        \f$ \hat{x} = (x - \mu) s \f$ and \f$ g = w \odot dy \f$ (bars: means over the row):
 *        \f$ dx \mathrel{+}= s (g - \bar{g} - \hat{x}\, \overline{g \hat{x}}) \f$,
 *        \f$ dw_c \mathrel{+}= \sum_r \hat{x}_{r,c}\, dy_{r,c} \f$,
 *        \f$ db_c \mathrel{+}= \sum_r dy_{r,c} \f$.
 * \param dy (N, C) device, fp32   \param x (N, C) device, fp32   \param w (C) device, fp32
 * \param mean (N) device, fp32, as the forward wrote it
 * \param rstd (N) device, fp32, as the forward wrote it
 * \param dx (N, C) device, fp32, accumulated
 * \param dw (C) device, fp32, accumulated   \param db (C) device, fp32, accumulated
 * \param rows N \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when N > 0
 * \return 0, or a cudaError_t value (1 for bad arguments; 2, cudaErrorMemoryAllocation, when the
 *         plugin's scratch for the dw/db partial sums cannot be allocated)
 */
int llmlab_layernorm_backward_f32(const float* dy, const float* x, const float* w,
                                  const float* mean, const float* rstd, float* dx, float* dw,
                                  float* db, int64_t rows, int64_t cols);

/**
 * \brief Backward of layer normalisation in bf16: dy, x, w and dx in bf16 (dx read, added to in
 *        fp32, rounded once); mean, rstd, dw and db in fp32 (dw, db accumulated).
 * \param dy (N, C) device, bf16 bits   \param x (N, C) device, bf16 bits
 * \param w (C) device, bf16 bits   \param mean (N) device, fp32   \param rstd (N) device, fp32
 * \param dx (N, C) device, bf16 bits, accumulated
 * \param dw (C) device, fp32, accumulated   \param db (C) device, fp32, accumulated
 * \param rows N \f$ \ge 0 \f$   \param cols C \f$ \ge 1 \f$ when N > 0
 * \return 0, or a cudaError_t value (1 for bad arguments, 2 when scratch cannot be allocated)
 */
int llmlab_layernorm_backward_bf16(const uint16_t* dy, const uint16_t* x, const uint16_t* w,
                                   const float* mean, const float* rstd, uint16_t* dx, float* dw,
                                   float* db, int64_t rows, int64_t cols);

/**
 * \brief GELU, GPT-2's tanh approximation, in fp32:
 *        \f$ y_i = \tfrac{1}{2} x_i (1 + \tanh(\sqrt{2/\pi}(x_i + 0.044715 x_i^3))) \f$.
 * \param x (n) device, fp32   \param y (n) device, fp32 (may equal x)
 * \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_forward_f32(const float* x, float* y, int64_t n);

/**
 * \brief GELU in bf16: computed in fp32, each output rounded once to nearest-even.
 * \param x (n) device, bf16 bits   \param y (n) device, bf16 bits (may equal x)
 * \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_forward_bf16(const uint16_t* x, uint16_t* y, int64_t n);

/**
 * \brief Backward of GELU in fp32, **accumulated** (+=):
 *        \f$ dx_i \mathrel{+}= \mathrm{gelu}'(x_i)\, dy_i \f$.
 * \param dy (n) device, fp32   \param x (n) device, fp32
 * \param dx (n) device, fp32, accumulated (aliasing neither dy nor x)
 * \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_backward_f32(const float* dy, const float* x, float* dx, int64_t n);

/**
 * \brief Backward of GELU in bf16: dx read, \f$ \mathrm{gelu}'(x)\, dy \f$ added in fp32, rounded
 *        once.
 * \param dy (n) device, bf16 bits   \param x (n) device, bf16 bits
 * \param dx (n) device, bf16 bits, accumulated   \param n elements \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_gelu_backward_bf16(const uint16_t* dy, const uint16_t* x, uint16_t* dx, int64_t n);

/**
 * \brief The linear layer in fp32: \f$ y_{n,o} = \sum_{i<\mathrm{in}} x_{n,i} W_{o,i} + b_o \f$
 *        (\f$ y = x W^\top + b \f$, as `torch.nn.Linear`).
 * \param x (N, in) device, fp32, row-major   \param w (out, in) device, fp32, row-major
 * \param b (out) device, fp32   \param y (N, out) device, fp32 (no aliasing)
 * \param N rows \f$ \ge 0 \f$   \param in inner dimension \f$ \ge 0 \f$ (0 writes b)
 * \param out outputs per row \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_matmul_forward_f32(const float* x, const float* w, const float* b, float* y, int64_t N,
                              int64_t in, int64_t out);

/**
 * \brief The linear layer in bf16: \f$ y_{n,o} = \mathrm{bf16}\big(\sum_i x_{n,i} W_{o,i} + b_o\big)
 *        \f$, products and sums in fp32, rounded once to nearest-even.
 * \param x (N, in) device, bf16 bits   \param w (out, in) device, bf16 bits
 * \param b (out) device, bf16 bits   \param y (N, out) device, bf16 bits (no aliasing)
 * \param N rows \f$ \ge 0 \f$   \param in inner dimension \f$ \ge 0 \f$
 * \param out outputs per row \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_matmul_forward_bf16(const uint16_t* x, const uint16_t* w, const uint16_t* b,
                               uint16_t* y, int64_t N, int64_t in, int64_t out);

/**
 * \brief Backward of the fp32 linear layer, **accumulated** into the gradients (+=):
 *        \f$ dx \mathrel{+}= dy\, W \f$, \f$ dW \mathrel{+}= dy^\top x \f$,
 *        \f$ db_o \mathrel{+}= \sum_n dy_{n,o} \f$.
 * \param dy (N, out) device, fp32   \param x (N, in) device, fp32   \param w (out, in) device, fp32
 * \param dx (N, in) device, fp32, accumulated   \param dw (out, in) device, fp32, accumulated
 * \param db (out) device, fp32, accumulated
 * \param N rows \f$ \ge 0 \f$   \param in inner dimension \f$ \ge 0 \f$
 * \param out outputs per row \f$ \ge 0 \f$
 * \return 0, or a cudaError_t value (1 for bad arguments)
 */
int llmlab_matmul_backward_f32(const float* dy, const float* x, const float* w, float* dx,
                               float* dw, float* db, int64_t N, int64_t in, int64_t out);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* LLMLAB_CUDA_ABI_H */
