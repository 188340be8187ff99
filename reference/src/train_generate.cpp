// train.hpp's generate: greedy or temperature / top-k sampling from the reference GPT.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "llmlab/core/error.hpp"
#include "llmlab/core/rng.hpp"
#include "llmlab/ref/train.hpp"

namespace llmlab::ref {

std::vector<std::int32_t> generate(const GptConfig& cfg, const GptParams<float>& params,
                                   std::vector<std::int32_t> prompt, std::int64_t max_new,
                                   double temperature, std::int64_t top_k, std::uint64_t seed) {
  constexpr const char* where = "generate";
  if (prompt.empty()) throw Error(where, "the prompt is empty (give at least one token)");
  if (!(temperature >= 0) || !std::isfinite(temperature))
    throw Error(where, "temperature = " + std::to_string(temperature) + " (must be ≥ 0)");
  if (top_k < 0) throw Error(where, "top_k = " + std::to_string(top_k) + " (must be ≥ 0)");
  Rng rng(seed);
  const xt::xtensor<std::int32_t, 2> none = xt::zeros<std::int32_t>({0, 0});
  const auto V = static_cast<std::size_t>(cfg.vocab_size);
  for (std::int64_t i = 0; i < max_new; ++i) {
    const std::size_t T = std::min(prompt.size(), static_cast<std::size_t>(cfg.block_size));
    xt::xtensor<std::int32_t, 2> ids = xt::empty<std::int32_t>({std::size_t{1}, T});
    std::copy(prompt.end() - static_cast<std::ptrdiff_t>(T), prompt.end(), ids.begin());
    const GptForward<float> f = gpt_forward(cfg, params, ids, none);
    const float* z = &f.logits(0, T - 1, 0);
    std::vector<std::int32_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    // the largest logit first, the lowest id first on a tie (stable)
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int32_t a, std::int32_t b) { return z[a] > z[b]; });
    if (temperature == 0) {
      prompt.push_back(order[0]);
      continue;
    }
    const std::size_t k = top_k > 0 ? std::min(V, static_cast<std::size_t>(top_k)) : V;
    std::vector<double> p(k);
    for (std::size_t j = 0; j < k; ++j)  // e^{(z - max)/τ}: every exponent ≤ 0
      p[j] = std::exp((static_cast<double>(z[order[j]]) - z[order[0]]) / temperature);
    double u = rng.uniform(0.0, std::accumulate(p.begin(), p.end(), 0.0));
    std::size_t pick = 0;
    while (pick + 1 < k && u >= p[pick]) u -= p[pick++];
    prompt.push_back(order[pick]);
  }
  return prompt;
}

}  // namespace llmlab::ref
