/// \file
/// \ingroup group_gpt
/// \brief Cleaning one document (data/clean.hpp).

#include "data/clean.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

namespace llmlab::app {

namespace {

/// HTML's element names (the tags removed); anything else in angle brackets is text.
constexpr std::array<std::string_view, 72> kHtmlTags = {
    "a",      "abbr",   "address", "article", "aside",    "b",       "blockquote", "body",
    "br",     "button", "caption", "center",  "cite",     "code",    "col",        "dd",
    "del",    "div",    "dl",      "dt",      "em",       "embed",   "figure",     "font",
    "footer", "form",   "h1",      "h2",      "h3",       "h4",      "h5",         "h6",
    "head",   "header", "hr",      "html",    "i",        "iframe",  "img",        "input",
    "ins",    "kbd",    "label",   "li",      "link",     "main",    "meta",       "nav",
    "noscript", "ol",   "option",  "p",       "pre",      "q",       "s",          "samp",
    "script", "section", "select", "small",   "span",     "strike",  "strong",     "style",
    "sub",    "sup",    "table",   "tbody",   "td",       "th",      "tr",         "u"};

/// The length of the tag or comment at text[i] == '<', or 0 when it is not one.
std::size_t html_tag_at(std::string_view text, std::size_t i) {
  const std::string_view rest = text.substr(i);
  if (rest.starts_with("<!--")) {
    const auto end = rest.find("-->", 4);
    return end == std::string_view::npos ? 0 : end + 3;
  }
  std::size_t j = 1;
  if (j < rest.size() && rest[j] == '!') {  // <!DOCTYPE …>
    std::string word;
    for (std::size_t k = 2; k < rest.size() && k < 9; ++k)
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(rest[k])));
    if (word != "doctype") return 0;
  } else {
    if (j < rest.size() && rest[j] == '/') ++j;
    std::size_t k = j;
    while (k < rest.size() && std::isalnum(static_cast<unsigned char>(rest[k]))) ++k;
    std::string name(rest.substr(j, k - j));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::find(kHtmlTags.begin(), kHtmlTags.end(), name) == kHtmlTags.end()) return 0;
    // after the name: '>', "/>", or whitespace and attributes
    if (k >= rest.size() || !(rest[k] == '>' || rest[k] == '/' || std::isspace(static_cast<unsigned char>(rest[k]))))
      return 0;
  }
  const auto end = rest.substr(0, 1024).find('>');
  return end == std::string_view::npos ? 0 : end + 1;
}

std::string strip_html(std::string_view raw, CleanCounts& counts) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] == '<') {
      if (const std::size_t n = html_tag_at(raw, i); n > 0) {
        ++counts.html_tags;
        i += n;
        continue;
      }
    }
    out += raw[i++];
  }
  return out;
}

const icu::Normalizer2& nfc() {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || n == nullptr)
    throw std::runtime_error(std::string("ICU has no NFC normaliser: ") + u_errorName(status));
  return *n;
}

}  // namespace

std::uint64_t document_hash(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string clean_document(std::string_view raw, CleanCounts& counts) {
  ++counts.documents;
  counts.bytes_in += raw.size();
  const std::string text = strip_html(raw, counts);

  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  {  // invalid UTF-8 became U+FFFD: the round trip differs
    std::string back;
    u.toUTF8String(back);
    if (back != text) ++counts.invalid_utf8;
  }
  UErrorCode status = U_ZERO_ERROR;
  if (!nfc().isNormalized(u, status)) {
    status = U_ZERO_ERROR;
    u = nfc().normalize(u, status);
    if (U_FAILURE(status))
      throw std::runtime_error(std::string("NFC normalisation failed: ") + u_errorName(status));
    ++counts.nfc_changed;
  }

  // control characters and whitespace, one pass over the code points
  icu::UnicodeString out;
  int pending_newlines = 0;  // line feeds seen since the last printed character
  bool pending_space = false;
  bool rewritten = false;    // the current whitespace run differs from what is written
  std::int32_t run_length = 0;
  const auto flush_run = [&] {
    if (rewritten) ++counts.whitespace;
    rewritten = false;
    run_length = 0;
  };
  for (std::int32_t i = 0; i < u.length();) {
    const UChar32 c = u.char32At(i);
    i += U16_LENGTH(c);
    if (c == '\r') {
      ++counts.control_chars;
      continue;
    }
    const bool newline = c == '\n';
    const bool space = !newline && (c == '\t' || u_isUWhiteSpace(c));
    if (!newline && !space && u_charType(c) == U_CONTROL_CHAR) {
      ++counts.control_chars;
      continue;
    }
    if (newline || space) {
      ++run_length;
      if (newline) {
        if (pending_space) rewritten = true;  // a space at the end of a line
        pending_space = false;
        ++pending_newlines;
        if (pending_newlines > 2) rewritten = true;
      } else {
        if (c != ' ' || pending_space) rewritten = true;  // a tab, a Unicode space, a second one
        pending_space = true;
      }
      continue;
    }
    // a printable character: write the whitespace run before it
    if (out.isEmpty()) {
      if (run_length > 0) rewritten = true;  // leading whitespace
    } else {
      for (int k = 0; k < std::min(pending_newlines, 2); ++k) out.append(static_cast<UChar32>('\n'));
      if (pending_space) out.append(static_cast<UChar32>(' '));
    }
    flush_run();
    pending_newlines = 0;
    pending_space = false;
    out.append(c);
  }
  if (run_length > 0) {  // trailing whitespace
    rewritten = true;
    flush_run();
  }
  std::string result;
  out.toUTF8String(result);
  return result;
}

}  // namespace llmlab::app
