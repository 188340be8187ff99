/// \file
/// \ingroup group_gpt
/// \brief `llmlab eval`: a run's checkpoint scored on held-out text by mean loss and perplexity,
/// and with `--bleu` by the BLEU of its greedy continuations (train/train.hpp).
///
/// **Data.** `--data` is text files, or one directory `llmlab data prepare` wrote (or a run's
/// `data/`): then its test split (`--split val` for the validation split), whose shard header must
/// give the vocabulary size of the checkpoint's tokenizer, and whose tokenizer.tiktoken, when
/// there, must be the checkpoint's. Loss and perplexity: over consecutive context windows of the
/// split's token stream (documents and their `<|endoftext|>`, as `llmlab train`'s test loss), or
/// of the text files' tokens.
///
/// **BLEU** (`--bleu`). The documents: the split's (cut at `<|endoftext|>`), or the text files'
/// as `data prepare` delimits them (`--delimiter`, default `%`; `blank` for paragraphs), not
/// cleaned. In order, each document longer than P = `--bleu-prompt-tokens` tokens, up to
/// `--bleu-docs` of them: its first P tokens are the prompt, its next min(K, rest) tokens (K =
/// `--bleu-tokens`) the reference, and the model continues the prompt greedily (argmax, lowest id
/// on a tie: llmlab::ref::generate at temperature 0) for as many tokens as the reference has,
/// stopping early at `<|endoftext|>`. Hypothesis and reference are compared as decoded text
/// (invalid UTF-8 — a character cut at the prompt's end — replaced by U+FFFD, line breaks by
/// spaces, so each is one line of the files) by llmlab::ref::corpus_bleu, which is
/// `sacrebleu.corpus_bleu(hyps, [refs])` with its defaults; the line printed is sacrebleu's.
/// `--bleu-out DIR` writes `prompts.txt`, `hypotheses.txt`, `references.txt` (one segment a line)
/// and `bleu.json` (the score and its statistics), each atomically, to rescore with
/// `sacrebleu DIR/references.txt -i DIR/hypotheses.txt -m bleu`.

#include <unicode/unistr.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "data/prepare.hpp"
#include "llmlab/core/token_shard.hpp"
#include "llmlab/ref/bleu.hpp"
#include "llmlab/ref/train.hpp"
#include "tokenize/files.hpp"
#include "train/run_files.hpp"
#include "train/train.hpp"

