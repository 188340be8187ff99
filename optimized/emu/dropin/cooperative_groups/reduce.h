#pragma once
/// \file
/// \ingroup group_emulator
/// \brief Drop-in `<cooperative_groups/reduce.h>`: cg::reduce (in `<cooperative_groups.h>`).

#include <cooperative_groups.h>
