/// \file
/// \ingroup group_emulator
/// \brief llmlab-cudapp's tokenizer and rewriter (see cudapp.hpp).

#include "cudapp.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <cstddef>
#include <string>
#include <vector>

namespace llmlab::cudapp {
namespace {

enum class Kind { identifier, number, literal, punct };

struct Token {
  Kind kind;
  std::size_t begin, end;  // byte offsets in the source
  int line;                // 1-based line of `begin`
  bool spaced;             // whitespace or a comment precedes it
  std::string_view text;
};

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

// Splits `src` into tokens, skipping comments and preprocessor directives (whole logical lines).
class Tokenizer {
 public:
  Tokenizer(std::string_view src, const std::string& file) : s_(src), file_(file) {}

  /// `#include "name"` directives seen by run(): the directive's bytes and the quoted name.
  struct Include {
    std::size_t begin, end;
    std::string name;
  };
  std::vector<Include> includes;

  std::vector<Token> run() {
    std::vector<Token> out;
    bool spaced = true, line_start = true;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '\n') { ++line_; ++i_; spaced = line_start = true; continue; }
      if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') { ++i_; spaced = true; continue; }
      if (c == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') { i_ += 2; ++line_; continue; }
      if (starts("//")) { skip_line_comment(); spaced = true; continue; }
      if (starts("/*")) { skip_block_comment(); spaced = true; continue; }
      if (c == '#' && line_start) {
        const std::size_t begin = i_;
        const int line = line_;
        skip_directive();
        record_include(s_.substr(begin, i_ - begin), begin, line);
        spaced = line_start = true;
        continue;
      }
      line_start = false;
      const std::size_t begin = i_;
      const int line = line_;
      Kind kind = Kind::punct;
      if (ident_start(c)) {
        while (i_ < s_.size() && ident_char(s_[i_])) ++i_;
        const std::string_view word = s_.substr(begin, i_ - begin);
        if (i_ < s_.size() && s_[i_] == '"' && is_raw_prefix(word)) {
          raw_string();
          kind = Kind::literal;
        } else if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'') && is_prefix(word)) {
          quoted(s_[i_]);
          kind = Kind::literal;
        } else {
          kind = Kind::identifier;
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        number();
        kind = Kind::number;
      } else if (c == '"' || c == '\'') {
        quoted(c);
        kind = Kind::literal;
      } else {
        ++i_;
      }
      out.push_back({kind, begin, i_, line, spaced, s_.substr(begin, i_ - begin)});
      spaced = false;
    }
    return out;
  }

 private:
  bool starts(std::string_view p) const { return s_.substr(i_, p.size()) == p; }
  void record_include(std::string_view d, std::size_t begin, int) {
    std::size_t k = 1;
    while (k < d.size() && (d[k] == ' ' || d[k] == '\t')) ++k;
    if (d.substr(k, 7) != "include") return;
    k += 7;
    while (k < d.size() && (d[k] == ' ' || d[k] == '\t')) ++k;
    if (k >= d.size() || d[k] != '"') return;
    const std::size_t close = d.find('"', k + 1);
    if (close == std::string_view::npos) return;
    includes.push_back({begin + k, begin + close + 1, std::string(d.substr(k + 1, close - k - 1))});
  }
  [[noreturn]] void fail(int line, const std::string& what) const { throw SyntaxError(file_, line, what); }

  static bool is_prefix(std::string_view w) { return w == "L" || w == "u" || w == "U" || w == "u8"; }
  static bool is_raw_prefix(std::string_view w) {
    return w == "R" || w == "LR" || w == "uR" || w == "UR" || w == "u8R";
  }

