#pragma once
/// \file
/// \ingroup group_emulator
/// \brief Drop-in `<cooperative_groups/scan.h>`: cg::inclusive_scan / exclusive_scan (in
/// `<cooperative_groups.h>`).

#include <cooperative_groups.h>
