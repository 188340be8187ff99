#pragma once
/// \file
/// \ingroup group_emulator
/// \brief Drop-in `<cuda_runtime.h>` for emulated builds: the emulator's runtime, built-ins and
/// device functions (this directory comes before the CUDA toolkit's on the include path of every
/// emulated build; docs/cuda_code.md).

#include "llmlab/cuda/kernel.cuh"
#include "llmlab/emu/chevrons.hpp"
