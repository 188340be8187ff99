/// \file
/// \brief Token shards (core/include/llmlab/core/token_shard.hpp).

#include "llmlab/core/token_shard.hpp"

#include <bit>
#include <cstring>
#include <string>
#include <system_error>

#include "llmlab/core/error.hpp"

namespace llmlab {

namespace {

static_assert(std::endian::native == std::endian::little, "token shards are little-endian");

template <class T>
void put(std::ofstream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

std::size_t width(std::uint64_t vocab) { return vocab <= 65536 ? 2 : 4; }

}  // namespace

TokenShardWriter::TokenShardWriter(std::filesystem::path path, std::uint64_t vocab_size)
    : path_(std::move(path)), temp_(path_.string() + ".tmp"), vocab_(vocab_size) {
  if (vocab_ == 0 || vocab_ > 0xffffffffULL)
    throw Error("TokenShardWriter", path_.string() + ": vocabulary size " +
                                        std::to_string(vocab_) + " is outside [1, 2^32 - 1]");
  out_.open(temp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw Error("TokenShardWriter", "cannot create " + temp_.string());
  out_.write(kTokenShardMagic, sizeof kTokenShardMagic);
  put(out_, kTokenShardVersion);
  put(out_, static_cast<std::uint32_t>(vocab_));
  put(out_, std::uint64_t{0});
}

TokenShardWriter::~TokenShardWriter() {
  if (committed_) return;
  out_.close();
  std::error_code ec;
  std::filesystem::remove(temp_, ec);
}

void TokenShardWriter::append(std::span<const std::int32_t> tokens) {
  const bool narrow = width(vocab_) == 2;
  std::vector<char> buf(tokens.size() * width(vocab_));
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::int32_t t = tokens[i];
    if (t < 0 || static_cast<std::uint64_t>(t) >= vocab_)
      throw Error("TokenShardWriter", path_.string() + ": token " + std::to_string(t) +
                                          " is outside [0, " + std::to_string(vocab_) + ")");
    if (narrow) {
      const auto v = static_cast<std::uint16_t>(t);
      std::memcpy(buf.data() + 2 * i, &v, 2);
    } else {
      const auto v = static_cast<std::uint32_t>(t);
      std::memcpy(buf.data() + 4 * i, &v, 4);
    }
  }
  out_.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  if (!out_) throw Error("TokenShardWriter", "cannot write " + temp_.string());
  count_ += tokens.size();
}

void TokenShardWriter::commit() {
  out_.seekp(16);
  put(out_, count_);
  out_.flush();
  out_.close();
  if (!out_) throw Error("TokenShardWriter", "cannot write " + temp_.string());
  std::error_code ec;
  std::filesystem::rename(temp_, path_, ec);
  if (ec) throw Error("TokenShardWriter", "cannot rename " + temp_.string() + ": " + ec.message());
  committed_ = true;
}

TokenShard read_token_shard(const std::filesystem::path& path) {
  const auto refuse = [&](const std::string& what) {
    throw Error("read_token_shard", path.string() + ": " + what);
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse("cannot open it (missing or unreadable)");
  char head[kTokenShardHeader] = {};
  in.read(head, sizeof head);
  if (in.gcount() != static_cast<std::streamsize>(sizeof head) ||
      std::memcmp(head, kTokenShardMagic, sizeof kTokenShardMagic) != 0)
    refuse("not a token shard (no LLMLABTS header)");
  std::uint32_t version = 0, vocab32 = 0;
  std::uint64_t n = 0;
  std::memcpy(&version, head + 8, 4);
  std::memcpy(&vocab32, head + 12, 4);
  std::memcpy(&n, head + 16, 8);
  if (version != kTokenShardVersion)
    refuse("version " + std::to_string(version) + ", this llmlab reads " +
           std::to_string(kTokenShardVersion));
  TokenShard s;
  s.vocab_size = vocab32;
  if (s.vocab_size == 0) refuse("vocabulary size 0");
  const std::size_t w = width(s.vocab_size);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  if (ec || bytes != kTokenShardHeader + n * w)
    refuse("truncated or too long: the header says " + std::to_string(n) + " tokens of " +
           std::to_string(w) + " bytes, the file has " + std::to_string(bytes) + " bytes");
  std::vector<char> raw(n * w);
  in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  if (in.gcount() != static_cast<std::streamsize>(raw.size())) refuse("cannot read the tokens");
  s.tokens.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t v = 0;
    if (w == 2) {
      std::uint16_t h = 0;
      std::memcpy(&h, raw.data() + 2 * i, 2);
      v = h;
    } else {
      std::memcpy(&v, raw.data() + 4 * i, 4);
    }
    if (v >= s.vocab_size)
      refuse("token " + std::to_string(v) + " at " + std::to_string(i) + " is outside [0, " +
             std::to_string(s.vocab_size) + ")");
    s.tokens[i] = static_cast<std::int32_t>(v);
  }
  return s;
}

}  // namespace llmlab
