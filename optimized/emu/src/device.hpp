#pragma once
// The emulated device (device_properties.cpp): the limits cudaGetDeviceProperties reports and the
// launch checks enforce, from a preset (LLMLAB_EMU_DEVICE=a100|h100) or a JSON file.

#include <cstddef>
#include <string>

#include "llmlab/emu/emu.hpp"

namespace llmlab::emu::detail {

/// The limits of the emulated device that the runtime reports and enforces.
struct EmulatedDevice {
  std::string name;
  int sm_count = 0;
  std::size_t shared_per_block = 0;        // without cudaFuncSetAttribute (48 KiB)
  std::size_t shared_per_block_optin = 0;  // the most cudaFuncSetAttribute may allow
  std::size_t shared_per_sm = 0;
  std::size_t reserved_shared_per_block = 0;  // what the driver keeps per block (1 KiB)
  int warp_size = 32;
  int major = 0, minor = 0;
  int max_threads_per_block = 1024;
  int max_threads_per_sm = 2048;
  int max_blocks_per_sm = 32;
  int registers_per_block = 65536;
  int registers_per_sm = 65536;
  int clock_khz = 0;
  std::size_t global_memory = 0;
  int l2_cache_bytes = 0;
  // For roofline estimates (profile.cpp) and cudaDevAttrMemoryClockRate / GlobalMemoryBusWidth:
  int memory_clock_khz = 0;    // DRAM clock; bandwidth = 2 (double data rate) × clock × bus bytes
  int memory_bus_width = 0;    // bits
  int fp32_lanes_per_sm = 0;   // FP32 FMA units per SM; peak = 2 × lanes × SMs × clock
};

/// The device LLMLAB_EMU_DEVICE names (re-read when the variable changes). On a bad value, sets
/// `error` to a message naming the value (or the file and key) and returns the h100 preset.
const EmulatedDevice& emulated_device(std::string* error = nullptr);

/// "" if a launch of `kernel` may use `bytes` of dynamic shared memory (the 48 KiB default, or what
/// cudaFuncSetAttribute opted in); else why not, naming the bytes asked and the limit.
std::string dynamic_shared_error(const void* kernel, std::size_t bytes);

}  // namespace llmlab::emu::detail
