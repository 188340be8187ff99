// The rest of the emulated runtime's memory, stream and event calls (runtime_api.cpp has the
// basics): pitched copies, managed and pinned host memory, stream and event variants. The emulator
// runs a launch to completion before it returns, so every "async" call here is synchronous and a
// stream or event is always complete (docs/emulator.md, "Runtime functions").

#include <cstring>

#include "llmlab/emu/emu.hpp"
#include "memory.hpp"
#include "racecheck.hpp"

extern "C" {

cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                         size_t height, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return cudaErrorInvalidMemcpyDirection;
  if (width > dpitch || width > spitch) return cudaErrorInvalidPitchValue;
  if (width == 0 || height == 0) return cudaSuccess;
  if (!dst || !src) return cudaErrorInvalidValue;
  // The pitched ranges, first row to last row's end, as cudaMemcpy checks its ranges.
  using llmlab::emu::detail::checked;
  const size_t dst_span = (height - 1) * dpitch + width, src_span = (height - 1) * spitch + width;
  if (const cudaError_t e = checked("cudaMemcpy2D", dst, dst_span, "destination"); e != cudaSuccess)
    return e;
  if (const cudaError_t e = checked("cudaMemcpy2D", src, src_span, "source"); e != cudaSuccess) return e;
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  for (size_t row = 0; row < height; ++row) {
    std::memmove(d + row * dpitch, s + row * spitch, width);
    // the memory checks count copied bytes as initialised (racecheck.hpp)
    llmlab::emu::detail::mark_initialised(reinterpret_cast<std::uintptr_t>(d + row * dpitch), width);
  }
  return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                              size_t height, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy2D(dst, dpitch, src, spitch, width, height, kind);
}

cudaError_t cudaMallocManaged(void** devPtr, size_t size, unsigned int flags) {
  if (flags != cudaMemAttachGlobal && flags != cudaMemAttachHost) return cudaErrorInvalidValue;
  return cudaMalloc(devPtr, size);  // host memory either way: counted like cudaMalloc
}

cudaError_t cudaHostAlloc(void** pHost, size_t size, unsigned int) { return cudaMallocHost(pHost, size); }

cudaError_t cudaHostGetDevicePointer(void** pDevice, void* pHost, unsigned int flags) {
  if (!pDevice || !pHost || flags != 0) return cudaErrorInvalidValue;
  *pDevice = pHost;  // one address space
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* pStream, unsigned int flags) {
  if (flags != cudaStreamDefault && flags != cudaStreamNonBlocking) return cudaErrorInvalidValue;
  return cudaStreamCreate(pStream);
}

cudaError_t cudaStreamCreateWithPriority(cudaStream_t* pStream, unsigned int flags, int) {
  return cudaStreamCreateWithFlags(pStream, flags);
}

cudaError_t cudaDeviceGetStreamPriorityRange(int* leastPriority, int* greatestPriority) {
  if (leastPriority) *leastPriority = 0;
  if (greatestPriority) *greatestPriority = -5;
  return cudaSuccess;
}

cudaError_t cudaStreamQuery(cudaStream_t) { return cudaSuccess; }  // its work is done already

cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned int) {
  return event ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (flags & ~static_cast<unsigned>(cudaEventBlockingSync | cudaEventDisableTiming |
                                     cudaEventInterprocess))
    return cudaErrorInvalidValue;
  return cudaEventCreate(event);
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  return event ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  cudaDeviceProp prop;
  if (const cudaError_t e = cudaGetDeviceProperties(&prop, 0); e != cudaSuccess) return e;
  const llmlab::emu::MemoryCounters m = llmlab::emu::memory_counters();
  if (total) *total = prop.totalGlobalMem;
  if (free) *free = prop.totalGlobalMem > m.live_bytes ? prop.totalGlobalMem - m.live_bytes : 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceReset(void) { return cudaSuccess; }

}  // extern "C"
