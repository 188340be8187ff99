#pragma once
/// \file
/// \brief `run(launcher)`: launch a kernel through its launcher, wait for it, and say what went
/// wrong as one printable line — a failed launch, a fault in the kernel, or the launcher's
/// llmlab::Error (including a lab starter's "not implemented").

#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/kernel.cuh"

namespace llmlab::testing {

/// Runs `launcher` (a callable returning the launch's cudaError_t) and synchronises the device.
/// @returns "" on success, else the launch's or the kernel's error, or the llmlab::Error's message.
template <class F>
std::string run(F&& launcher) {
  try {
    const cudaError_t launched = launcher();
    if (launched != cudaSuccess)
      return std::string("the launch returned ") + cudaGetErrorString(launched);
    const cudaError_t synced = cudaDeviceSynchronize();
    if (synced != cudaSuccess)
      return std::string("the kernel failed: ") + cudaGetErrorString(synced);
    return "";
  } catch (const llmlab::Error& e) {
    return e.what();
  }
}

}  // namespace llmlab::testing
