#pragma once
// Internal to reference/: writing a file so that a reader never sees half of it.

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "llmlab/core/error.hpp"

namespace llmlab::ref::detail {

/// Writes `bytes` to `path` + ".tmp", flushed, then renames it over `path` (atomic on one
/// filesystem): `path` holds the old file or the whole new one, never a part. The temporary file
/// is removed when writing fails.
/// @throws llmlab::Error naming `where` and the path when it cannot be written or renamed.
inline void write_file_atomically(const std::filesystem::path& path, const std::string& bytes,
                                  const char* where) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw Error(where, "cannot write " + tmp.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(where, "cannot rename " + tmp.string() + ": " + ec.message());
}

}  // namespace llmlab::ref::detail