namespace llmlab::app {

namespace fs = std::filesystem;

namespace {

constexpr const char* kEvalFooter = R"(
Data: text files, or one directory `llmlab data prepare` wrote (a run's DIR/data too): its test
split (--split val: the validation split); its shards' vocabulary must be the checkpoint's.
Loss and perplexity: over consecutive context windows of the tokens (at most --max-windows).
BLEU (--bleu): for each document of the data (the split's, or the text files' as --delimiter
cuts them) longer than P = --bleu-prompt-tokens tokens, up to --bleu-docs of them: the first P
tokens are the prompt, the next K = --bleu-tokens (or fewer, to the document's end) the
reference; the model continues the prompt greedily (argmax) for as many tokens as the
reference, stopping at <|endoftext|>. The decoded texts (invalid UTF-8 as U+FFFD, line breaks
as spaces) are scored as sacrebleu.corpus_bleu(hyps, [refs]) with its defaults (13a tokenizer,
exp smoothing, 4-grams, brevity penalty) and sacrebleu's line is printed. --bleu-out DIR writes
prompts.txt, hypotheses.txt, references.txt and bleu.json; rescore with
  sacrebleu DIR/references.txt -i DIR/hypotheses.txt -m bleu)";

/// What `--data` gives: the token stream the loss is scored on, and the documents BLEU continues.
struct EvalData {
  std::vector<std::int32_t> tokens;
  std::vector<std::vector<std::int32_t>> documents;
  std::string what;  ///< for the report: "the test split of DIR" or "N text files"
};

/// A prepared directory's split, checked against the checkpoint's tokenizer.
EvalData load_prepared(const EvalCliOptions& o, const AnyTokenizer& tok, std::int64_t model_vocab) {
  const fs::path dir = o.data[0];
  const std::string split = o.split.empty() ? "test" : o.split;
  if (split != "test" && split != "val")
    throw TokenizeError("--split: '" + split + "' is neither test nor val");
  const fs::path shard_path = dir / (split + ".bin");
  if (!fs::exists(shard_path))
    throw TokenizeError("--data " + dir.string() +
                        ": not a directory `llmlab data prepare` wrote (it has no " + split +
                        ".bin); give text files or a prepared directory");
  TokenShard shard = read_token_shard(shard_path);
  if (shard.vocab_size != tok.vocab_size())
    throw TokenizeError("--data " + dir.string() + ": its shards were written for a vocabulary of " +
                        std::to_string(shard.vocab_size) + " tokens, but the checkpoint's tokenizer has " +
                        std::to_string(tok.vocab_size()) + " (the model " + std::to_string(model_vocab) +
                        "): prepare the data with the checkpoint's tokenizer (--tokenizer " +
                        (fs::path(o.checkpoint) / "tokenizer.tiktoken").string() + ")");
  const fs::path data_tok = dir / "tokenizer.tiktoken";
  if (fs::exists(data_tok) &&
      read_input(data_tok.string()) !=
          read_input((fs::path(o.checkpoint) / "tokenizer.tiktoken").string()))
    throw TokenizeError("--data " + dir.string() +
                        " was prepared with another tokenizer than the checkpoint's (their "
                        "tokenizer.tiktoken differ): its ids would mean other text to the model");
  EvalData d;
  d.what = "the " + split + " split of " + dir.string();
  const std::int32_t eot = end_of_text(tok);
  std::vector<std::int32_t> doc;
  for (const std::int32_t t : shard.tokens) {
    if (t != eot) {
      doc.push_back(t);
    } else if (!doc.empty()) {
      d.documents.push_back(std::move(doc));
      doc.clear();
    }
  }
  if (!doc.empty()) d.documents.push_back(std::move(doc));
  d.tokens = std::move(shard.tokens);
  return d;
}

/// Text files: all their tokens for the loss, and with --bleu their documents (--delimiter).
EvalData load_text(const EvalCliOptions& o, const AnyTokenizer& tok) {
  if (!o.split.empty())
    throw TokenizeError("--split: only for a prepared directory, and --data gives text files");
  EvalData d;
  std::size_t bytes = 0;
  for (const std::string& path : o.data) {
    if (fs::is_directory(path))
      throw TokenizeError("--data: " + path + " is a directory: a prepared directory is given "
                          "alone, as the only --data");
    const std::string text = read_input(path);
    if (const auto nul = text.find('\0'); nul != std::string::npos)
      throw TokenizeError("--data: '" + path + "' is not text (a NUL byte at offset " +
                          std::to_string(nul) + ")");
    bytes += text.size();
    const auto ids = tok.encode(text, ref::SpecialPolicy::plain_text);
    d.tokens.insert(d.tokens.end(), ids.begin(), ids.end());
  }
  if (bytes == 0) throw TokenizeError("--data: the files hold no text");
  if (o.bleu) {
    read_documents(o.data, o.delimiter, [&](const std::string& doc) {
      const auto ids = tok.encode(doc, ref::SpecialPolicy::plain_text);
      if (!ids.empty()) d.documents.emplace_back(ids.begin(), ids.end());
    });
  }
  d.what = std::to_string(o.data.size()) + " text file" + (o.data.size() == 1 ? "" : "s");
  return d;
}

/// Decoded text as one segment of BLEU's files: valid UTF-8 (ICU puts U+FFFD for each ill-formed
/// sequence) with every line break ("\r\n", "\r", "\n") a space.
std::string one_line(const std::string& bytes) {
  std::string text;
  icu::UnicodeString::fromUTF8(icu::StringPiece(bytes.data(), static_cast<int32_t>(bytes.size())))
      .toUTF8String(text);
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    out += text[i] == '\r' || text[i] == '\n' ? ' ' : text[i];
  }
  return out;
}

/// The BLEU segments: the prompts, the greedy continuations and the true continuations.
struct BleuSegments {
  std::vector<std::string> prompts, hypotheses, references;
};

BleuSegments continue_documents(const EvalCliOptions& o, const AnyTokenizer& tok,
                                const ref::TrainState& s, const EvalData& d) {
  if (o.bleu_docs < 1) throw TokenizeError("--bleu-docs must be ≥ 1");
  if (o.bleu_prompt_tokens < 1) throw TokenizeError("--bleu-prompt-tokens must be ≥ 1");
  if (o.bleu_tokens < 1) throw TokenizeError("--bleu-tokens must be ≥ 1");
  const std::int32_t eot = end_of_text(tok);
  const auto P = static_cast<std::size_t>(o.bleu_prompt_tokens);
  const auto decode = [&](auto first, auto last) {
    const std::vector<ref::TokenId> ids(first, last);
    return one_line(tok.decode(ids));
  };
  BleuSegments b;
  for (const auto& doc : d.documents) {
    if (static_cast<std::int64_t>(b.hypotheses.size()) == o.bleu_docs) break;
    if (doc.size() <= P) continue;
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(o.bleu_tokens), doc.size() - P);
    const auto out = ref::generate(s.cfg, s.params, {doc.begin(), doc.begin() + static_cast<std::ptrdiff_t>(P)},
                                   static_cast<std::int64_t>(k), 0.0, 0, 0);
    auto cont_end = std::find(out.begin() + static_cast<std::ptrdiff_t>(P), out.end(), eot);
    b.prompts.push_back(decode(doc.begin(), doc.begin() + static_cast<std::ptrdiff_t>(P)));
    b.hypotheses.push_back(decode(out.begin() + static_cast<std::ptrdiff_t>(P), cont_end));
    b.references.push_back(decode(doc.begin() + static_cast<std::ptrdiff_t>(P),
                                  doc.begin() + static_cast<std::ptrdiff_t>(P + k)));
  }
  if (b.hypotheses.empty())
    throw TokenizeError("--bleu: no document of " + d.what + " has more than " +
                        std::to_string(P) + " tokens (--bleu-prompt-tokens) to continue");
  return b;
}

/// Writes `lines` to `path`, one a line, atomically (OutputFile).
void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  OutputFile f(path.string());
  for (const std::string& l : lines) f.stream() << l << "\n";
  f.commit();
}

