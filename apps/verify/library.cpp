/// \file
/// \brief KernelLibrary: dlopen, dlsym, and the runtime found next to the kernels.

#include "verify/library.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <utility>

namespace llmlab::app {
namespace {

// The cudaMemcpyKind values of driver_types.h (stable since CUDA 1.0); the app includes no CUDA
// header, so it cannot take them from there.
constexpr int kHostToDevice = 1;
constexpr int kDeviceToHost = 2;

/// dlerror()'s message, or "(no message)".
std::string last_dl_error() {
  const char* e = dlerror();
  return e ? e : "(no message)";
}

}  // namespace

KernelLibrary::KernelLibrary(const std::filesystem::path& path, std::string shown)
    : shown_(std::move(shown)) {
  // dlopen treats a name without '/' as a library to search for, not a file here.
  std::filesystem::path target = path;
  if (!path.has_parent_path() && std::filesystem::exists(path)) target = "./" / path;
  dlerror();
  handle_ = dlopen(target.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    throw SetupError("cannot load the kernel library " + shown_ + ": " + last_dl_error());
  }
}

void KernelLibrary::bind_runtime() {
  const auto need = [&](const char* name) {
    void* p = find(name);
    if (p == nullptr) {
      throw SetupError(shown_ + " brings no CUDA runtime: `" + name +
                       "` is neither in it nor in the libraries it depends on. Link it against "
                       "llmlab::emu (llmlab_add_cuda_library does) or CUDA::cudart.");
    }
    return p;
  };
  malloc_ = reinterpret_cast<MallocFn*>(need("cudaMalloc"));
  free_ = reinterpret_cast<FreeFn*>(need("cudaFree"));
  memcpy_ = reinterpret_cast<MemcpyFn*>(need("cudaMemcpy"));
  synchronize_ = reinterpret_cast<SyncFn*>(need("cudaDeviceSynchronize"));
  error_string_ = reinterpret_cast<ErrorStringFn*>(need("cudaGetErrorString"));
}

void* KernelLibrary::find(const char* name) const {
  dlerror();
  return dlsym(handle_, name);
}

void* KernelLibrary::allocate(std::size_t bytes) const {
  void* p = nullptr;
  const int rc = malloc_(&p, std::max<std::size_t>(bytes, 1));
  if (rc != 0) {
    throw std::runtime_error("cudaMalloc(" + std::to_string(bytes) +
                             " bytes) failed: " + error_string(rc));
  }
  return p;
}

void KernelLibrary::release(void* device_ptr) const noexcept {
  if (device_ptr != nullptr) free_(device_ptr);
}

void KernelLibrary::to_device(void* dst, const void* src, std::size_t bytes) const {
  if (bytes == 0) return;
  const int rc = memcpy_(dst, src, bytes, kHostToDevice);
  if (rc != 0) throw std::runtime_error("cudaMemcpy to the device failed: " + error_string(rc));
}

void KernelLibrary::to_host(void* dst, const void* src, std::size_t bytes) const {
  if (bytes == 0) return;
  const int rc = memcpy_(dst, src, bytes, kDeviceToHost);
  if (rc != 0) throw std::runtime_error("cudaMemcpy to the host failed: " + error_string(rc));
}

int KernelLibrary::synchronize() const { return synchronize_(); }

std::string KernelLibrary::error_string(int code) const {
  const char* s = error_string_(code);
  return std::string(s ? s : "unknown") + " (error " + std::to_string(code) + ")";
}

}  // namespace llmlab::app
