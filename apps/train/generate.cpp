/// \file
/// \ingroup group_gpt
/// \brief `llmlab generate`: the prompt's continuation by a run's checkpoint (train/train.hpp).

#include <filesystem>
#include <iostream>
#include <vector>

#include "llmlab/ref/train.hpp"
#include "tokenize/files.hpp"
#include "train/run_files.hpp"
#include "train/train.hpp"

namespace llmlab::app {

CLI::App* add_generate_command(CLI::App& app, GenerateCliOptions& o) {
  CLI::App* c = app.add_subcommand("generate", "Continue a prompt with a trained checkpoint");
  c->add_option("--checkpoint", o.checkpoint, "A run's directory (llmlab train --out)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->add_option("--prompt", o.prompt, "The text to continue")->capture_default_str();
  c->add_option("--max-tokens", o.max_tokens, "Tokens to generate")
      ->check(CLI::Range(std::int64_t{0}, kMaxGenerate))
      ->capture_default_str();
  c->add_option("--temperature", o.temperature, "0: greedy")->capture_default_str();
  c->add_option("--top-k", o.top_k, "Sample among the k likeliest (0: all)")->capture_default_str();
  c->add_option("--seed", o.seed, "The sampler's seed")->capture_default_str();
  return c;
}

int run_generate(const GenerateCliOptions& o) {
  try {
    const auto [tok, s] = load_run(o.checkpoint);
    const auto prompt = tok.encode(o.prompt, ref::SpecialPolicy::plain_text);
    const auto ids = ref::generate(s.cfg, s.params, {prompt.begin(), prompt.end()}, o.max_tokens,
                                   o.temperature, o.top_k, static_cast<std::uint64_t>(o.seed));
    const std::vector<ref::TokenId> out(ids.begin(), ids.end());
    std::cout << tok.decode(out) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "llmlab generate: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace llmlab::app
