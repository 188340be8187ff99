/// \file
/// \ingroup group_gpt
/// \brief The whole model's C ABI (<llmlab/cuda/abi/gpt.h>) over llmlab::cuda::Gpt.

#include "llmlab/cuda/abi/gpt.h"

#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "llmlab/core/error.hpp"
#include "llmlab/cuda/gpt.cuh"

namespace cu = llmlab::cuda;

/// The model behind the handle: one of the two dtypes.
struct llmlab_gpt {
  /// the fp32 or the bf16 model
  std::variant<std::unique_ptr<cu::Gpt<float>>, std::unique_ptr<cu::Gpt<__nv_bfloat16>>> model;
};

namespace {

thread_local std::string g_last_error;

/// Runs f; 0 on success, else 1 with the exception's message kept for llmlab_gpt_last_error.
template <class F>
int guarded_gpt(F&& f) noexcept {
  try {
    g_last_error.clear();
    f();
    return 0;
  } catch (const std::exception& e) {
    g_last_error = e.what();
  } catch (...) {
    g_last_error = "a non-standard exception";
  }
  return 1;
}

/// Calls f with the model, whichever its dtype.
template <class M, class F>
void with_model(M* h, F&& f) {
  if (h == nullptr) throw llmlab::Error("llmlab_gpt", "the model is null");
  std::visit([&](auto& m) { f(*m); }, h->model);
}

}  // namespace

extern "C" {

int llmlab_gpt_create(int64_t vocab_size, int64_t block_size, int64_t n_layer, int64_t n_head,
                      int64_t n_embd, int64_t B, int64_t T, int bf16, llmlab_gpt** out) {
  return guarded_gpt([&] {
    if (out == nullptr) throw llmlab::Error("llmlab_gpt_create", "out is null");
    const cu::GptConfig cfg{vocab_size, block_size, n_layer, n_head, n_embd};
    auto h = std::make_unique<llmlab_gpt>();
    if (bf16 != 0)
      h->model = std::make_unique<cu::Gpt<__nv_bfloat16>>(cfg, B, T);
    else
      h->model = std::make_unique<cu::Gpt<float>>(cfg, B, T);
    *out = h.release();
  });
}

void llmlab_gpt_destroy(llmlab_gpt* model) { delete model; }

int64_t llmlab_gpt_num_params(const llmlab_gpt* model) {
  int64_t n = 0;
  guarded_gpt([&] { with_model(model, [&](const auto& m) { n = m.num_params(); }); });
  return n;
}

int llmlab_gpt_set_state(llmlab_gpt* model, const float* params, const float* m, const float* v) {
  return guarded_gpt([&] {
    with_model(model, [&](auto& g) {
      const auto P = static_cast<std::size_t>(g.num_params());
      g.set_params(std::span<const float>(params, P));
      g.set_moments(std::span<const float>(m, P), std::span<const float>(v, P));
    });
  });
}

int llmlab_gpt_get_state(const llmlab_gpt* model, float* params, float* m, float* v) {
  return guarded_gpt([&] {
    with_model(model, [&](const auto& g) {
      const std::vector<float> p = g.params();
      std::vector<float> mm, vv;
      g.moments(mm, vv);
      std::copy(p.begin(), p.end(), params);
      std::copy(mm.begin(), mm.end(), m);
      std::copy(vv.begin(), vv.end(), v);
    });
  });
}

int llmlab_gpt_train_step(llmlab_gpt* model, const int32_t* ids, const int32_t* targets,
                          int64_t micro_batches, float lr, float beta1, float beta2, float eps,
                          float weight_decay, int64_t step, uint32_t seed, double clip,
                          double* loss, double* grad_norm) {
  return guarded_gpt([&] {
    with_model(model, [&](auto& g) {
      if (micro_batches < 1)
        throw llmlab::Error("llmlab_gpt_train_step",
                            "micro_batches = " + std::to_string(micro_batches) + " (must be ≥ 1)");
      const auto n = static_cast<std::size_t>(g.batch() * g.seq());
      g.zero_grad();
      double l = 0;
      for (int64_t a = 0; a < micro_batches; ++a) {  // backward accumulates their gradients
        const auto at = static_cast<std::size_t>(a) * n;
        const double la = g.forward(std::span<const int32_t>(ids + at, n),
                                    std::span<const int32_t>(targets + at, n));
        if (!std::isfinite(la))
          throw llmlab::Error("train_step", "the loss is " + std::to_string(la) + " at step " +
                                                std::to_string(step) +
                                                " (the parameters are kept)");
        g.backward();
        l += la;
      }
      l /= static_cast<double>(micro_batches);
      cu::AdamwHyper h;
      h.lr = lr;
      h.beta1 = beta1;
      h.beta2 = beta2;
      h.eps = eps;
      h.weight_decay = weight_decay;
      h.step = step;
      h.seed = seed;
      const double norm = g.step(h, clip, 1.0 / static_cast<double>(micro_batches));
      if (loss != nullptr) *loss = l;
      if (grad_norm != nullptr) *grad_norm = norm;
    });
  });
}

const char* llmlab_gpt_last_error(void) { return g_last_error.c_str(); }

}  // extern "C"
