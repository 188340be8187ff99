// The CUDA runtime subset, defined against the toolkit's own declarations (cuda_runtime_api.h), so
// the emulated build needs no libcudart (which fails without a driver). Device memory is host
// memory: cudaMalloc is an exact-size malloc, so AddressSanitizer guards both ends.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runtime_state.hpp"

namespace llmlab::emu {
namespace detail {
namespace {
std::mutex state_mutex;
cudaError_t last_error = cudaSuccess;
std::string last_message;
}  // namespace

void record_error(cudaError_t code, const std::string& message) {
  {
    std::lock_guard lock(state_mutex);
    last_error = code;
    last_message = message;
  }
  if (!std::getenv("LLMLAB_EMU_QUIET")) std::fprintf(stderr, "%s\n", message.c_str());
}
}  // namespace detail

namespace {
std::mutex memory_mutex;
MemoryCounters memory;
std::unordered_map<std::uintptr_t, std::size_t> allocation_sizes;  // live allocations by address
}  // namespace

MemoryCounters memory_counters() {
  std::lock_guard lock(memory_mutex);
  return memory;
}

void reset_memory_counters() {
  std::lock_guard lock(memory_mutex);
  memory.peak_bytes = memory.live_bytes;
  memory.allocated_bytes = 0;
  memory.allocations = 0;
}

namespace detail {
/// Counts an allocation of `bytes` at address p (cudaMalloc's size as asked, 0 included). An address,
/// not a pointer: GCC 12 would warn that a const pointer to fresh memory reads it uninitialised.
void count_allocation(std::uintptr_t p, std::size_t bytes) {
  std::lock_guard lock(memory_mutex);
  allocation_sizes[p] = bytes;
  memory.live_bytes += bytes;
  memory.allocated_bytes += bytes;
  ++memory.allocations;
  if (memory.live_bytes > memory.peak_bytes) memory.peak_bytes = memory.live_bytes;
}
/// Counts the release of p (null, or a pointer the emulator did not hand out, counts nothing).
void count_release(std::uintptr_t p) {
  std::lock_guard lock(memory_mutex);
  const auto it = allocation_sizes.find(p);
  if (it == allocation_sizes.end()) return;
  memory.live_bytes -= it->second;
  allocation_sizes.erase(it);
}
}  // namespace detail

std::string last_diagnostic() {
  std::lock_guard lock(detail::state_mutex);
  return detail::last_message;
}

}  // namespace llmlab::emu

namespace {
struct EmulatedEvent {
  std::chrono::steady_clock::time_point when{};
};
int stream_tag;  // cudaStream_t values handed out are addresses of this object
}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** devPtr, size_t size) {
  if (!devPtr) return cudaErrorInvalidValue;
  void* p = std::malloc(size ? size : 1);
  *devPtr = p;
  if (!p) return cudaErrorMemoryAllocation;
  llmlab::emu::detail::count_allocation(reinterpret_cast<std::uintptr_t>(p), size);
  return cudaSuccess;
}

cudaError_t cudaFree(void* devPtr) {
  llmlab::emu::detail::count_release(reinterpret_cast<std::uintptr_t>(devPtr));
  std::free(devPtr);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t size) { return cudaMalloc(ptr, size); }
cudaError_t cudaFreeHost(void* ptr) { return cudaFree(ptr); }

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return cudaErrorInvalidMemcpyDirection;
  if (count && (!dst || !src)) return cudaErrorInvalidValue;
  if (count) std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
  if (count && !devPtr) return cudaErrorInvalidValue;
  if (count) std::memset(devPtr, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t) {
  return cudaMemset(devPtr, value, count);
}

cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }  // launches finish before returning

cudaError_t cudaGetLastError(void) {
  std::lock_guard lock(llmlab::emu::detail::state_mutex);
  const cudaError_t e = llmlab::emu::detail::last_error;
  llmlab::emu::detail::last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) {
  std::lock_guard lock(llmlab::emu::detail::state_mutex);
  return llmlab::emu::detail::last_error;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorInvalidPitchValue: return "cudaErrorInvalidPitchValue";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    default: return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure (emulator: see llmlab::emu::last_diagnostic())";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorInvalidPitchValue: return "invalid pitch argument";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    default: return "unknown error";
  }
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return cudaErrorInvalidValue;
  *count = 1;  // the emulated device
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return device == 0 ? cudaSuccess : cudaErrorInvalidDevice; }

cudaError_t cudaGetDevice(int* device) {
  if (!device) return cudaErrorInvalidValue;
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  if (!stream) return cudaErrorInvalidValue;
  *stream = reinterpret_cast<cudaStream_t>(&stream_tag);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  if (!event) return cudaErrorInvalidValue;
  *event = reinterpret_cast<cudaEvent_t>(new EmulatedEvent);
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<EmulatedEvent*>(event);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  if (!event) return cudaErrorInvalidResourceHandle;
  reinterpret_cast<EmulatedEvent*>(event)->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return event ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms || !start || !end) return cudaErrorInvalidValue;
  const auto d = reinterpret_cast<EmulatedEvent*>(end)->when -
                 reinterpret_cast<EmulatedEvent*>(start)->when;
  *ms = std::chrono::duration<float, std::milli>(d).count();
  return cudaSuccess;
}

}  // extern "C"
