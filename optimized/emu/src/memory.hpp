#pragma once
// Emulated device memory: cudaMalloc'd buffers with guard zones (docs/emulator.md, "Guard zones"),
// the live-allocation registry, and the checks run at the end of every launch, at cudaFree and
// before cudaMemcpy/cudaMemset.

#include <cstddef>
#include <string>

#include "llmlab/emu/emu.hpp"

namespace llmlab::emu::detail {

/// A guard zone's size on each side of a buffer: a multiple of 256, so the pointer handed out keeps
/// cudaMalloc's alignment. 0 under AddressSanitizer, whose own redzones are exact to the byte and
/// name the faulting access (buffers are then exact-size allocations).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr std::size_t kGuardBytes = 0;
#else
inline constexpr std::size_t kGuardBytes = 1024;
#endif

/// cudaMalloc's alignment of the pointers it returns.
inline constexpr std::size_t kDeviceAlignment = 256;

/// A buffer of `bytes` (0 allowed) between two guard zones, 256-byte aligned and registered;
/// nullptr if the host is out of memory.
void* device_allocate(std::size_t bytes);

/// What device_release found.
enum class Release { freed, unknown, damaged };

/// Frees a device_allocate()d buffer (null: nothing). `damage` receives the description of a
/// damaged guard zone (the buffer is freed all the same); a pointer the emulator never handed out
/// (or already freed) is left alone and reported as unknown.
Release device_release(void* p, std::string& damage);

/// Checks the guard zones of every live buffer and repairs them, so one write is reported once.
/// @returns "" or one line per damaged buffer ("buffer 0x… (N bytes): 4 bytes at offset N …").
std::string check_all_guards();

/// Checks `count` bytes at `p` for cudaMemcpy/cudaMemset (`role` names the argument in the message).
/// Host memory the emulator did not allocate passes. For a device buffer: its guard zones must be
/// intact (else cudaErrorIllegalAddress: host code wrote outside it since the last check) and the
/// range must lie inside it (else cudaErrorInvalidValue).
/// @returns cudaSuccess, or the error with its description in `problem`
cudaError_t check_range(const void* p, std::size_t count, const char* role, std::string& problem);

/// check_range for the runtime call `what` (cudaMemcpy, cudaMemcpy2D, cudaMemset), with a failure
/// recorded as the call's error ("llmlab emu: <what>: <problem>", cudaGetLastError and stderr).
/// @returns cudaSuccess or check_range's error
cudaError_t checked(const char* what, const void* p, std::size_t count, const char* role);

}  // namespace llmlab::emu::detail
