/// \file
/// \ingroup group_gpt
/// \brief A run's tokenizer and metrics files (train/run_files.hpp).

#include "train/run_files.hpp"

#include <fstream>
#include <string>

#include "llmlab/ref/safetensors.hpp"
#include "tokenize/files.hpp"
#include "tokenize/tokenize.hpp"

namespace llmlab::app {

void save_run_tokenizer(const AnyTokenizer& tok, const std::filesystem::path& dir) {
  const std::string path = (dir / "tokenizer.tiktoken").string();
  nlohmann::json specials = nlohmann::json::object();
  for (const auto& [text, id] : tok.special_tokens()) specials[text] = id;
  OutputFile sidecar(specials_sidecar(path).string());
  sidecar.stream() << specials.dump(2) << "\n";
  tok.save_tiktoken(path);
  sidecar.commit();
}

void save_run_checkpoint(const ref::TrainState& s, const std::filesystem::path& dir) {
  ref::save_checkpoint(dir / "model.ckpt", s);
  ref::save_safetensors(dir / "model.safetensors", s.cfg, s.params,
                        {{"step", std::to_string(s.step)}, {"tokenizer", "tokenizer.tiktoken"}});
}

AnyTokenizer load_run_tokenizer(const std::filesystem::path& dir) {
  TokenizeOptions t;
  t.vocab = (dir / "tokenizer.tiktoken").string();
  if (!std::filesystem::exists(t.vocab))
    throw TokenizeError(dir.string() + " holds no tokenizer.tiktoken");
  return load_vocab(t);
}

LoadedRun load_run(const std::filesystem::path& dir) {
  LoadedRun r{load_run_tokenizer(dir), ref::load_checkpoint(dir / "model.ckpt")};
  if (r.tok.vocab_size() > static_cast<std::size_t>(r.s.cfg.vocab_size))
    throw TokenizeError(dir.string() + ": the tokenizer has " + std::to_string(r.tok.vocab_size()) +
                        " tokens but the model only " + std::to_string(r.s.cfg.vocab_size));
  return r;
}

std::vector<nlohmann::json> read_metrics(const std::filesystem::path& dir, std::int64_t upto) {
  std::vector<nlohmann::json> out;
  std::ifstream f(dir / "metrics.jsonl");
  std::string line;
  for (int n = 1; std::getline(f, line); ++n) {
    nlohmann::json m = nlohmann::json::parse(line, nullptr, false);
    if (m.is_discarded() || !m.contains("step"))
      throw TokenizeError((dir / "metrics.jsonl").string() + ":" + std::to_string(n) +
                          ": not a metrics line");
    if (m["step"].get<std::int64_t>() <= upto) out.push_back(std::move(m));
  }
  return out;
}

void write_metrics(const std::filesystem::path& dir, const std::vector<nlohmann::json>& metrics) {
  OutputFile f((dir / "metrics.jsonl").string());
  for (const auto& m : metrics) f.stream() << m.dump() << "\n";
  f.commit();
}

}  // namespace llmlab::app
