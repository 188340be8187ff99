#pragma once
/// \file
/// \ingroup group_gpt
/// \brief `llmlab train --backend ref|emu|gpu`: who takes the training steps. `ref` is
/// llmlab::ref::train_step on the CPU; `emu` and `gpu` are llmlab::cuda::Gpt (the model composed
/// from llmlab's CUDA kernels) behind the C ABI of <llmlab/cuda/abi/gpt.h>, loaded from
/// libllmlab_plugin_emu.so (the kernels under the emulator, on the CPU: tiny configurations only)
/// or libllmlab_plugin_gpu.so (built only with nvcc, and needing a GPU). Every backend takes the
/// same batch (get_batch of (seed, step)), schedule, clipping and AdamW (decay on the 2-D
/// tensors), and keeps a llmlab::ref::TrainState up to date on sync(), so checkpoints, evaluation
/// and generation are the reference's whatever the backend. A resumed fp32 run is bitwise the
/// uninterrupted one on every backend; a bf16 run resumes from its fp32 master weights, its bf16
/// parameters rounded to nearest again (not the stochastic rounding's bits), so not bitwise.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "llmlab/ref/train.hpp"

namespace llmlab::app {

/// Takes training steps on one backend.
class TrainBackend {
 public:
  virtual ~TrainBackend() = default;
  /// One step of `s` on the batch of step s.step (ref::train_step's update), s.step advanced.
  /// @returns the loss, lr and norm
  /// @throws llmlab::Error as ref::train_step (a non-finite loss: the parameters are kept).
  virtual ref::StepStats step(ref::TrainState& s, std::span<const std::int32_t> tokens) = 0;
  /// Copies the backend's parameters and AdamW moments into s (a no-op for ref).
  virtual void sync(ref::TrainState& s) = 0;
};

/// The backend `name` ("ref", "emu" or "gpu") for the run `s` (its parameters and moments are
/// loaded into the device model); `dtype` "f32", or "bf16" (emu and gpu: bf16 parameters and
/// activations with fp32 master weights, which the checkpoint keeps).
/// @throws std::runtime_error naming the problem: an unknown name or dtype, bf16 with ref, no
///         plugin (gpu: llmlab built without nvcc, or no GPU), a
///         plugin without the model's symbols, or the model's own refusal.
std::unique_ptr<TrainBackend> make_train_backend(const std::string& name, const std::string& dtype,
                                                 const ref::TrainState& s);

}  // namespace llmlab::app
