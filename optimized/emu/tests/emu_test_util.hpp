#pragma once
// Small helpers for the emulator's own tests: device arrays and scoped environment variables.

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <llmlab/cuda/kernel.cuh>

namespace llmlab::emu_test {

/// A cudaMalloc'd array filled from the host; host() copies it back.
template <class T>
class DeviceArray {
 public:
  DeviceArray(std::size_t n, T fill) : DeviceArray(std::vector<T>(n, fill)) {}
  explicit DeviceArray(const std::vector<T>& h) : n_(h.size()) {
    cudaMalloc(&p_, n_ * sizeof(T));
    cudaMemcpy(p_, h.data(), n_ * sizeof(T), cudaMemcpyHostToDevice);
  }
  ~DeviceArray() { cudaFree(p_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() { return p_; }
  const T* cget() const { return p_; }
  std::vector<T> host() const {
    std::vector<T> h(n_);
    cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }

 private:
  std::size_t n_;
  T* p_ = nullptr;
};

/// Sets an environment variable for the scope, restoring the previous value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_.c_str(), old_->c_str(), 1);
    else unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace llmlab::emu_test
