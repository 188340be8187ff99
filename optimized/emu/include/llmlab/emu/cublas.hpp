#pragma once
/// \file
/// \ingroup group_emulator
/// \brief The emulator's cuBLAS / cuBLASLt subset (library `llmlab::emu_cublas`): what it says
/// about the last call it refused.
///
/// The subset's functions are declared by the toolkit's `cublas_v2.h` and `cublasLt.h`; see
/// docs/emulator.md ("The cuBLAS subset") for what it covers.

#include <string>

namespace llmlab::emu {

/// Why the last refused cuBLAS / cuBLASLt call of this process failed, naming the call and the
/// unsupported argument or attribute ("" if none failed). The same text goes to stderr unless
/// `LLMLAB_EMU_QUIET` is set.
std::string cublas_last_message();

}  // namespace llmlab::emu
