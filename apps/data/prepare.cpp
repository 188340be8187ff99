/// \file
/// \ingroup group_gpt
/// \brief `llmlab data prepare` (data/prepare.hpp).

#include "data/prepare.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_set>

#include "llmlab/core/token_shard.hpp"
#include "tokenize/files.hpp"
#include "tokenize/tokenize.hpp"
#include "train/run_files.hpp"

namespace llmlab::app {

namespace fs = std::filesystem;

void add_prepare_options(CLI::App* c, PrepareOptions& o) {
  c->add_option("--delimiter", o.delimiter,
                "The line that ends a document ('blank': a blank line; 'file': one per file)")
      ->capture_default_str();
  c->add_option("--val", o.val, "The validation split's share of documents")->capture_default_str();
  c->add_option("--test", o.test, "The test split's share of documents")->capture_default_str();
  c->add_option("--tokenizer", o.tokenizer, "A .tiktoken vocabulary (default: train one)")
      ->check(CLI::ExistingFile);
  c->add_flag("--gpt2", o.gpt2, "Load --tokenizer as GPT-2's (<|endoftext|> = 50256)");
  c->add_option("--vocab-size", o.vocab_size, "The vocabulary to train on the data")
      ->capture_default_str();
  c->add_option("--tokenizer-sample", o.tokenizer_sample,
                "Bytes of documents the vocabulary is trained on")
      ->capture_default_str();
}

CLI::App* add_data_command(CLI::App& app, PrepareOptions& o) {
  CLI::App* data = app.add_subcommand("data", "Prepare a corpus for training");
  data->require_subcommand(1);
  CLI::App* c = data->add_subcommand(
      "prepare", "Clean, deduplicate, tokenize and split text into binary token shards");
  c->add_option("--data", o.data, "Text files")->required()->check(CLI::ExistingFile);
  c->add_option("--out", o.out, "The directory to write")->required();
  add_prepare_options(c, o);
  c->add_option("--seed", o.seed, "The split's seed")->capture_default_str();
  c->add_option("--threads", o.threads, "Encoding threads (0: all)")->capture_default_str();
  return data;
}

std::int32_t end_of_text(const AnyTokenizer& tok) {
  const auto& sp = tok.special_tokens();
  const auto it = sp.find("<|endoftext|>");
  if (it == sp.end())
    throw TokenizeError(
        "--tokenizer: the vocabulary has no <|endoftext|> special token to separate documents "
        "(give its .specials.json sidecar, or --gpt2 for GPT-2's)");
  return static_cast<std::int32_t>(it->second);
}

void read_documents(const std::vector<std::string>& files, const std::string& delimiter,
                    const std::function<void(const std::string&)>& emit) {
  const bool per_file = delimiter == "file", blank = delimiter == "blank";
  for (const std::string& path : files) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw TokenizeError("--data: '" + path + "' is a directory, not a text file (nor one " +
                          "that `llmlab data prepare` wrote)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw TokenizeError("--data: cannot read '" + path + "'");
    std::string doc, line;
    for (std::int64_t n = 1; std::getline(in, line); ++n) {
      if (line.find('\0') != std::string::npos)
        throw TokenizeError("--data: '" + path + "' is not text (a NUL byte on line " +
                            std::to_string(n) + ")");
      std::string_view l(line);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      const bool ends = !per_file && (blank ? l.find_first_not_of(" \t") == std::string_view::npos
                                            : l == delimiter);
      if (ends) {
        emit(doc);
        doc.clear();
        continue;
      }
      if (!doc.empty()) doc += '\n';  // lines joined by '\n' (leading blank lines dropped)
      doc += l;
    }
    if (in.bad()) throw TokenizeError("--data: cannot read '" + path + "'");
    emit(doc);
  }
}

namespace {

/// \f$ u \in [0, 1) \f$ from the document's hash and the seed (splitmix64's finaliser).
double split_draw(std::uint64_t hash, std::int64_t seed) {
  std::uint64_t z = hash ^ (static_cast<std::uint64_t>(seed) * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

/// A file removed when the guard ends.
struct RemoveGuard {
  fs::path path;
  ~RemoveGuard() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

}  // namespace

PrepareReport prepare_data(const PrepareOptions& o, const AnyTokenizer* given,
                           std::ostream& log) {
  if (o.data.empty()) throw TokenizeError("--data: give at least one text file");
  if (!(o.val >= 0 && o.test >= 0 && o.val + o.test < 1))
    throw TokenizeError("--val " + std::to_string(o.val) + " and --test " +
                        std::to_string(o.test) + ": each must be ≥ 0 and their sum < 1");
  if (o.delimiter.empty())
    throw TokenizeError("--delimiter: give a line, 'blank' or 'file' (not an empty string)");
  const fs::path out(o.out);
  fs::create_directories(out);
  PrepareReport r;

  // pass 1: clean, drop empty documents and duplicates, spool the rest
  const RemoveGuard spool{out / ".prepare-documents.tmp"};
  std::vector<std::string> sample;  // the vocabulary's training documents
  std::size_t sample_bytes = 0;
  const bool train_vocab = given == nullptr && o.tokenizer.empty();
  {
    std::ofstream f(spool.path, std::ios::binary | std::ios::trunc);
    if (!f) throw TokenizeError("--out: cannot write in '" + o.out + "'");
    std::unordered_set<std::uint64_t> seen;
    read_documents(o.data, o.delimiter, [&](const std::string& raw) {
      if (raw.empty()) return;  // nothing between two delimiters (not counted as a document)
      std::string doc = clean_document(raw, r.clean);
      if (doc.empty()) {
        ++r.clean.empty;
        return;
      }
      if (!seen.insert(document_hash(doc)).second) {
        ++r.clean.duplicates;
        return;
      }
      ++r.clean.kept;
      r.clean.bytes_out += doc.size();
      const auto n = static_cast<std::uint32_t>(doc.size());
      f.write(reinterpret_cast<const char*>(&n), sizeof n);
      f.write(doc.data(), static_cast<std::streamsize>(doc.size()));
      if (train_vocab && sample_bytes < o.tokenizer_sample) {
        sample_bytes += doc.size();
        sample.push_back(std::move(doc));
      }
    });
    if (!f.flush()) throw TokenizeError("--out: cannot write in '" + o.out + "'");
  }
  const CleanCounts& c = r.clean;
  log << "cleaning: " << c.documents << " documents (" << c.bytes_in << " bytes); "
      << c.html_tags << " HTML tags stripped, " << c.control_chars
      << " control characters removed, " << c.whitespace << " whitespace runs normalised, "
      << c.nfc_changed << " documents changed by NFC, " << c.invalid_utf8
      << " with invalid UTF-8 replaced; " << c.empty << " empty and " << c.duplicates
      << " duplicate documents dropped; " << c.kept << " kept (" << c.bytes_out << " bytes)\n";
  if (c.kept == 0) throw TokenizeError("--data: the files hold no text");

  // the tokenizer
  std::optional<AnyTokenizer> own;
  if (given == nullptr) {
    if (train_vocab) {
      own.emplace(AnyTokenizer::train("fast", sample, o.vocab_size, {"<|endoftext|>"}));
    } else {
      TokenizeOptions t;
      t.vocab = o.tokenizer;
      t.gpt2 = o.gpt2;
      own.emplace(load_vocab(t));
    }
  }
  const AnyTokenizer& tok = given != nullptr ? *given : *own;
  sample = {};
  const std::int32_t eot = end_of_text(tok);
  r.vocab_size = tok.vocab_size();
  if (train_vocab)
    log << "tokenizer: trained on " << sample_bytes << " bytes, " << r.vocab_size
        << " tokens\n";

  // pass 2: encode in batches, in parallel; each document to its split
  const char* names[3] = {"train.bin", "val.bin", "test.bin"};
  std::vector<std::unique_ptr<TokenShardWriter>> shards;
  for (const char* n : names) shards.push_back(std::make_unique<TokenShardWriter>(out / n, r.vocab_size));
  std::ifstream in(spool.path, std::ios::binary);
  std::vector<std::string> batch;
  std::size_t batch_bytes = 0;
  const auto flush = [&] {
    std::vector<std::string_view> views(batch.begin(), batch.end());
    const auto ids = tok.encode_batch(views, o.threads, ref::SpecialPolicy::plain_text);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const double u = split_draw(document_hash(batch[i]), o.seed);
      const int split = u < o.val ? 1 : u < o.val + o.test ? 2 : 0;
      std::vector<std::int32_t> t(ids[i].begin(), ids[i].end());
      t.push_back(eot);
      shards[static_cast<std::size_t>(split)]->append(t);
      ++r.docs[split];
    }
    batch.clear();
    batch_bytes = 0;
  };
  for (std::uint64_t d = 0; d < c.kept; ++d) {
    std::uint32_t n = 0;
    in.read(reinterpret_cast<char*>(&n), sizeof n);
    std::string doc(n, '\0');
    in.read(doc.data(), n);
    if (!in) throw TokenizeError("--out: cannot read back '" + spool.path.string() + "'");
    batch_bytes += n;
    batch.push_back(std::move(doc));
    if (batch_bytes >= (4u << 20)) flush();
  }
  flush();
  for (int s = 0; s < 3; ++s) r.tokens[s] = shards[static_cast<std::size_t>(s)]->count();
  log << "tokens: train " << r.tokens[0] << " (" << r.docs[0] << " documents), validation "
      << r.tokens[1] << " (" << r.docs[1] << "), test " << r.tokens[2] << " (" << r.docs[2]
      << ")\n";

  // everything into place
  for (auto& s : shards) s->commit();
  save_run_tokenizer(tok, out);
  nlohmann::json j = {{"documents", c.documents},     {"bytes_in", c.bytes_in},
                      {"html_tags", c.html_tags},     {"invalid_utf8", c.invalid_utf8},
                      {"nfc_changed", c.nfc_changed}, {"control_chars", c.control_chars},
                      {"whitespace", c.whitespace},   {"empty", c.empty},
                      {"duplicates", c.duplicates},   {"kept", c.kept},
                      {"bytes_out", c.bytes_out},     {"vocab_size", r.vocab_size},
                      {"delimiter", o.delimiter},     {"seed", o.seed},
                      {"tokens", {{"train", r.tokens[0]}, {"val", r.tokens[1]}, {"test", r.tokens[2]}}},
                      {"docs", {{"train", r.docs[0]}, {"val", r.docs[1]}, {"test", r.docs[2]}}}};
  OutputFile report((out / "prepare.json").string());
  report.stream() << j.dump(2) << "\n";
  report.commit();
  return r;
}

int run_data_prepare(const PrepareOptions& opts) {
  const bool existed = fs::exists(opts.out);
  try {
    prepare_data(opts, nullptr, std::cout);
    std::cout << "wrote " << opts.out << " (train.bin, val.bin, test.bin, tokenizer.tiktoken, "
              << "prepare.json)\n";
    return 0;
  } catch (const std::exception& e) {
    std::error_code ec;
    if (!existed) fs::remove_all(opts.out, ec);
    std::cerr << "llmlab data prepare: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace llmlab::app
