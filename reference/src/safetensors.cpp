// The safetensors format of safetensors.hpp: written with nlohmann::json for the header, read
// whole and checked before any tensor is copied.
#include "llmlab/ref/safetensors.hpp"

#include <bit>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "atomic_file.hpp"
#include "llmlab/core/dtype.hpp"
#include "llmlab/core/error.hpp"

namespace llmlab::ref {

namespace {

static_assert(std::endian::native == std::endian::little, "safetensors is little-endian");

constexpr const char* kSave = "save_safetensors";
constexpr const char* kLoad = "load_safetensors";

std::string shape_text(const std::vector<std::size_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

/// Bytes per element of a safetensors dtype this reader converts to float; 0 when unsupported.
std::size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F64") return 8;
  if (dtype == "BF16") return 2;
  return 0;
}

/// One element of `dtype` at p, as float.
float element(const std::string& dtype, const char* p) {
  if (dtype == "F32") {
    float v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  if (dtype == "F64") {
    double v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<float>(v);
  }
  std::uint16_t h;  // BF16
  std::memcpy(&h, p, 2);
  return bf16_bits_to_float(h);
}

}  // namespace

void save_safetensors(const std::filesystem::path& path, const GptConfig& cfg,
                      const GptParams<float>& params,
                      const std::map<std::string, std::string>& extra) {
  auto tensors = gpt_tensors(const_cast<GptParams<float>&>(params));
  nlohmann::ordered_json header;
  nlohmann::ordered_json meta = {{"format", "pt"},
                                 {"vocab_size", std::to_string(cfg.vocab_size)},
                                 {"block_size", std::to_string(cfg.block_size)},
                                 {"n_layer", std::to_string(cfg.n_layer)},
                                 {"n_head", std::to_string(cfg.n_head)},
                                 {"n_embd", std::to_string(cfg.n_embd)}};
  for (const auto& [k, v] : extra) meta[k] = v;
  header["__metadata__"] = meta;
  std::string data;
  auto add = [&](const std::string& name, const std::vector<std::size_t>& shape, const float* p,
                 std::size_t n) {
    header[name] = {{"dtype", "F32"},
                    {"shape", shape},
                    {"data_offsets", {data.size(), data.size() + n * sizeof(float)}}};
    data.append(reinterpret_cast<const char*>(p), n * sizeof(float));
  };
  for (const auto& t : tensors) add(t.name, t.shape, t.data, t.size);
  add("lm_head.weight", tensors.front().shape, tensors.front().data, tensors.front().size);
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out;
  const std::uint64_t n = text.size();
  out.append(reinterpret_cast<const char*>(&n), sizeof n);
  out += text;
  out += data;
  detail::write_file_atomically(path, out, kSave);
}

GptParams<float> load_safetensors(const std::filesystem::path& path, const GptConfig& cfg) {
  const std::string name = path.string();
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(kLoad, name + ": cannot be opened");
  const std::string bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  std::uint64_t n = 0;
  if (bytes.size() < sizeof n) throw Error(kLoad, name + ": truncated (no header length)");
  std::memcpy(&n, bytes.data(), sizeof n);
  if (n > bytes.size() - sizeof n)
    throw Error(kLoad, name + ": the header's length " + std::to_string(n) + " runs past the file (" +
                           std::to_string(bytes.size()) + " bytes)");
  const nlohmann::json header =
      nlohmann::json::parse(bytes.begin() + sizeof n, bytes.begin() + sizeof n + static_cast<std::ptrdiff_t>(n),
                            nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) throw Error(kLoad, name + ": the header is not a JSON object");
  const std::size_t base = sizeof n + n, size = bytes.size() - base;

  GptParams<float> p = gpt_zeros<float>(cfg);
  auto tensors = gpt_tensors(p);
  std::set<std::string> expected{"__metadata__", "lm_head.weight"};
  for (const auto& t : tensors) expected.insert(t.name);
  for (const auto& [key, value] : header.items())
    if (!expected.contains(key))
      throw Error(kLoad, name + ": has `" + key + "`, which this model (n_layer = " +
                             std::to_string(cfg.n_layer) + ") does not have");
  // Reads tensor `key` into dst (count elements of `shape`), checking dtype, shape and offsets.
  auto read = [&](const std::string& key, const std::vector<std::size_t>& shape, float* dst,
                  std::size_t count) {
    if (!header.contains(key)) throw Error(kLoad, name + ": no tensor `" + key + "`");
    const nlohmann::json& e = header[key];
    const std::string dtype = e.value("dtype", "");
    const std::size_t width = dtype_bytes(dtype);
    if (width == 0)
      throw Error(kLoad, name + ": `" + key + "` is " + (dtype.empty() ? "without a dtype" : dtype) +
                             " (expected F32, F64 or BF16)");
    const auto got = e.value("shape", std::vector<std::size_t>{});
    if (got != shape)
      throw Error(kLoad, name + ": `" + key + "` is " + shape_text(got) +
                             " but the configuration asks for " + shape_text(shape));
    const auto off = e.value("data_offsets", std::vector<std::size_t>{});
    if (off.size() != 2 || off[0] > off[1] || off[1] > size || off[1] - off[0] != count * width)
      throw Error(kLoad, name + ": `" + key + "`'s data_offsets do not hold " +
                             std::to_string(count) + " " + dtype + " values inside the data (" +
                             std::to_string(size) + " bytes)");
    for (std::size_t i = 0; i < count; ++i)
      dst[i] = element(dtype, bytes.data() + base + off[0] + i * width);
  };
  for (auto& t : tensors) read(t.name, t.shape, t.data, t.size);
  if (header.contains("lm_head.weight")) {
    std::vector<float> head(tensors.front().size);
    read("lm_head.weight", tensors.front().shape, head.data(), head.size());
    if (!std::equal(head.begin(), head.end(), tensors.front().data))
      throw Error(kLoad, name + ": lm_head.weight differs from transformer.wte.weight, but the "
                                "model ties them");
  }
  return p;
}

}  // namespace llmlab::ref
