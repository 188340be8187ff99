#pragma once
/// \file
/// \brief A kernel library opened with dlopen, and the CUDA runtime that comes with it.
///
/// `llmlab verify` never links kernels: it loads them (our plugin, or the user's `--impl` library)
/// and moves data through that library's own runtime — the emulator's `libllmlab_emu.so` or
/// NVIDIA's `libcudart.so`, whichever the library was linked against — found with dlsym on the
/// library's handle, which searches the library and its dependencies.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "llmlab/core/dtype.hpp"

namespace llmlab::app {

/// Anything that stops `llmlab verify` before its checks can run: a library that does not load,
/// a missing symbol, no device. main() prints it and exits with code 2.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One argument of a C entry point as the guard check sees it: a pointer and the size of what it
/// points to, or {nullptr, 0} for a number.
struct CallArg {
  const void* ptr = nullptr;  ///< the device pointer handed to the kernel, or nullptr
  std::size_t element = 0;    ///< sizeof the pointee (to print offsets as elements)
};

/// What the harness decides before each call of a C entry point (the worker's gate,
/// verify/worker.hpp): run it, skip it (a restarted worker replaying cases already reported), or
/// fail it without calling (the case a previous worker died in), with the message to report.
struct CallDecision {
  /// Run the call, skip it (return 0 without calling), or fail it (return −1 without calling).
  enum class Kind { run, skip, fail };
  Kind kind = Kind::run;  ///< what to do
  std::string message;                                   ///< fail: why the case failed
};

/// An allocation KernelLibrary::allocate made: what cudaMalloc returned (the guard zones included),
/// and the size the caller asked for. (Outside the class: Doxygen links a private nested class's
/// summary to a section it never writes.)
struct GuardedAllocation {
  void* raw;          ///< the block cudaMalloc returned, guard zones and all
  std::size_t bytes;  ///< the bytes the caller asked for, between the guard zones
};

/// A shared library of kernels with C entry points (optimized/include/llmlab/cuda/abi.h) and
/// the CUDA runtime it was linked against.
///
/// Every buffer it allocates carries guard zones of kGuardBytes before and after, filled with a
/// known pattern and checked after each call (call()): a kernel that writes outside its buffers
/// fails the case, naming the parameter and the element offset.
class KernelLibrary {
 public:
  /// dlopen(path, RTLD_NOW | RTLD_LOCAL).
  /// @param path the library; a bare file name in the current directory is taken from there
  /// @param shown how messages name the library (e.g. the path as the user typed it)
  /// @throws SetupError naming the path and dlerror() if it does not load.
  KernelLibrary(const std::filesystem::path& path, std::string shown);
  KernelLibrary(const KernelLibrary&) = delete;
  KernelLibrary& operator=(const KernelLibrary&) = delete;
  /// The handle is deliberately never closed: a kernel runtime may keep worker threads and
  /// thread-local state alive until exit, and unloading its code under them would crash.
  ~KernelLibrary() = default;

  /// How messages name this library.
  const std::string& shown() const { return shown_; }

  /// The address of `name` in the library or its dependencies; nullptr when absent.
  void* find(const char* name) const;

  /// Looks up the runtime functions (cudaMalloc, cudaFree, cudaMemcpy, cudaDeviceSynchronize,
  /// cudaGetErrorString) in the library and its dependencies; needed before any device call.
  /// @throws SetupError naming the first one that is missing.
  void bind_runtime();

  /// The C function `name` as a pointer of type F*; nullptr when absent.
  template <class F>
  F* function(const char* name) const {
    return reinterpret_cast<F*>(find(name));
  }

  /// Bytes of guard zone before and after every allocation (a multiple of 256, so the pointer a
  /// kernel receives keeps cudaMalloc's alignment).
  static constexpr std::size_t kGuardBytes = 4096;

  /// cudaMalloc of `bytes` plus a guard zone on each side, both filled with a pattern.
  /// @returns the address just past the front guard (what kernels receive)
  /// @throws std::runtime_error with the runtime's message.
  void* allocate(std::size_t bytes) const;
  /// cudaFree of an allocate()d buffer (guards included); errors are ignored (it runs in
  /// destructors).
  void release(void* device_ptr) const noexcept;

  /// Names the parameters of C entry point `symbol` (from its declaration), so a guard violation
  /// can say which buffer was overrun.
  void name_parameters(const std::string& symbol, std::vector<std::string> names);

  /// Marks C function `symbol` as absent (`llmlab verify --partial`): call() of it calls nothing
  /// and take_not_exported() then says so.
  void mark_not_exported(const std::string& symbol) { not_exported_.insert(symbol); }

