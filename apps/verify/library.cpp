/// \file
/// \brief KernelLibrary: dlopen, dlsym, and the runtime found next to the kernels.

#include "verify/library.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <utility>

#include "llmlab/core/guard_zone.hpp"

namespace llmlab::app {
namespace {

// The cudaMemcpyKind values of driver_types.h (stable since CUDA 1.0); the app includes no CUDA
// header, so it cannot take them from there.
constexpr int kHostToDevice = 1;
constexpr int kDeviceToHost = 2;

/// A whole guard zone's pattern (the emulator's, llmlab/core/guard_zone.hpp).
const std::vector<unsigned char>& guard_pattern() {
  static const std::vector<unsigned char> p = [] {
    std::vector<unsigned char> v(KernelLibrary::kGuardBytes);
    guard::fill(v);
    return v;
  }();
  return p;
}

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
  void* raw = nullptr;
  const int rc = malloc_(&raw, bytes + 2 * kGuardBytes);
  if (rc != 0) {
    throw std::runtime_error("cudaMalloc(" + std::to_string(bytes) +
                             " bytes) failed: " + error_string(rc));
  }
  auto* inner = static_cast<unsigned char*>(raw) + kGuardBytes;
  try {
    to_device(raw, guard_pattern().data(), kGuardBytes);
    to_device(inner + bytes, guard_pattern().data(), kGuardBytes);
  } catch (...) {
    free_(raw);
    throw;
  }
  blocks_[inner] = {raw, bytes};
  return inner;
}

void KernelLibrary::release(void* device_ptr) const noexcept {
  const auto it = blocks_.find(device_ptr);
  if (it == blocks_.end()) return;
  free_(it->second.raw);
  blocks_.erase(it);
}

std::string KernelLibrary::guard_violation(const void* inner, std::size_t element,
                                           const std::string& name) const {
  const auto it = blocks_.find(inner);
  if (it == blocks_.end()) return "";
  const std::size_t bytes = it->second.bytes;
  const auto* raw = static_cast<const unsigned char*>(it->second.raw);
  std::vector<unsigned char> front(kGuardBytes), back(kGuardBytes);
  to_host(front.data(), raw, kGuardBytes);
  to_host(back.data(), raw + kGuardBytes + bytes, kGuardBytes);
  const auto what = "`" + name + "` (" + std::to_string(bytes / element) + " elements)";
  const auto e = static_cast<std::ptrdiff_t>(element);
  // The overrun nearest the buffer: the first changed byte after it, the last one before it.
  if (const auto after = guard::damage_after(back, bytes)) {
    const std::ptrdiff_t past = (after->first - static_cast<std::ptrdiff_t>(bytes)) / e;
    return what + ": element " + std::to_string(static_cast<std::ptrdiff_t>(bytes) / e + past) +
           ", " + std::to_string(past + 1) + " past the end";
  }
  if (const auto before = guard::damage_before(front)) {
    const std::ptrdiff_t elements_before = (-before->last + e - 1) / e;
    return what + ": element -" + std::to_string(elements_before) + ", " +
           std::to_string(elements_before) + " before the start";
  }
  return "";
}

void KernelLibrary::name_parameters(const std::string& symbol, std::vector<std::string> names) {
  parameters_[symbol] = std::move(names);
}

int KernelLibrary::call(const char* symbol, std::initializer_list<CallArg> args,
                        const std::function<int()>& invoke) const {
  call_failure_.reset();
  called_not_exported_ = not_exported_.contains(std::string_view(symbol));
  if (called_not_exported_) return 0;  // emit_judged reports the case as not checked
  if (gate_) {
    const CallDecision d = gate_(symbol);
    if (d.kind == CallDecision::Kind::skip) return 0;
    if (d.kind == CallDecision::Kind::fail) {
      call_failure_ = d.message;
      return -1;
    }
  }
  const int rc = invoke();
  if (rc != 0) return rc;  // call_error reports it with the runtime's words
  if (const int sync = synchronize(); sync != 0) {
    call_failure_ = std::string("cudaDeviceSynchronize after `") + symbol + "` returned " +
                    error_string(sync);
    return rc;
  }
  const auto names = parameters_.find(symbol);
  std::size_t i = 0;
  for (const CallArg& a : args) {
    const std::string name = names != parameters_.end() && i < names->second.size()
                                 ? names->second[i]
                                 : "argument " + std::to_string(i + 1);
    ++i;
    if (a.ptr == nullptr) continue;
    if (std::string bad = guard_violation(a.ptr, a.element, name); !bad.empty()) {
      call_failure_ = std::string("`") + symbol + "` wrote outside " + bad;
      return rc;
    }
  }
  return rc;
}

std::optional<std::string> KernelLibrary::take_call_failure() const {
  std::optional<std::string> f = std::move(call_failure_);
  call_failure_.reset();
  return f;
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
