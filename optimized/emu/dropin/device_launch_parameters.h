#pragma once
/// \file
/// \ingroup group_emulator
/// \brief Drop-in `<device_launch_parameters.h>`: the built-ins are the emulator's thread-locals.

#include <cuda_runtime.h>