  /// Whether the last call() was of a function marked absent (and forgets it).
  bool take_not_exported() const { return std::exchange(called_not_exported_, false); }

  /// Sets the gate asked before every call (see CallDecision); none: every call runs.
  void set_gate(std::function<CallDecision(const char* symbol)> gate) { gate_ = std::move(gate); }

  /// Calls C entry point `symbol` through `invoke`, as the gate decides; after a call that returned
  /// 0, synchronises and checks the guard zones of every pointer in `args`. A failure found here
  /// (gate, synchronisation, guard) is kept for call_error() (verify/registry.hpp) to report.
  /// @returns what `invoke` returned; 0 for a skipped call, -1 for a call the gate failed
  int call(const char* symbol, std::initializer_list<CallArg> args,
           const std::function<int()>& invoke) const;

  /// The failure call() found in the last call, if any, and forgets it.
  std::optional<std::string> take_call_failure() const;
  /// cudaMemcpy host → device. @throws std::runtime_error with the runtime's message.
  void to_device(void* dst, const void* src, std::size_t bytes) const;
  /// cudaMemcpy device → host. @throws std::runtime_error with the runtime's message.
  void to_host(void* dst, const void* src, std::size_t bytes) const;
  /// cudaDeviceSynchronize; @returns its cudaError_t as an int (0 = success).
  int synchronize() const;
  /// cudaGetErrorString(code), or "error <code>" if the runtime has no text for it.
  std::string error_string(int code) const;

 private:
  using MallocFn = int(void**, std::size_t);
  using FreeFn = int(void*);
  using MemcpyFn = int(void*, const void*, std::size_t, int);  // kind: cudaMemcpyKind
  using SyncFn = int();
  using ErrorStringFn = const char*(int);

  /// "`c` (97 elements): element 97, 1 past the end", or "" when both guards are intact.
  std::string guard_violation(const void* inner, std::size_t element, const std::string& name) const;

  void* handle_ = nullptr;
  std::string shown_;
  mutable std::map<const void*, GuardedAllocation> blocks_;  // by the pointer kernels receive
  std::map<std::string, std::vector<std::string>> parameters_;
  std::function<CallDecision(const char*)> gate_;
  std::set<std::string, std::less<>> not_exported_;  // --partial: functions the library lacks
  mutable bool called_not_exported_ = false;
  mutable std::optional<std::string> call_failure_;
  MallocFn* malloc_ = nullptr;
  FreeFn* free_ = nullptr;
  MemcpyFn* memcpy_ = nullptr;
  SyncFn* synchronize_ = nullptr;
  ErrorStringFn* error_string_ = nullptr;
};

/// Device memory a kernel wrote, readable back as doubles for the oracle.
class DeviceOutput {
 public:
  virtual ~DeviceOutput() = default;
  /// The elements widened to double: floats as they are, bf16 bits (std::uint16_t) as the values
  /// they stand for.
  virtual std::vector<double> widened() const = 0;
};

/// n elements of T in the library's device memory, freed on destruction. T is what crosses the C
/// ABI: float, std::uint16_t (bf16 bits) or std::int32_t (ids).
template <class T>
class DeviceArray : public DeviceOutput {
 public:
  /// Allocates n elements (uninitialised). @throws std::runtime_error if cudaMalloc fails.
  DeviceArray(const KernelLibrary& lib, std::size_t n)
      : lib_(&lib), n_(n), ptr_(static_cast<T*>(lib.allocate(n * sizeof(T)))) {}
  /// Allocates and copies `host` to the device.
  DeviceArray(const KernelLibrary& lib, std::span<const T> host) : DeviceArray(lib, host.size()) {
    lib.to_device(ptr_, host.data(), host.size_bytes());
  }
  /// Allocates and copies `host` to the device.
  DeviceArray(const KernelLibrary& lib, const std::vector<T>& host)
      : DeviceArray(lib, std::span<const T>(host)) {}
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() override { lib_->release(ptr_); }

  /// The device pointer.
  T* get() const { return ptr_; }
  /// Copies the n elements back to the host.
  std::vector<T> download() const {
    std::vector<T> host(n_);
    lib_->to_host(host.data(), ptr_, n_ * sizeof(T));
    return host;
  }
  /// The elements as doubles (bf16 bits widened exactly).
  std::vector<double> widened() const override {
    std::vector<double> out;
    for (const T v : download()) {
      if constexpr (std::is_same_v<T, std::uint16_t>)
        out.push_back(bf16_bits_to_float(v));
      else
        out.push_back(static_cast<double>(v));
    }
    return out;
  }

 private:
  const KernelLibrary* lib_;
  std::size_t n_;
  T* ptr_;
};

}  // namespace llmlab::app
