// The checkpoint format of train.hpp's save_checkpoint: written to a temporary file and renamed,
// read whole and checked (magic, version, hash, config, every tensor's name and shape).
#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

#include "llmlab/core/error.hpp"
#include "llmlab/ref/train.hpp"
#include "atomic_file.hpp"

namespace llmlab::ref {

namespace {

static_assert(std::endian::native == std::endian::little, "the checkpoint format is little-endian");

constexpr char kMagic[8] = {'L', 'L', 'M', 'L', 'A', 'B', 'C', 'K'};
constexpr std::uint32_t kVersion = 1;

/// FNV-1a, 64 bits, over a byte string.
std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

template <class V>
void put(std::string& out, const V& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

/// Reads from the loaded file, refusing to run past its end.
struct Reader {
  const std::string& bytes;
  std::size_t at;
  std::string path;
  void raw(void* dst, std::size_t n) {
    if (n > bytes.size() - at)
      throw Error("load_checkpoint", path + ": truncated (needs " + std::to_string(at + n) +
                                         " bytes, has " + std::to_string(bytes.size()) + ")");
    std::memcpy(dst, bytes.data() + at, n);
    at += n;
  }
  template <class V>
  V get() {
    V v;
    raw(&v, sizeof v);
    return v;
  }
};

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const TrainState& s) {
  std::string out(kMagic, sizeof kMagic);
  put(out, kVersion);
  for (const std::int64_t v :
       {s.cfg.vocab_size, s.cfg.block_size, s.cfg.n_layer, s.cfg.n_head, s.cfg.n_embd, s.step,
        s.opt.batch, s.opt.seq, s.opt.steps, s.opt.warmup, static_cast<std::int64_t>(s.opt.seed),
        s.opt.grad_accum})
    put(out, v);
  for (const double v : {s.opt.lr, s.opt.min_lr, s.opt.weight_decay, s.opt.beta1, s.opt.beta2,
                         s.opt.eps, s.opt.clip})
    put(out, v);
  auto tensors = gpt_tensors(const_cast<GptParams<float>&>(s.params));
  put(out, static_cast<std::uint64_t>(tensors.size()));
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    put(out, static_cast<std::uint32_t>(t.name.size()));
    out += t.name;
    put(out, static_cast<std::uint32_t>(t.shape.size()));
    for (const std::size_t d : t.shape) put(out, static_cast<std::uint64_t>(d));
    out.append(reinterpret_cast<const char*>(t.data), t.size * sizeof(float));
    out.append(reinterpret_cast<const char*>(s.m.at(i).data()), s.m[i].size() * sizeof(float));
    out.append(reinterpret_cast<const char*>(s.v.at(i).data()), s.v[i].size() * sizeof(float));
  }
  put(out, fnv1a(out));
  detail::write_file_atomically(path, out, "save_checkpoint");
}

TrainState load_checkpoint(const std::filesystem::path& path) {
  constexpr const char* where = "load_checkpoint";
  const std::string name = path.string();
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(where, name + ": no such file or not readable");
  const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw Error(where, name + ": not an llmlab checkpoint (no LLMLABCK magic)");
  Reader r{bytes, sizeof kMagic, name};
  if (const auto v = r.get<std::uint32_t>(); v != kVersion)
    throw Error(where, name + ": version " + std::to_string(v) + ", this llmlab reads " +
                           std::to_string(kVersion));
  if (bytes.size() < r.at + 8)
    throw Error(where, name + ": truncated (" + std::to_string(bytes.size()) + " bytes)");
  std::uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (fnv1a(bytes.substr(0, bytes.size() - 8)) != stored)
    throw Error(where, name + ": corrupted or truncated (its hash does not match its contents)");
  TrainState s;
  s.cfg = {r.get<std::int64_t>(), r.get<std::int64_t>(), r.get<std::int64_t>(),
           r.get<std::int64_t>(), r.get<std::int64_t>()};
  s.step = r.get<std::int64_t>();
  s.opt.batch = r.get<std::int64_t>();
  s.opt.seq = r.get<std::int64_t>();
  s.opt.steps = r.get<std::int64_t>();
  s.opt.warmup = r.get<std::int64_t>();
  s.opt.seed = static_cast<std::uint64_t>(r.get<std::int64_t>());
  s.opt.grad_accum = std::max<std::int64_t>(r.get<std::int64_t>(), 1);  // 0 before grad_accum
  for (double* d : {&s.opt.lr, &s.opt.min_lr, &s.opt.weight_decay, &s.opt.beta1, &s.opt.beta2,
                    &s.opt.eps, &s.opt.clip})
    *d = r.get<double>();
  try {
    s.params = gpt_zeros<float>(s.cfg);
  } catch (const Error& e) {
    throw Error(where, name + ": its config is refused: " + e.what());
  }
  auto tensors = gpt_tensors(s.params);
  if (const auto n = r.get<std::uint64_t>(); n != tensors.size())
    throw Error(where, name + ": " + std::to_string(n) + " tensors, its config asks for " +
                           std::to_string(tensors.size()));
  for (auto& t : tensors) {
    std::string tname(r.get<std::uint32_t>(), '\0');
    r.raw(tname.data(), tname.size());
    std::vector<std::int64_t> shape(r.get<std::uint32_t>());
    for (auto& d : shape) d = static_cast<std::int64_t>(r.get<std::uint64_t>());
    const std::vector<std::int64_t> want(t.shape.begin(), t.shape.end());
    if (tname != t.name || shape != want)
      throw Error(where, name + ": tensor " + tname + " " + shape_str(shape) +
                             " where its config asks for " + t.name + " " + shape_str(want));
    r.raw(t.data, t.size * sizeof(float));
    s.m.push_back(xt::empty<float>({t.size}));
    r.raw(s.m.back().data(), t.size * sizeof(float));
    s.v.push_back(xt::empty<float>({t.size}));
    r.raw(s.v.back().data(), t.size * sizeof(float));
  }
  if (r.at != bytes.size() - 8)
    throw Error(where, name + ": " + std::to_string(bytes.size() - 8 - r.at) +
                           " bytes after the last tensor");
  return s;
}

}  // namespace llmlab::ref