  void skip_line_comment() {
    while (i_ < s_.size() && s_[i_] != '\n') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') { ++line_; ++i_; }
      ++i_;
    }
  }
  void skip_block_comment() {
    const int line = line_;
    const std::size_t end = s_.find("*/", i_ + 2);
    if (end == std::string_view::npos) fail(line, "unterminated /* comment");
    line_ += static_cast<int>(std::count(s_.begin() + i_, s_.begin() + end, '\n'));
    i_ = end + 2;
  }
  // A directive ends at an unescaped newline; comments inside it may span lines.
  void skip_directive() {
    while (i_ < s_.size() && s_[i_] != '\n') {
      if (starts("/*")) { skip_block_comment(); continue; }
      if (starts("//")) { skip_line_comment(); continue; }
      if (s_[i_] == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') { ++line_; i_ += 2; continue; }
      if (s_[i_] == '"' || s_[i_] == '\'') { quoted(s_[i_]); continue; }
      ++i_;
    }
  }
  void quoted(char q) {
    const int line = line_;
    ++i_;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\n') fail(line, std::string("unterminated ") + (q == '"' ? "string" : "character") + " literal");
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) {
        if (s_[i_ + 1] == '\n') ++line_;
        ++i_;
      }
      ++i_;
    }
    if (i_ >= s_.size()) fail(line, "unterminated literal");
    ++i_;
    while (i_ < s_.size() && ident_char(s_[i_])) ++i_;  // user-defined literal suffix
  }
  void raw_string() {  // at the opening quote of R"delim( ... )delim"
    const int line = line_;
    const std::size_t open = s_.find('(', i_);
    if (open == std::string_view::npos) fail(line, "malformed raw string literal");
    const std::string close = ")" + std::string(s_.substr(i_ + 1, open - i_ - 1)) + "\"";
    const std::size_t end = s_.find(close, open);
    if (end == std::string_view::npos) fail(line, "unterminated raw string literal");
    line_ += static_cast<int>(std::count(s_.begin() + i_, s_.begin() + end, '\n'));
    i_ = end + close.size();
  }
  void number() {  // pp-number: digits, letters, ', ., and e+/e-/p+/p-
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if ((c == '+' || c == '-') && i_ > 0 && std::strchr("eEpP", s_[i_ - 1]) != nullptr) { ++i_; continue; }
      if (ident_char(c) || c == '.' || c == '\'') { ++i_; continue; }
      break;
    }
  }

  std::string_view s_;
  const std::string& file_;
  std::size_t i_ = 0;
  int line_ = 1;
};

enum class Scope { file, type, function, kernel };

std::string quote_for_line(const std::string& file) {
  std::string q;
  for (const char c : file) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q;
}

// Rewrites the token stream's launches, extern __shared__ declarations and refused constructs.
class Rewriter {
 public:
  Rewriter(std::string_view src, const std::string& file, const Options& options)
      : s_(src), file_(file), options_(options) {
    Tokenizer tokenizer(src, file);
    t_ = tokenizer.run();
    includes_ = std::move(tokenizer.includes);
  }

  std::string run() {
    out_ = "#include <llmlab/emu/chevrons.hpp>  // llmlab-cudapp: the emulator, before any CUDA header\n";
    out_ += "#line 1 \"" + quote_for_line(file_) + "\"\n";
    bool kernel_pending = false;  // a __global__ seen, its body's { not yet
    std::vector<Scope> scopes;
    for (std::size_t k = 0; k < t_.size(); ++k) {
      const Token& tok = t_[k];
      flush_includes(tok.begin);
      if (tok.kind == Kind::identifier) {
        if (tok.text == "__global__") kernel_pending = true;
        if (tok.text == "extern" && next_is(k, "__shared__")) {
          k = extern_shared(k, scopes);
          continue;
        }
        if (const char* what = refused(k)) refuse(tok, what);
      } else if (tok.kind == Kind::punct) {
        const char c = tok.text[0];
        if (c == ';' && depth_ == 0) kernel_pending = false;
        if (c == '(' || c == '[') ++depth_;
        if (c == ')' || c == ']') depth_ = std::max(0, depth_ - 1);
        if (c == '{') {
          scopes.push_back(brace_scope(k, scopes, kernel_pending));
          if (scopes.back() == Scope::kernel) kernel_pending = false;
        }
        if (c == '}' && !scopes.empty()) scopes.pop_back();
        if (c == '<' && is_chevron(k, '<')) {
          k = launch(k, scopes);
          continue;
        }
      }
    }
    flush_includes(s_.size());
    out_.append(s_.substr(copied_));
    return out_;
  }

 private:
  bool is(std::size_t k, std::string_view text) const { return k < t_.size() && t_[k].text == text; }
  bool next_is(std::size_t k, std::string_view text) const { return is(k + 1, text); }

  // Three adjacent `c` tokens starting at k.
  bool is_chevron(std::size_t k, char c) const {
    if (k + 2 >= t_.size()) return false;
    for (std::size_t j = k; j < k + 3; ++j) {
      if (t_[j].kind != Kind::punct || t_[j].text[0] != c) return false;
      if (j > k && t_[j].begin != t_[j - 1].end) return false;
    }
    if (c == '<' && k > 0 && t_[k - 1].text == "operator") return false;  // operator<< <T>
    return true;
  }

