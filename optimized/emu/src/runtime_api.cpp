// The CUDA runtime subset, defined against the toolkit's own declarations (cuda_runtime_api.h), so
// the emulated build needs no libcudart (which fails without a driver). Device memory is host
// memory between guard zones (memory.cpp; exact-size under AddressSanitizer, which guards both ends).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

#include "memory.hpp"
#include "racecheck.hpp"
#include "runtime_state.hpp"

namespace llmlab::emu {
namespace detail {
namespace {
std::mutex state_mutex;
cudaError_t last_error = cudaSuccess;
std::string last_message;
cudaError_t last_error_code_of_message = cudaSuccess;  // the code last_message was recorded with
}  // namespace

void record_error(cudaError_t code, const std::string& message) {
  {
    std::lock_guard lock(state_mutex);
    last_error = code;
    last_message = message;
    last_error_code_of_message = code;
  }
  if (!std::getenv("LLMLAB_EMU_QUIET")) std::fprintf(stderr, "%s\n", message.c_str());
}

cudaError_t checked(const char* what, const void* p, std::size_t count, const char* role) {
  std::string problem;
  const cudaError_t e = check_range(p, count, role, problem);
  if (e != cudaSuccess) record_error(e, std::string("llmlab emu: ") + what + ": " + problem);
  return e;
}
}  // namespace detail

std::string last_diagnostic() {
  std::lock_guard lock(detail::state_mutex);
  return detail::last_message;
}

}  // namespace llmlab::emu

namespace {
using llmlab::emu::detail::checked;

// Records `code` with "llmlab emu: <message>" (cudaGetLastError, last_diagnostic) and returns it.
cudaError_t fail(cudaError_t code, const std::string& message) {
  llmlab::emu::detail::record_error(code, "llmlab emu: " + message);
  return code;
}

// cudaGetErrorString's text for `code`, followed by the last diagnostic when it was recorded with
// this code, so a caller that prints only the error string still names kernel, launch and line.
// Only for codes the emulator always records a diagnostic with (launch failure, illegal address,
// invalid configuration): a plain cudaErrorInvalidValue must not borrow a stale one.
// Interned: the pointer stays valid for the process (one entry per distinct diagnostic).
const char* with_diagnostic(cudaError_t code, const char* text) {
  std::lock_guard lock(llmlab::emu::detail::state_mutex);
  if (llmlab::emu::detail::last_error_code_of_message != code ||
      llmlab::emu::detail::last_message.empty())
    return text;
  static std::set<std::string> interned;
  return interned.insert(std::string(text) + " — " + llmlab::emu::detail::last_message)
      .first->c_str();
}

struct EmulatedEvent {
  std::chrono::steady_clock::time_point when{};
};
int stream_tag;  // cudaStream_t values handed out are addresses of this object
}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** devPtr, size_t size) {
  if (!devPtr) return cudaErrorInvalidValue;
  *devPtr = llmlab::emu::detail::device_allocate(size);
  if (!*devPtr) return cudaErrorMemoryAllocation;
  // What kernels see, between the guard zones: the memory checks' shadow covers exactly it.
  llmlab::emu::detail::register_allocation(reinterpret_cast<std::uintptr_t>(*devPtr), size, true);
  return cudaSuccess;
}

cudaError_t cudaFree(void* devPtr) {
  using llmlab::emu::detail::Release;
  if (!devPtr) return cudaSuccess;
  std::string damage;
  const Release released = llmlab::emu::detail::device_release(devPtr, damage);
  if (released != Release::unknown)
    llmlab::emu::detail::forget_allocation(reinterpret_cast<std::uintptr_t>(devPtr));
  switch (released) {
    case Release::freed: return cudaSuccess;
    case Release::damaged:
      return fail(cudaErrorIllegalAddress, "cudaFree found a write outside " + damage +
                                               " (by host code since the last check: launches "
                                               "are checked as they end)");
    case Release::unknown: break;
  }
  std::ostringstream s;
  s << "cudaFree(" << devPtr << "): not a pointer cudaMalloc returned, or freed already";
  return fail(cudaErrorInvalidValue, s.str());
}

cudaError_t cudaMallocHost(void** ptr, size_t size) {
  const cudaError_t e = cudaMalloc(ptr, size);
  // Host memory: the host writes it directly, which the uninitialised-read check cannot see.
  if (e == cudaSuccess)
    llmlab::emu::detail::register_allocation(reinterpret_cast<std::uintptr_t>(*ptr), size, false);
  return e;
}
cudaError_t cudaFreeHost(void* ptr) { return cudaFree(ptr); }

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return cudaErrorInvalidMemcpyDirection;
  if (count && (!dst || !src)) return cudaErrorInvalidValue;
  if (!count) return cudaSuccess;
  if (const cudaError_t e = checked("cudaMemcpy", dst, count, "destination"); e != cudaSuccess) return e;
  if (const cudaError_t e = checked("cudaMemcpy", src, count, "source"); e != cudaSuccess) return e;
  std::memmove(dst, src, count);
  llmlab::emu::detail::mark_initialised(reinterpret_cast<std::uintptr_t>(dst), count);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, count, kind);
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count) {
  if (count && !devPtr) return cudaErrorInvalidValue;
  if (!count) return cudaSuccess;
  if (const cudaError_t e = checked("cudaMemset", devPtr, count, "destination"); e != cudaSuccess)
    return e;
  std::memset(devPtr, value, count);
  llmlab::emu::detail::mark_initialised(reinterpret_cast<std::uintptr_t>(devPtr), count);
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
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
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
    case cudaErrorInvalidConfiguration:
      return with_diagnostic(error, "invalid configuration argument");
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorLaunchFailure: return with_diagnostic(error, "unspecified launch failure");
    case cudaErrorIllegalAddress:
      return with_diagnostic(error, "an illegal memory access was encountered");
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
