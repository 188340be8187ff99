#pragma once
// The memory-traffic counters' side of the emulator (docs/emulator.md "Memory-traffic counters";
// public API in llmlab/emu/profile.hpp). Block::on_access (racecheck.cpp) hands every classified
// access of a profiled launch to profile_record; a block's accesses are grouped into warp-wide
// requests when the next block starts on the same OS thread, or when the launch ends.
//
// With the counters off a launch has no ProfileLaunch, and on_access pays one branch per access.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "racecheck.hpp"

namespace llmlab::emu::detail {

class ProfileLaunch;  // one launch's counters, merged into the per-kernel totals when it ends
struct ProfileBlock;  // one OS thread's share of a launch: the running block's accesses

/// The counters' state for a launch, or null when they are off. Consumes this host thread's
/// pending FLOPs annotation either way.
std::shared_ptr<ProfileLaunch> make_profile_launch();

/// Called as each block starts (Block::reset_checks): finishes this OS thread's previous block of
/// the same launch and returns where the new block's accesses go.
ProfileBlock* profile_begin_block(ProfileLaunch& launch, const std::string& kernel_name);

/// One access by linear thread `thread` of the running block: `shared` for shared memory, else a
/// cudaMalloc'd allocation.
void profile_record(ProfileBlock& block, int thread, std::uintptr_t pc, std::uintptr_t address,
                    std::size_t size, AccessKind kind, bool shared);

}  // namespace llmlab::emu::detail