  Scope brace_scope(std::size_t k, const std::vector<Scope>& scopes, bool kernel_pending) const {
    const Scope enclosing = scopes.empty() ? Scope::file : scopes.back();
    if (enclosing == Scope::function || enclosing == Scope::kernel) return enclosing;
    if (k >= 1 && (t_[k - 1].text == "namespace" || (k >= 2 && t_[k - 2].text == "namespace")))
      return Scope::file;
    if (k >= 2 && t_[k - 1].kind == Kind::literal && t_[k - 2].text == "extern") return Scope::file;
    // class bodies: `struct X {`, `struct X : base {`, `struct alignas(8) X final {` …
    for (std::size_t j = k; j-- > 0;) {
      const std::string_view w = t_[j].text;
      if (w == ";" || w == "{" || w == "}" || w == ")" || w == "=") break;
      if (w == "struct" || w == "class" || w == "union" || w == "enum") return Scope::type;
    }
    if (kernel_pending) return Scope::kernel;
    return Scope::function;
  }

  // Copies the source up to `pos`, then `text` in place of [pos, end), padded with the newlines the
  // replaced span had so every later line keeps its number.
  void replace(std::size_t pos, std::size_t end, const std::string& text, bool pad = true) {
    out_.append(s_.substr(copied_, pos - copied_));
    out_ += text;
    copied_ = end;
    if (!pad) return;
    const auto had = std::count(s_.begin() + pos, s_.begin() + end, '\n');
    const auto has = std::count(text.begin(), text.end(), '\n');
    for (auto n = has; n < had; ++n) out_ += '\n';
  }
  std::string_view span(std::size_t first, std::size_t last) const {  // tokens first..last inclusive
    return s_.substr(t_[first].begin, t_[last].end - t_[first].begin);
  }

  static std::string pragma_error(const std::string& message) {
    return "_Pragma(\"GCC error \\\"llmlab emu: " + message + "\\\"\") ";
  }
  void refuse(const Token& tok, const char* what) {
    replace(tok.begin, tok.begin, pragma_error(std::string(what) + " (`" + std::string(tok.text) +
                                               "`) is not supported by the CUDA emulator"));
  }
  const char* refused(std::size_t k) const {
    const std::string_view w = t_[k].text;
    auto starts = [&](std::string_view p) { return w.substr(0, p.size()) == p; };
    if (w == "asm" || w == "__asm__" || w == "__asm") return "inline PTX/assembly";
    if ((w == "texture" || w == "surface") && next_is(k, "<")) return "a texture/surface reference";
    if (starts("tex1D") || starts("tex2D") || starts("tex3D") || starts("texCubemap") ||
        starts("surf1D") || starts("surf2D") || starts("surf3D") || w == "cudaCreateTextureObject" ||
        w == "cudaCreateSurfaceObject" || w == "cudaTextureObject_t" || w == "cudaSurfaceObject_t" ||
        starts("cudaBindTexture"))
      return "texture/surface memory";
    if (starts("cudaGraph") || w == "cudaStreamBeginCapture" || w == "cudaStreamEndCapture")
      return "CUDA graphs";
    return nullptr;
  }

  // `extern __shared__ [attrs] T name[];` starting at token k; returns the index of its `;`.
  std::size_t extern_shared(std::size_t k, const std::vector<Scope>& scopes) {
    std::size_t semi = k;
    while (semi < t_.size() && t_[semi].text != ";") ++semi;
    if (semi >= t_.size()) throw SyntaxError(file_, t_[k].line, "extern __shared__ without ';'");
    std::vector<std::size_t> type;  // tokens of T
    std::size_t name = 0;
    for (std::size_t j = k + 2; j < semi; ++j) {
      const std::string_view w = t_[j].text;
      if (w == "__align__" || w == "alignas" || w == "__attribute__" || w == "__declspec") {
        j = skip_group(j + 1, '(', ')');
        continue;
      }
      if (w == "[" && is(j + 1, "[")) { j = skip_group(j, '[', ']'); continue; }
      if (w == "[") {
        if (!is(j + 1, "]") || j + 2 != semi)
          throw SyntaxError(file_, t_[j].line, "expected `extern __shared__ T name[];`");
        name = j - 1;
        break;
      }
      if (w == "__device__") continue;
      type.push_back(j);
    }
    if (name == 0 || type.size() < 2 || t_[name].kind != Kind::identifier)
      throw SyntaxError(file_, t_[k].line, "expected `extern __shared__ T name[];`");
    type.pop_back();  // the name
    std::string t;
    for (const std::size_t j : type) t += (t.empty() ? "" : " ") + std::string(t_[j].text);
    const std::string pointer = "static_cast<" + t + "*>(::llmlab::emu::dynamic_shared_memory())";
    const std::string id(t_[name].text);
    const bool at_file_scope = scopes.empty() || scopes.back() == Scope::file;
    if (at_file_scope) {  // one pointer per block: a macro evaluated where the name is used
      const int next_line = t_[semi].line;
      replace(t_[k].begin, t_[semi].end,
              "/* extern __shared__ " + id + " */\n#define " + id + " (" + pointer + ")\n#line " +
                  std::to_string(next_line) + " \"" + quote_for_line(file_) + "\"\n",
              /*pad=*/false);  // #line already accounts for the span's newlines
    } else {
      replace(t_[k].begin, t_[semi].end, t + "* const " + id + " = " + pointer + ";");
    }
    return semi;
  }

