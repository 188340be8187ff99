/* A kernel library that misbehaves in one chosen way, to prove that `llmlab verify` survives the
 * kernels it judges (docs/hostile_input.md). It exports vector_add's two C entry points
 * (llmlab/cuda/abi/vector_add.h) and links the emulator's runtime, whose device memory is host
 * memory, so plain C can play the kernel. Every case is computed right except the f32 case with
 * n = 97, which does what HOSTILE names (one build per behaviour, apps/tests/CMakeLists.txt):
 *   null_write     writes through a null pointer (SIGSEGV)
 *   abort          calls abort() (SIGABRT)
 *   exit0          calls exit(0), which a careless harness reports as success
 *   endless        never returns (the per-case timeout)
 *   heap_overflow  writes 1 MiB past the end of c (corrupts the heap, or SIGSEGV)
 *   one_past_end   writes c[n], one element past the end (the guard zone)
 *   before_start   writes c[-2], two elements before the start (the guard zone)
 *   nan_output     writes NaN into c[3]
 *   ctor_crash     crashes while the library loads (a constructor), before any call
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "llmlab/cuda/abi/vector_add.h"

/* The emulator's runtime (libllmlab_emu.so) declares it in C++; called once per entry point, so the
 * library really depends on the runtime `llmlab verify` looks up next to the kernels. */
int cudaDeviceSynchronize(void);

#define HOSTILE_CAT(a, b) a##b
#define HOSTILE_XCAT(a, b) HOSTILE_CAT(a, b)
enum { HOSTILE_null_write, HOSTILE_abort, HOSTILE_exit0, HOSTILE_endless, HOSTILE_heap_overflow,
       HOSTILE_one_past_end, HOSTILE_before_start, HOSTILE_nan_output, HOSTILE_ctor_crash };
#define BEHAVIOUR HOSTILE_XCAT(HOSTILE_, HOSTILE)

/* A null address the compiler cannot see through (a constant null store is undefined behaviour,
 * which it may delete along with the path to it). */
static volatile uintptr_t null_address = 0;

__attribute__((constructor)) static void hostile_load(void) {
  if (BEHAVIOUR == HOSTILE_ctor_crash) *(volatile int*)null_address = 1;
}

static void misbehave(float* c, int64_t n) {
  volatile float* v = c;
  switch (BEHAVIOUR) {
    case HOSTILE_null_write: *(volatile float*)null_address = 1.0f; break;
    case HOSTILE_abort: abort();
    case HOSTILE_exit0: exit(0);
    case HOSTILE_endless: for (;;) v[0] = v[0];
    case HOSTILE_heap_overflow:
      for (int64_t i = n; i < n + (1 << 18); ++i) v[i] = 1.0f;
      break;
    case HOSTILE_one_past_end: v[n] = 1.0f; break;
    case HOSTILE_before_start: v[-2] = 1.0f; break;
    case HOSTILE_nan_output: v[3] = NAN; break;
    default: break;
  }
}

int llmlab_vector_add_f32(const float* a, const float* b, float* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
  if (n == 97) misbehave(c, n);
  return cudaDeviceSynchronize();
}

/* bf16 bits: widen exactly, add in float, round to nearest even once. */
static float from_bf16(uint16_t h) {
  union { uint32_t u; float f; } v = {(uint32_t)h << 16};
  return v.f;
}
static uint16_t to_bf16(float f) {
  union { float f; uint32_t u; } v = {f};
  return (uint16_t)((v.u + 0x7FFFu + ((v.u >> 16) & 1u)) >> 16);
}

int llmlab_vector_add_bf16(const uint16_t* a, const uint16_t* b, uint16_t* c, int64_t n) {
  for (int64_t i = 0; i < n; ++i) c[i] = to_bf16(from_bf16(a[i]) + from_bf16(b[i]));
  return cudaDeviceSynchronize();
}
