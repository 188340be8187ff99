#pragma once
// The emulated runtime's error state: cudaGetLastError's sticky error and the last diagnostic.

#include <string>

#include "llmlab/emu/emu.hpp"

namespace llmlab::emu::detail {

/// Remembers `code` for cudaGetLastError / cudaPeekAtLastError and `message` for last_diagnostic(),
/// and prints the message to stderr unless LLMLAB_EMU_QUIET is set.
void record_error(cudaError_t code, const std::string& message);

}  // namespace llmlab::emu::detail
