/// \file
/// \brief llmlab.Tokenizer (reference) and llmlab.FastTokenizer (llmlab::fast), one Python API.
///
/// encode(text, allowed_special=…) follows tiktoken's spelling: the default (an empty set or
/// "none") raises on a special token's text, "all" (or the set of every special) encodes specials
/// as their ids, "plain_text" encodes their characters like any other text.

#include "llmlab/fast/tokenizer.hpp"

#include <pybind11/stl/filesystem.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "llmlab/ref/tokenizer.hpp"

namespace llmlab::python {
namespace {

/// The texts of a training corpus: one str/bytes, or a list of them.
std::vector<std::string> corpus(const py::object& text) {
  if (py::isinstance<py::str>(text) || py::isinstance<py::bytes>(text))
    return {text.cast<std::string>()};
  return text.cast<std::vector<std::string>>();
}

/// A C++ message in Python's words: SpecialPolicy::allow → allowed_special="all", and so on.
std::string python_spelling(std::string message) {
  const std::pair<const char*, const char*> names[] = {
      {"SpecialPolicy::allow", "allowed_special=\"all\""},
      {"SpecialPolicy::plain_text", "allowed_special=\"plain_text\""},
      {"SpecialPolicy::error", "allowed_special=\"none\""}};
  for (const auto& [cpp, py] : names)
    for (std::size_t at = 0; (at = message.find(cpp, at)) != std::string::npos;)
      message.replace(at, std::strlen(cpp), py);
  return message;
}

/// tiktoken's allowed_special as one of llmlab's three policies.
template <class Policy>
Policy policy_of(const py::object& allowed, const std::map<std::string, ref::TokenId>& specials) {
  if (py::isinstance<py::str>(allowed)) {
    const auto s = allowed.cast<std::string>();
    if (s == "none") return Policy::error;
    if (s == "all") return Policy::allow;
    if (s == "plain_text") return Policy::plain_text;
    throw py::value_error(
        "Tokenizer.encode: allowed_special must be \"none\", \"all\", \"plain_text\" or a set, got "
        "\"" +
        s + "\"");
  }
  if (!py::isinstance<py::iterable>(allowed) || py::isinstance<py::bytes>(allowed))
    throw py::type_error(
        "Tokenizer.encode: allowed_special must be \"none\", \"all\", \"plain_text\" or a set "
        "of special tokens, got " +
        py::str(py::type::of(allowed).attr("__name__")).cast<std::string>());
  std::vector<std::string> wanted;  // any iterable of str: a set (tiktoken's spelling), a list, …
  for (const py::handle item : allowed.cast<py::iterable>()) {
    if (!py::isinstance<py::str>(item))
      throw py::type_error("Tokenizer.encode: allowed_special holds a " +
                           py::str(py::type::of(item).attr("__name__")).cast<std::string>() +
                           "; it takes special tokens as str");
    wanted.push_back(item.cast<std::string>());
  }
  if (wanted.empty()) return Policy::error;
  std::map<std::string, ref::TokenId> chosen;
  for (const auto& w : wanted) {
    const auto it = specials.find(w);
    if (it == specials.end())
      throw py::value_error("Tokenizer.encode: '" + w + "' is not a special token");
    chosen.insert(*it);
  }
  if (chosen.size() != specials.size())
    throw py::value_error(
        "Tokenizer.encode: llmlab allows all special tokens or none; pass allowed_special=\"all\"");
  return Policy::allow;
}

/// str for Python: tokens may cut a UTF-8 character, so invalid bytes become U+FFFD (as tiktoken).
py::str utf8_replace(const std::string& bytes) {
  PyObject* s =
      PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), "replace");
  if (s == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

/// The methods both tokenizers share.
template <class Tok, class Policy>
void bind_common(py::class_<Tok>& c) {
  c.def_static(
       "from_tiktoken",
       [](const std::filesystem::path& path,
          const std::map<std::string, ref::TokenId>& special_tokens) {
         return Tok::from_tiktoken(path, {special_tokens.begin(), special_tokens.end()});
       },
       py::arg("path"), py::arg("special_tokens") = std::map<std::string, ref::TokenId>{},
       "Loads a .tiktoken file (one `base64 rank` line per token); special_tokens maps text to id.")
      .def_static("gpt2", &Tok::gpt2, py::arg("tiktoken_file"),
                  "GPT-2 from its .tiktoken file, with <|endoftext|> = 50256.")
      .def_static(
          "train",
          [](const py::object& text, std::size_t vocab_size,
             const std::vector<std::string>& special_tokens) {
            const auto texts = corpus(text);
            py::gil_scoped_release release;
            return Tok::train(texts, vocab_size, special_tokens);
          },
          py::arg("text"), py::arg("vocab_size"),
          py::arg("special_tokens") = std::vector<std::string>{},
          "Trains a byte-level BPE on text (a str or a list of str) up to vocab_size ids\n"
          "(256 + merges + specials); ties go to the greater byte pair.")
      .def(
          "encode",
          [](const Tok& t, std::string_view text, const py::object& allowed_special) {
            const Policy p = policy_of<Policy>(allowed_special, t.special_tokens());
            try {
              py::gil_scoped_release release;
              return t.encode(text, p);
            } catch (const Error& e) {  // the C++ message names C++ policies and functions
              const std::string m = e.what();
              const auto colon = m.find(": ");
              throw Error("Tokenizer.encode",
                          python_spelling(colon == std::string::npos ? m : m.substr(colon + 2)));
            }
          },
          py::arg("text"), py::arg("allowed_special") = py::str("none"),
          "Token ids of text. allowed_special: \"none\" (raise on a special's text), \"all\", "
          "\"plain_text\".")
      .def("encode_ordinary", &Tok::encode_ordinary, py::arg("text"),
           "Token ids of text with no special tokens recognised.")
      .def(
          "decode",
          [](const Tok& t, const std::vector<ref::TokenId>& ids) {
            return utf8_replace(t.decode(ids));
          },
          py::arg("ids"), "The text of ids (bytes that are not UTF-8 become U+FFFD).")
      .def(
          "decode_bytes",
          [](const Tok& t, const std::vector<ref::TokenId>& ids) {
            return py::bytes(t.decode(ids));
          },
          py::arg("ids"), "The bytes of ids.")
      .def("save", &Tok::save_tiktoken, py::arg("path"),
           "Writes the mergeable tokens as .tiktoken (one `base64 rank` line each, ranks = ids).")
      .def_property_readonly("vocab_size", &Tok::vocab_size, "Number of ids: mergeable + special.")
      .def_property_readonly("mergeable_count", &Tok::mergeable_count,
                             "Number of mergeable tokens.")
      .def(
          "token_bytes", [](const Tok& t, ref::TokenId id) { return py::bytes(t.token_bytes(id)); },
          py::arg("id"), "The bytes of mergeable token id.")
      .def_property_readonly("special_tokens", &Tok::special_tokens, "Special tokens: text → id.")
      .def_property_readonly(
          "merges",
          [](const Tok& t) {
            std::vector<std::tuple<ref::TokenId, ref::TokenId, ref::TokenId>> out;
            for (const auto& m : t.merges()) out.emplace_back(m.left, m.right, m.id);
            return out;
          },
          "The learned merges (left, right, id) in order (empty for a loaded vocabulary).");
}

}  // namespace

void bind_tokenizer(py::module_& m) {
  py::class_<ref::Tokenizer> reference(
      m, "Tokenizer", "GPT-2-exact byte-level BPE, the reference (llmlab::ref::Tokenizer).");
  bind_common<ref::Tokenizer, ref::SpecialPolicy>(reference);
  reference.def_static("from_gpt2_files", &ref::Tokenizer::from_gpt2_files, py::arg("encoder_json"),
                       py::arg("vocab_bpe"), "Loads GPT-2's original encoder.json and vocab.bpe.");

  py::class_<fast::Tokenizer> fast(
      m, "FastTokenizer",
      "The same tokenizer, fast (llmlab::fast::Tokenizer): same ids, same merges.");
  bind_common<fast::Tokenizer, fast::SpecialPolicy>(fast);
  fast.def_static(
      "from_gpt2_files",
      [](const std::filesystem::path& encoder_json, const std::filesystem::path& vocab_bpe) {
        const auto r = ref::Tokenizer::from_gpt2_files(encoder_json, vocab_bpe);
        std::vector<std::string> bytes;
        for (ref::TokenId id = 0; id < r.mergeable_count(); ++id)
          bytes.push_back(r.token_bytes(id));
        const auto& s = r.special_tokens();
        return fast::Tokenizer(std::move(bytes), {s.begin(), s.end()});
      },
      py::arg("encoder_json"), py::arg("vocab_bpe"),
      "Loads GPT-2's original encoder.json and vocab.bpe.");
}

}  // namespace llmlab::python
