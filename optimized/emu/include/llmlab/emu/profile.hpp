#pragma once
/// \file
/// \ingroup group_emulator
/// \brief The emulator's memory-traffic counters (docs/emulator.md, "Memory-traffic counters"):
/// per kernel, the global-memory requests of every warp-wide access and the 32-byte sectors they
/// touch, shared-memory wavefronts and bank conflicts, bytes, and FLOPs where a launch is annotated.
///
/// On with `LLMLAB_EMU_PROFILE=1` (then a table is printed on stderr at exit, and written as JSON to
/// the file `LLMLAB_EMU_PROFILE_JSON` names, if set) or set_profile_enabled(true). Counted only for
/// kernels compiled with the emulator's access hooks (llmlab_emu_instrument): never under the
/// `asan` preset, where profile_available() is false.

#include <cstdint>
#include <string>
#include <vector>

namespace llmlab::emu {

/// Global-memory traffic of one kind of access (loads, stores or atomics), summed over warp-wide
/// requests. A request is one instruction executed by the lanes of a warp together.
struct GlobalTraffic {
  std::uint64_t requests = 0;         ///< warp-wide instructions (Nsight: l1tex__t_requests_…)
  std::uint64_t sectors = 0;          ///< distinct 32-byte sectors per request, summed (l1tex__t_sectors_…)
  std::uint64_t ideal_sectors = 0;    ///< \f$ \lceil \text{distinct bytes} / 32 \rceil \f$ per request, summed
  std::uint64_t bytes_requested = 0;  ///< bytes the threads asked for (every lane's size, summed)
  /// Bytes the sectors carry: \f$ 32 \cdot \text{sectors} \f$.
  std::uint64_t bytes_moved() const { return 32 * sectors; }
};

/// Shared-memory traffic of loads or stores. Each request is served in wavefronts: per phase (the
/// whole warp for accesses of ≤ 4 bytes, half-warps for 8, quarter-warps for 16), the most distinct
/// 4-byte words any of the 32 banks holds (bank = word mod 32; lanes reading one word share it —
/// the broadcast rule).
struct SharedTraffic {
  std::uint64_t requests = 0;          ///< warp-wide instructions
  std::uint64_t wavefronts = 0;        ///< passes through the banks (l1tex__data_pipe_lsu_wavefronts_…)
  std::uint64_t ideal_wavefronts = 0;  ///< per phase \f$ \lceil \text{distinct words} / 32 \rceil \f$
  std::uint64_t bytes_requested = 0;   ///< bytes the threads asked for
  /// Replays caused by bank conflicts: wavefronts − ideal (l1tex__data_bank_conflicts_…).
  std::uint64_t bank_conflicts() const { return wavefronts - ideal_wavefronts; }
};

/// One kernel's counters, summed over its launches (kernels are told apart by demangled name,
/// template arguments included).
struct KernelProfile {
  std::string kernel;           ///< demangled name, as the emulator's diagnostics name it
  std::uint64_t launches = 0;   ///< launches counted
  GlobalTraffic global_load;    ///< plain global loads
  GlobalTraffic global_store;   ///< plain global stores
  GlobalTraffic global_atomic;  ///< atomics on global memory (read-modify-write, load or store)
  SharedTraffic shared_load;    ///< shared-memory loads
  SharedTraffic shared_store;   ///< shared-memory stores and atomics
  double flops = 0;             ///< annotated floating-point operations (annotate_next_launch_flops), 0 if none
};

/// Whether the counters are on: set_profile_enabled's setting, else `LLMLAB_EMU_PROFILE=1`.
bool profile_enabled();
/// Turns the counters on or off for this process's next launches, whatever LLMLAB_EMU_PROFILE says.
void set_profile_enabled(bool on);
/// Whether kernels in this process carry the access hooks the counters need (false under the
/// `asan` preset, or before any instrumented kernel library was loaded and called).
bool profile_available();
/// Forgets every counter (a new measurement).
void reset_profile();
/// Every kernel counted since the last reset_profile(), sorted by name.
std::vector<KernelProfile> profile();
/// The counters as a table (one row per kernel: requests, sectors per request, coalescing
/// efficiency, bytes moved, wavefronts and bank conflicts, FLOPs and arithmetic intensity).
std::string profile_table();
/// The counters as a JSON array of objects, one per kernel (the fields of KernelProfile, each
/// traffic an object of its counters).
std::string profile_json();
/// Attributes `flops` floating-point operations to the next kernel launched from this host thread
/// (a launch-site annotation: \f$ 2MNK \f$ for a GEMM). Throws std::invalid_argument if `flops` is
/// negative or not finite.
void annotate_next_launch_flops(double flops);

/// Peaks of the emulated device (LLMLAB_EMU_DEVICE: a100, h100 or a JSON file) for a roofline
/// estimate: no GPU measured them, they are the datasheet's.
struct DevicePeaks {
  std::string name;                ///< the device's name
  double fp32_flops_per_s = 0;     ///< \f$ 2 \cdot \text{fp32 lanes/SM} \cdot \text{SMs} \cdot f_\text{clock} \f$
  double dram_bytes_per_s = 0;     ///< \f$ 2 \cdot f_\text{mem} \cdot \text{bus bits} / 8 \f$
};
/// The emulated device's peaks (see DevicePeaks).
DevicePeaks device_peaks();

}  // namespace llmlab::emu
