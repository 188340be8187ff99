/// \file
/// \ingroup group_gpt
/// \brief The training backends of `llmlab train` (backend.hpp): ref on the CPU, and the CUDA
/// model through the plugin's C ABI (emu, gpu).

#include "train/backend.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/abi/gpt.h"
#include "llmlab/ref/optimizer.hpp"
#include "verify/library.hpp"
#include "verify/verify.hpp"

namespace llmlab::app {
namespace {

class RefBackend final : public TrainBackend {
 public:
  ref::StepStats step(ref::TrainState& s, std::span<const std::int32_t> tokens) override {
    return ref::train_step(s, tokens);
  }
  void sync(ref::TrainState&) override {}
};

/// The C ABI's functions, found in the plugin.
struct GptAbi {
  decltype(&llmlab_gpt_create) create;
  decltype(&llmlab_gpt_destroy) destroy;
  decltype(&llmlab_gpt_num_params) num_params;
  decltype(&llmlab_gpt_set_state) set_state;
  decltype(&llmlab_gpt_get_state) get_state;
  decltype(&llmlab_gpt_train_step) train_step;
  decltype(&llmlab_gpt_last_error) last_error;
};

class CudaBackend final : public TrainBackend {
 public:
  CudaBackend(const std::string& name, bool bf16, const ref::TrainState& s)
      : name_(name), lib_(plugin_path(name), "the " + name + " plugin") {
    const auto find = [&](auto& fn, const char* symbol) {
      fn = lib_.function<std::remove_pointer_t<std::remove_reference_t<decltype(fn)>>>(symbol);
      if (fn == nullptr)
        throw std::runtime_error("--backend " + name + ": " + lib_.shown() + " has no " + symbol +
                                 " (rebuild the target llmlab_plugin_" + name + ")");
    };
    find(abi_.create, "llmlab_gpt_create");
    find(abi_.destroy, "llmlab_gpt_destroy");
    find(abi_.num_params, "llmlab_gpt_num_params");
    find(abi_.set_state, "llmlab_gpt_set_state");
    find(abi_.get_state, "llmlab_gpt_get_state");
    find(abi_.train_step, "llmlab_gpt_train_step");
    find(abi_.last_error, "llmlab_gpt_last_error");
    A_ = s.opt.grad_accum > 1 ? s.opt.grad_accum : 1;
    if (s.opt.batch % A_ != 0)
      throw std::runtime_error("--grad-accum " + std::to_string(A_) +
                               " does not divide --batch " + std::to_string(s.opt.batch));
    T_ = s.opt.seq > 0 ? s.opt.seq : s.cfg.block_size;
    check(abi_.create(s.cfg.vocab_size, s.cfg.block_size, s.cfg.n_layer, s.cfg.n_head,
                      s.cfg.n_embd, s.opt.batch / A_, T_, bf16 ? 1 : 0, &model_),
          name == "gpu" ? "no usable GPU (making the model)" : "making the model");
    std::vector<float> p, m, v;
    ref::TrainState copy = s;  // gpt_tensors needs a mutable model
    for (const auto& t : ref::gpt_tensors(copy.params)) p.insert(p.end(), t.data, t.data + t.size);
    for (std::size_t i = 0; i < copy.m.size(); ++i) {
      m.insert(m.end(), copy.m[i].begin(), copy.m[i].end());
      v.insert(v.end(), copy.v[i].begin(), copy.v[i].end());
    }
    if (static_cast<std::int64_t>(p.size()) != abi_.num_params(model_) || m.size() != p.size())
      throw std::runtime_error("--backend " + name + ": the model has " +
                               std::to_string(abi_.num_params(model_)) + " parameters, the run " +
                               std::to_string(p.size()));
    check(abi_.set_state(model_, p.data(), m.data(), v.data()), "loading the parameters");
  }
  ~CudaBackend() override {
    if (model_ != nullptr) abi_.destroy(model_);
  }

  ref::StepStats step(ref::TrainState& s, std::span<const std::int32_t> tokens) override {
    const ref::Batch b = ref::get_batch(tokens, s.opt.batch, T_, s.opt.seed, s.step);
    const double lr = ref::lr_at(s.step, s.opt.lr, s.opt.min_lr, s.opt.warmup, s.opt.steps);
    double loss = 0, norm = 0;
    if (abi_.train_step(model_, b.ids.data(), b.targets.data(), A_, static_cast<float>(lr),
                        static_cast<float>(s.opt.beta1), static_cast<float>(s.opt.beta2),
                        static_cast<float>(s.opt.eps), static_cast<float>(s.opt.weight_decay),
                        s.step + 1, static_cast<std::uint32_t>(s.opt.seed), s.opt.clip, &loss,
                        &norm) != 0)
      throw std::runtime_error(abi_.last_error());  // it names train_step and the step
    ++s.step;
    return {loss, lr, norm};
  }

  void sync(ref::TrainState& s) override {
    const auto P = static_cast<std::size_t>(abi_.num_params(model_));
    std::vector<float> p(P), m(P), v(P);
    check(abi_.get_state(model_, p.data(), m.data(), v.data()), "reading the parameters");
    std::size_t at = 0, i = 0;
    for (const auto& t : ref::gpt_tensors(s.params)) {
      std::copy_n(p.data() + at, t.size, t.data);
      std::copy_n(m.data() + at, t.size, s.m[i].begin());
      std::copy_n(v.data() + at, t.size, s.v[i].begin());
      at += t.size;
      ++i;
    }
  }

 private:
  void check(int rc, const char* what) const {
    if (rc != 0)
      throw std::runtime_error("--backend " + name_ + ": " + what + ": " + abi_.last_error());
  }
  std::string name_;
  KernelLibrary lib_;
  GptAbi abi_{};
  llmlab_gpt* model_ = nullptr;
  std::int64_t T_ = 0;  // tokens per sequence
  std::int64_t A_ = 1;  // micro-batches per step, of batch / A sequences
};

}  // namespace

std::unique_ptr<TrainBackend> make_train_backend(const std::string& name, const std::string& dtype,
                                                 const ref::TrainState& s) {
  if (dtype != "f32" && dtype != "bf16")
    throw std::runtime_error("--dtype " + dtype + ": expected f32 or bf16");
  if (name == "ref") {
    if (dtype != "f32")
      throw std::runtime_error("--dtype bf16 needs --backend emu or gpu (ref trains in f32)");
    return std::make_unique<RefBackend>();
  }
  if (name == "emu" || name == "gpu") return std::make_unique<CudaBackend>(name, dtype == "bf16", s);
  throw std::runtime_error("--backend " + name + ": expected ref, emu or gpu");
}

}  // namespace llmlab::app