void write_bleu_out(const fs::path& dir, const BleuSegments& b, const ref::BleuScore& sc,
                    const EvalCliOptions& o, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    throw TokenizeError("--bleu-out: cannot create the directory " + dir.string());
  const nlohmann::json j = {
      {"score", sc.score},     {"counts", sc.counts},   {"totals", sc.totals},
      {"precisions", sc.precisions}, {"bp", sc.bp},     {"sys_len", sc.sys_len},
      {"ref_len", sc.ref_len}, {"line", ref::format_bleu(sc)},
      {"documents", b.hypotheses.size()}, {"data", what},
      {"prompt_tokens", o.bleu_prompt_tokens}, {"max_tokens", o.bleu_tokens},
      {"checkpoint", o.checkpoint}};
  write_lines(dir / "prompts.txt", b.prompts);
  write_lines(dir / "hypotheses.txt", b.hypotheses);
  write_lines(dir / "references.txt", b.references);
  OutputFile f((dir / "bleu.json").string());
  f.stream() << j.dump(1) << "\n";
  f.commit();
}

}  // namespace

CLI::App* add_eval_command(CLI::App& app, EvalCliOptions& o) {
  CLI::App* c = app.add_subcommand(
      "eval", "Score a trained checkpoint on held-out text: loss, perplexity, and BLEU");
  c->add_option("--checkpoint", o.checkpoint, "A run's directory (llmlab train --out)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->add_option("--data", o.data, "Text files, or one directory llmlab data prepare wrote")
      ->required()
      ->check(CLI::ExistingPath);
  c->add_option("--split", o.split, "A prepared directory's split: test (default) or val");
  c->add_option("--delimiter", o.delimiter,
                "Text files: the line that ends a document, 'blank' or 'file' (BLEU's documents)")
      ->capture_default_str();
  c->add_option("--max-windows", o.max_windows, "Context windows scored at most")
      ->check(CLI::Range(std::int64_t{1}, std::numeric_limits<std::int64_t>::max()))
      ->capture_default_str();
  CLI::Option* bleu = c->add_flag("--bleu", o.bleu, "Also the BLEU of greedy continuations");
  c->add_option("--bleu-docs", o.bleu_docs, "BLEU: documents continued at most")
      ->capture_default_str();
  c->add_option("--bleu-prompt-tokens", o.bleu_prompt_tokens,
                "BLEU: the prompt, each document's first P tokens")
      ->capture_default_str();
  c->add_option("--bleu-tokens", o.bleu_tokens,
                "BLEU: the reference, at most the next K tokens (the continuation as many)")
      ->capture_default_str();
  c->add_option("--bleu-out", o.bleu_out,
                "BLEU: write prompts.txt, hypotheses.txt, references.txt, bleu.json here")
      ->needs(bleu);
  c->add_option("--threads", o.threads,
                "Threads for the reference (its loops and GEMMs; 0: all)")
      ->capture_default_str();
  c->footer(kEvalFooter);
  return c;
}

int run_eval(const EvalCliOptions& o) {
  try {
    if (o.threads < 0) throw TokenizeError("--threads must be ≥ 0");
    ref::set_cpu_threads(o.threads);  // 0: one per processor
    const auto [tok, s] = load_run(o.checkpoint);
    if (tok.vocab_size() != static_cast<std::size_t>(s.cfg.vocab_size))  // llmlab train makes them equal
      throw TokenizeError("--checkpoint " + o.checkpoint + ": its tokenizer has " +
                          std::to_string(tok.vocab_size()) + " tokens but the model " +
                          std::to_string(s.cfg.vocab_size) + ": not the tokenizer it was trained with");
    const bool prepared = o.data.size() == 1 && fs::is_directory(o.data[0]);
    const EvalData d = prepared ? load_prepared(o, tok, s.cfg.vocab_size) : load_text(o, tok);
    if (static_cast<std::int64_t>(d.tokens.size()) < s.cfg.block_size + 1)
      throw TokenizeError("--data: " + std::to_string(d.tokens.size()) + " tokens in " + d.what +
                          ", fewer than one context window of " +
                          std::to_string(s.cfg.block_size + 1));
    const double loss =
        ref::evaluate(s.cfg, s.params, d.tokens, s.opt.batch, s.cfg.block_size, o.max_windows);
    const auto windows =
        std::min<std::int64_t>((static_cast<std::int64_t>(d.tokens.size()) - 1) / s.cfg.block_size,
                               std::max<std::int64_t>(o.max_windows, 1));
    std::printf("loss %.4f perplexity %.2f (%lld windows of %lld tokens, step %lld)\n", loss,
                std::exp(loss), static_cast<long long>(windows),
                static_cast<long long>(s.cfg.block_size), static_cast<long long>(s.step));
    if (o.bleu) {
      const BleuSegments b = continue_documents(o, tok, s, d);
      const ref::BleuScore sc = ref::corpus_bleu(b.hypotheses, b.references);
      std::printf("%s\n", ref::format_bleu(sc).c_str());
      std::printf("(%zu documents of %s: greedy continuations of up to %lld tokens after %lld-token "
                  "prompts; sacrebleu's defaults: 13a, exp smoothing)\n",
                  b.hypotheses.size(), d.what.c_str(), static_cast<long long>(o.bleu_tokens),
                  static_cast<long long>(o.bleu_prompt_tokens));
      if (!o.bleu_out.empty()) {
        write_bleu_out(o.bleu_out, b, sc, o, d.what);
        std::printf("wrote %s/{prompts,hypotheses,references}.txt and bleu.json; rescore with: "
                    "sacrebleu %s -i %s -m bleu\n",
                    o.bleu_out.c_str(), (fs::path(o.bleu_out) / "references.txt").c_str(),
                    (fs::path(o.bleu_out) / "hypotheses.txt").c_str());
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "llmlab eval: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace llmlab::app
