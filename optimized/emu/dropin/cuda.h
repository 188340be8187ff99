#pragma once
/// \file
/// \ingroup group_emulator
/// \brief Drop-in `<cuda.h>`: the toolkit's driver-API declarations (CUDA_VERSION, types) after the
/// emulator's runtime. Driver-API functions are not emulated: a program calling one fails to link.

#include <cuda_runtime.h>
#include_next <cuda.h>