  // Index of the token closing the group opened at `open` (which must be `o`).
  std::size_t skip_group(std::size_t open, char o, char c) const {
    if (open >= t_.size() || t_[open].text[0] != o) return open - 1;
    int d = 0;
    for (std::size_t j = open; j < t_.size(); ++j) {
      if (t_[j].kind != Kind::punct) continue;
      if (t_[j].text[0] == o) ++d;
      if (t_[j].text[0] == c && --d == 0) return j;
    }
    throw SyntaxError(file_, t_[open].line, std::string("unbalanced '") + o + "'");
  }

  // Index of the opener `o` matching the closer `c` at token `close`, scanning back over
  // parenthesised groups as wholes; npos if there is none before a `;`, `{` or `}`.
  std::size_t match_back(std::size_t close, char o, char c) const {
    int d = 0;
    for (std::size_t m = close + 1; m-- > 0;) {
      const std::string_view w = t_[m].text;
      if (t_[m].kind != Kind::punct) continue;
      if (w[0] == ')' && c != ')') {  // (N > 2) inside template arguments
        m = match_back(m, '(', ')');
        if (m == npos) return npos;
        continue;
      }
      if (w[0] == c) ++d;
      if (w[0] == o && --d == 0) return m;
      if (w == ";" || w == "{" || w == "}") return npos;
    }
    return npos;
  }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // The first token of the callee that ends just before token `end`: `k`, `ns::k`, `::k`,
  // `k<T, N>`, `ns::template k<T>`, `(*fp)`; `end` if there is none.
  std::size_t callee_begin(std::size_t end) const {
    if (end == 0) return end;
    std::size_t j = end;
    if (t_[j - 1].text == ")") {
      const std::size_t m = match_back(j - 1, '(', ')');
      return m == npos ? end : m;
    }
    for (;;) {
      if (j >= 1 && t_[j - 1].text == ">") {  // template arguments
        const std::size_t m = match_back(j - 1, '<', '>');
        if (m == npos) return end;
        j = m;
      }
      if (j == 0 || t_[j - 1].kind != Kind::identifier) return j == end ? end : j;
      --j;
      if (j >= 1 && t_[j - 1].text == "template") --j;
      if (j >= 2 && t_[j - 1].text == ":" && t_[j - 2].text == ":" && t_[j - 1].begin == t_[j - 2].end) {
        j -= 2;
        if (j >= 1 && (t_[j - 1].kind == Kind::identifier || t_[j - 1].text == ">")) continue;
      }
      return j;
    }
  }

