/// \file
/// \brief `llmlab tokenize train`: the reference trainer on text files, written as .tiktoken plus
/// the specials sidecar.

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tokenize/files.hpp"
#include "tokenize/progress.hpp"
#include "tokenize/tokenize.hpp"

namespace llmlab::app {

void tokenize_train(const TokenizeOptions& opts) {
  std::set<std::string> seen;
  for (const std::string& s : opts.specials) {
    if (s.empty()) throw TokenizeError("--special: a special token cannot be empty");
    if (!seen.insert(s).second) throw TokenizeError("--special '" + s + "' is given twice");
  }
  if (opts.vocab_size < 256 + opts.specials.size())
    throw TokenizeError("--vocab-size " + std::to_string(opts.vocab_size) +
                        " is below 256 bytes + " + std::to_string(opts.specials.size()) +
                        " special token(s)");

  std::vector<std::string> texts;
  std::size_t total = 0;
  for (const std::string& path : opts.inputs) {
    texts.push_back(read_input(path));
    total += texts.back().size();
  }
  if (total == 0) throw TokenizeError("the input files hold no text to learn from");

  // Checked before the work: a symlink is written through, a FIFO or device refused (the sidecar
  // goes next to the file), an input never overwritten.
  const OutputTarget target = resolve_output(opts.out, opts.inputs, /*may_stream=*/false);

  status_line("training a " + std::to_string(opts.vocab_size) + "-token vocabulary on " +
              std::to_string(total) + " bytes ...");
  const AnyTokenizer tok = AnyTokenizer::train(opts.backend, texts, opts.vocab_size, opts.specials);
  status_line("");
  if (tok.vocab_size() < opts.vocab_size)
    std::cerr << "llmlab tokenize train: the input allows only "
              << tok.mergeable_count() - 256 << " merges (no pair of tokens is left to merge): "
              << "the vocabulary has " << tok.vocab_size() << " tokens, not the "
              << opts.vocab_size << " asked for\n";

  // The specials sidecar goes to a temporary file first, the vocabulary is saved (itself through a
  // temporary file, PATH.tmp, removed if a signal ends the process), and only then is the sidecar
  // renamed into place.
  nlohmann::json specials = nlohmann::json::object();
  for (const auto& [text, id] : tok.special_tokens()) specials[text] = id;
  OutputFile sidecar(specials_sidecar(target.path).string(), opts.inputs);
  sidecar.stream() << specials.dump(2) << "\n";
  std::filesystem::path save_temp = target.path;
  save_temp += ".tmp";  // the name Tokenizer::save_tiktoken writes first
  const int ticket = remove_on_signal(save_temp);
  tok.save_tiktoken(target.path.string());
  forget_on_signal(ticket);
  std::error_code ignored;
  if (target.perms) std::filesystem::permissions(target.path, *target.perms, ignored);
  sidecar.commit();
}

}  // namespace llmlab::app
