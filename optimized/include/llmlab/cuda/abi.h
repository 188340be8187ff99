#ifndef LLMLAB_CUDA_ABI_H
#define LLMLAB_CUDA_ABI_H
/**
 * \file
 * \brief The C ABI that `llmlab verify` loads from a shared library: how anyone's kernels (ours in
 *        libllmlab_plugin_{emu,gpu}.so, or your own) are checked against the reference.
 *
 * A plugin is a shared library that exports, with C linkage, the symbols of each component it
 * implements: they are declared one component per header, `<llmlab/cuda/abi/<component>.h>`
 * (each includes this one), and every component's documentation page lists them with the
 * shapes, the dtypes, which outputs are overwritten and which accumulated (+=), and the sweep
 * `llmlab verify` runs. The harness
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
 * Our own plugin (`optimized/src/abi/<component>.cu`) forwards each symbol to the C++ launcher of
 * the same name in llmlab::cuda, default version.
 */

#include <stdint.h>

#endif /* LLMLAB_CUDA_ABI_H */