  // A launch whose `<<<` starts at token k; returns the index of the argument list's `)`.
  std::size_t launch(std::size_t k, const std::vector<Scope>& scopes) {
    const int line = t_[k].line;
    const std::size_t first = callee_begin(k);
    if (first == k) throw SyntaxError(file_, line, "`<<<` without a kernel name before it");
    // the configuration: up to the first `>>>` outside brackets
    std::size_t close = k + 3;
    int d = 0;
    for (; close < t_.size(); ++close) {
      const char c = t_[close].kind == Kind::punct ? t_[close].text[0] : '\0';
      if (c == '(' || c == '[' || c == '{') ++d;
      if (c == ')' || c == ']' || c == '}') --d;
      if (d < 0 || c == ';') throw SyntaxError(file_, line, "launch configuration without `>>>`");
      if (d == 0 && c == '>' && is_chevron(close, '>')) break;
    }
    if (close >= t_.size()) throw SyntaxError(file_, line, "launch configuration without `>>>`");
    const std::size_t open = close + 3;
    if (!is(open, "(")) throw SyntaxError(file_, line, "a launch needs its argument list after `>>>`");
    const std::size_t end = skip_group(open, '(', ')');
    const std::string callee(span(first, k - 1));
    std::string callee_label;
    for (std::size_t j = first; j < k; ++j) {  // one line, no comments
      if (t_[j].spaced && j > first && !callee_label.empty()) callee_label += ' ';
      callee_label += t_[j].text;
    }
    const std::string config(span(k + 3, close - 1 >= k + 3 ? close - 1 : k + 3));
    if (close == k + 3) throw SyntaxError(file_, line, "empty launch configuration `<<<>>>`");
    std::string text;
    if (!scopes.empty() && scopes.back() == Scope::kernel)
      text += pragma_error("a launch inside a __global__ function (dynamic parallelism) is not "
                           "supported by the CUDA emulator");
    text += "::llmlab::emu::launch_chevrons(::llmlab::emu::Chevrons(" + config + "), \"";
    for (const char c : callee_label) text += (c == '"' || c == '\\') ? '?' : c;
    text += "\", [&](auto&&... llmlab_emu_args) { " + callee +
            "(static_cast<decltype(llmlab_emu_args)&&>(llmlab_emu_args)...); }";
    if (end > open + 1) text += ", " + std::string(span(open + 1, end - 1));
    text += ")";
    replace(t_[first].begin, t_[end].end, text);
    return end;
  }

  // Rewrites the `#include "x"` directives before byte `pos` (see include_target).
  void flush_includes(std::size_t pos) {
    for (; next_include_ < includes_.size() && includes_[next_include_].begin < pos; ++next_include_) {
      const auto& inc = includes_[next_include_];
      if (inc.begin < copied_) continue;
      if (const std::string target = include_target(inc); !target.empty())
        replace(inc.begin, inc.end, "\"" + quote_for_line(target) + "\"");
    }
  }

  // A local header (`#include "x"` found next to this file) that holds launches or extern __shared__
  // is rewritten too, into options_.header_dir; returns the path to include ("" to keep x: not found).
  std::string include_target(const Tokenizer::Include& inc) const {
    namespace fs = std::filesystem;
    const fs::path header = (fs::path(file_).parent_path() / inc.name).lexically_normal();
    std::error_code ec;
    if (!fs::is_regular_file(header, ec)) return "";
    if (options_.dependencies) options_.dependencies->push_back(header.string());
    // Inside a rewritten header every local include names an absolute path: the copy lives
    // elsewhere, and its own "relative" includes must still find the original's neighbours.
    const std::string original = fs::absolute(header).lexically_normal().string();
    if (options_.header_dir.empty() || options_.visiting->count(header.string())) return original;
    std::ifstream in(header, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    options_.visiting->insert(header.string());
    const std::string rewritten = Rewriter(content.str(), header.string(), options_).run();
    options_.visiting->erase(header.string());
    const std::size_t body = rewritten.find('\n', rewritten.find('\n') + 1) + 1;
    if (rewritten.compare(body, std::string::npos, content.str()) == 0) {  // nothing to rewrite
      const bool in_header = options_.visiting->size() > 1;  // the top file's dir is on -iquote
      return in_header ? original : "";
    }
    std::string flat = original;
    for (char& c : flat)
      if (c == '/' || c == '\\' || c == ':') c = '_';
    const fs::path dest = fs::absolute(fs::path(options_.header_dir) / flat);
    fs::create_directories(dest.parent_path(), ec);
    std::ifstream old(dest, std::ios::binary);
    std::ostringstream old_text;
    old_text << old.rdbuf();
    if (old_text.str() != rewritten) std::ofstream(dest, std::ios::binary) << rewritten;  // keep mtime
    return dest.string();
  }

  std::string_view s_;
  const std::string& file_;
  const Options& options_;
  std::vector<Token> t_;
  std::vector<Tokenizer::Include> includes_;
  std::size_t next_include_ = 0;
  std::string out_;
  std::size_t copied_ = 0;
  int depth_ = 0;
};

}  // namespace

std::string preprocess(std::string_view source, const std::string& file, const Options& options) {
  std::set<std::string> visiting{std::filesystem::path(file).lexically_normal().string()};
  Options o = options;
  o.visiting = &visiting;
  return Rewriter(source, file, o).run();
}

}  // namespace llmlab::cudapp
