#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The cleaning of `llmlab data prepare`, one document at a time: HTML tags stripped,
/// Unicode normalised to NFC (ICU), control characters removed, whitespace normalised.

#include <cstdint>
#include <string>
#include <string_view>

namespace llmlab::app {

/// What cleaning did, summed over the documents (each field one kind of edit).
struct CleanCounts {
  std::uint64_t documents = 0;      ///< documents read
  std::uint64_t bytes_in = 0;       ///< their bytes before cleaning
  std::uint64_t html_tags = 0;      ///< HTML tags and comments removed
  std::uint64_t invalid_utf8 = 0;   ///< documents whose invalid UTF-8 became U+FFFD
  std::uint64_t nfc_changed = 0;    ///< documents NFC normalisation changed
  std::uint64_t control_chars = 0;  ///< control characters removed (\\t and \\n are kept as space
                                    ///< and line break)
  std::uint64_t whitespace = 0;     ///< whitespace runs rewritten (collapsed, trimmed, replaced)
  std::uint64_t empty = 0;          ///< documents empty after cleaning, dropped
  std::uint64_t duplicates = 0;     ///< exact duplicates (of an earlier cleaned document), dropped
  std::uint64_t kept = 0;           ///< documents kept
  std::uint64_t bytes_out = 0;      ///< their bytes after cleaning
};

/// Cleans one document, in this order:
/// 1. HTML: `<!-- … -->` comments, `<!DOCTYPE …>` and tags of HTML's element names
///    (`<p>`, `</div>`, `<br/>`, `<a href=…>`, …; up to 1024 bytes to the `>`) are removed; other
///    `<…>` text (`<grin>`, `a < b > c`) is kept.
/// 2. Unicode: invalid UTF-8 becomes U+FFFD, then NFC (ICU's Normalizer2).
/// 3. Control characters (general category Cc) are removed, except tab (a space) and line feed;
///    "\r\n" becomes "\n".
/// 4. Whitespace: every run of spaces and tabs (and other Unicode spaces) within a line becomes
///    one space; spaces at the end of a line are removed; more than one blank line becomes one;
///    leading and trailing whitespace of the document is removed.
/// @param raw the document's bytes   @param counts updated with what was done
/// @returns the cleaned UTF-8 text ("" when nothing is left)
std::string clean_document(std::string_view raw, CleanCounts& counts);

/// FNV-1a 64-bit hash of `text` (the duplicate filter's key and the split's draw).
std::uint64_t document_hash(std::string_view text);

}  // namespace llmlab::app
