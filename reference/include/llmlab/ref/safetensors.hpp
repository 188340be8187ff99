#pragma once
/// \file
/// \ingroup group_gpt
/// \brief The model's parameters as a safetensors file, the format PyTorch's ecosystem loads
/// (`safetensors.torch.load_file` gives nanoGPT's state dict): written beside every `llmlab train`
/// checkpoint as `model.safetensors`, and read back.
///
/// The format (huggingface/safetensors): a u64 little-endian header length n, n bytes of JSON
/// `{"__metadata__": {…}, "<name>": {"dtype": "F32", "shape": […], "data_offsets": [begin, end]},
/// …}` (padded with spaces to a multiple of 8), then the tensors' bytes, each at its offsets
/// relative to the end of the header.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "llmlab/ref/gpt.hpp"

namespace llmlab::ref {

/// Writes every parameter under its nanoGPT name (gpt_tensors' order and names) as F32, plus
/// `lm_head.weight` — a copy of wte, as nanoGPT's state dict lists the tied head under both names
/// — atomically (a temporary file renamed over `path`). The metadata holds the configuration
/// (`vocab_size`, `block_size`, `n_layer`, `n_head`, `n_embd`) and `extra`.
/// @throws llmlab::Error naming `save_safetensors` and the path when it cannot be written.
void save_safetensors(const std::filesystem::path& path, const GptConfig& cfg,
                      const GptParams<float>& params,
                      const std::map<std::string, std::string>& extra = {});

/// Reads a safetensors file into the parameters of `cfg`: every tensor gpt_tensors names must be
/// there, F32 (or F64 or BF16, converted), with the shape cfg asks for; `lm_head.weight`, if
/// present, must equal wte (the head is tied); other names are refused.
/// @throws llmlab::Error naming `load_safetensors`, the path and what is wrong: a missing or
///         truncated file, a header that is not JSON or runs past the file, a tensor missing, of
///         another shape or dtype, with offsets outside the data, or a name the model does not have.
GptParams<float> load_safetensors(const std::filesystem::path& path, const GptConfig& cfg);

}  // namespace llmlab::ref
