// The memory-traffic counters (docs/emulator.md "Memory-traffic counters"): small kernels whose
// requests, sectors and bank wavefronts are computed by hand in the comments, checked exactly.
// ctest runs this file under every schedule in LLMLAB_EMU_SCHEDULES; the tests also loop over
// forward, reverse and a random schedule themselves — the counts must not depend on the order.
//
// Hand-count rules: a request is one instruction of one warp; global memory is counted in 32-byte
// sectors (cudaMalloc'd buffers are 256-byte aligned), ideal sectors = ⌈distinct bytes / 32⌉;
// shared memory has 32 banks of 4-byte words, bank = word mod 32, and a request takes as many
// wavefronts as the most distinct words any one bank holds (one word read by many lanes is
// broadcast: it counts once).

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <llmlab/cuda/kernel.cuh>
#include <llmlab/emu/profile.hpp>

#include "llmlab/testing/device.hpp"
#include "llmlab/testing/env.hpp"

using llmlab::cuda::launch;
using llmlab::cuda::launch_config;
using llmlab::emu::GlobalTraffic;
using llmlab::emu::KernelProfile;
using llmlab::emu::SharedTraffic;
using llmlab::testing::DeviceBuffer;
using llmlab::testing::ScopedEnv;

namespace emu_profile {

const char* const kSchedules[] = {"forward", "reverse", "random:5"};

// ---- kernels ----------------------------------------------------------------------------------

// out[t] = in[t]: lane t of a warp reads the t-th float, so a warp reads 32 × 4 = 128 contiguous
// bytes = 4 sectors (ideal 4), and stores the same.
__global__ void copy_coalesced(const float* in, float* out) {
  const unsigned t = blockIdx.x * blockDim.x + threadIdx.x;
  out[t] = in[t];
}

// out[t] = in[t · stride]: the load spreads the warp over 32 · 4 · stride bytes.
__global__ void load_strided(const float* in, float* out, int stride) {
  out[threadIdx.x] = in[threadIdx.x * stride];
}

// A 32 × 32 matrix transposed by one 32 × 32 block: warp y (threadIdx.y = y) reads column y of
// `in` (lane x reads in[x·32 + y], 128 bytes apart) and writes row y of `out` (contiguous).
__global__ void transpose_naive(const float* in, float* out) {
  const unsigned x = threadIdx.x, y = threadIdx.y;
  out[y * 32 + x] = in[x * 32 + y];
}

// The same through a shared tile of 32 × Width floats: stored by rows (tile[y][x], contiguous),
// read by columns (tile[x][y]). Width 32: lane x's word is x·32 + y, all in bank y — one bank, 32
// distinct words, 32 wavefronts. Width 33: word x·33 + y, bank (x + y) mod 32 — all different, 1.
template <int Width>
__global__ void transpose_tiled(const float* in, float* out) {
  __shared__ float tile[32][Width];
  const unsigned x = threadIdx.x, y = threadIdx.y;
  tile[y][x] = in[y * 32 + x];
  __syncthreads();
  out[y * 32 + x] = tile[x][y];
}

// Every lane reads the same shared word (a broadcast: 1 wavefront) and then word 2·lane (words
// 0, 2, …, 62: banks 0, 2, …, 30, each holding two of them — a 2-way conflict, 2 wavefronts).
__global__ void shared_broadcast_and_stride2(const float* in, float* out) {
  __shared__ float s[64];
  const unsigned t = threadIdx.x;
  s[t] = in[t];
  s[t + 32] = in[t + 32];
  __syncthreads();
  out[t] = s[0] + s[2 * t];
}

// Every lane adds 1 to the same counter: one atomic request of one sector.
__global__ void count_all(unsigned* counter) { atomicAdd(counter, 1u); }

// ---- helpers ----------------------------------------------------------------------------------

/// Turns the counters on (and forgets earlier counts) for one test, and off again.
struct ProfileOn {
  /// On, from zero.
  ProfileOn() {
    llmlab::emu::set_profile_enabled(true);
    llmlab::emu::reset_profile();
  }
  /// Off.
  ~ProfileOn() { llmlab::emu::set_profile_enabled(false); }
};

// The counters of the kernel whose name contains `name` (the test fails if there is not one).
KernelProfile counters(const std::string& name) {
  std::vector<KernelProfile> found;
  for (const KernelProfile& k : llmlab::emu::profile())
    if (k.kernel.find(name) != std::string::npos) found.push_back(k);
  EXPECT_EQ(found.size(), 1u) << "kernels named like " << name;
  return found.empty() ? KernelProfile{} : found.front();
}

// Global traffic: requests, sectors touched, ideal sectors, bytes asked for.
void expect_global(const GlobalTraffic& g, std::uint64_t requests, std::uint64_t sectors,
                   std::uint64_t ideal, std::uint64_t bytes, const std::string& what) {
  EXPECT_EQ(g.requests, requests) << what;
  EXPECT_EQ(g.sectors, sectors) << what;
  EXPECT_EQ(g.ideal_sectors, ideal) << what;
  EXPECT_EQ(g.bytes_requested, bytes) << what;
}

// Shared traffic: requests, wavefronts, ideal wavefronts.
void expect_shared(const SharedTraffic& t, std::uint64_t requests, std::uint64_t wavefronts,
                   std::uint64_t ideal, const std::string& what) {
  EXPECT_EQ(t.requests, requests) << what;
  EXPECT_EQ(t.wavefronts, wavefronts) << what;
  EXPECT_EQ(t.ideal_wavefronts, ideal) << what;
}

template <class... P, class... A>
void run(const char* schedule, dim3 grid, dim3 block, void (*k)(P...), A... args) {
  ScopedEnv env("LLMLAB_EMU_SCHEDULE", schedule);
  ASSERT_EQ(launch(launch_config(grid, block, 0), k, args...), cudaSuccess) << llmlab::emu::last_diagnostic();
}

// The race detector's instrumentation is what the counters read (llmlab_emu_instrument); GCC
// announces it as __SANITIZE_THREAD__. The asan preset has none: the counters are unavailable.
#if defined(__SANITIZE_THREAD__)

TEST(EmuProfile, CoalescedLoadsTouchFourSectorsPerWarp) {
  const auto in = DeviceBuffer<float>::filled(64, 1.0f);
  DeviceBuffer<float> out(64);
  for (const char* s : kSchedules) {
    ProfileOn on;
    run(s, 1, 64, copy_coalesced, in.cget(), out.get());  // 2 warps
    const KernelProfile k = counters("copy_coalesced");
    EXPECT_EQ(k.launches, 1u) << s;
    // 2 warps × 1 load: 2 requests × 4 sectors = 8, all needed; 64 × 4 bytes asked. The same stored.
    expect_global(k.global_load, 2, 8, 8, 256, s);
    EXPECT_EQ(k.global_load.bytes_moved(), 256u) << s;
    expect_global(k.global_store, 2, 8, 8, 256, s);
    EXPECT_EQ(k.shared_load.requests + k.shared_store.requests + k.global_atomic.requests, 0u) << s;
  }
}

TEST(EmuProfile, StridedLoadsTouchMoreSectorsThanTheyNeed) {
  const auto in = DeviceBuffer<float>::filled(32 * 32, 1.0f);
  DeviceBuffer<float> out(32);
  for (const char* s : kSchedules) {
    ProfileOn on;
    // stride 2: lanes at bytes 0, 8, …, 248 — sectors 0…7, 8 of them, for 128 bytes (ideal 4).
    run(s, 1, 32, load_strided, in.cget(), out.get(), 2);
    KernelProfile k = counters("load_strided");
    expect_global(k.global_load, 1, 8, 4, 128, s);
    expect_global(k.global_store, 1, 4, 4, 128, s);  // the store stays coalesced
    // stride 32: lanes 128 bytes apart, each in its own sector — 32 sectors (ideal 4, 12.5%).
    llmlab::emu::reset_profile();
    run(s, 1, 32, load_strided, in.cget(), out.get(), 32);
    k = counters("load_strided");
    expect_global(k.global_load, 1, 32, 4, 128, s);
    EXPECT_EQ(k.global_load.bytes_moved(), 32u * 32u) << s;
  }
}

TEST(EmuProfile, ATransposedReadTouchesOneSectorPerLane) {
  const auto in = DeviceBuffer<float>::filled(32 * 32, 1.0f);
  DeviceBuffer<float> out(32 * 32);
  for (const char* s : kSchedules) {
    ProfileOn on;
    run(s, 1, dim3(32, 32), transpose_naive, in.cget(), out.get());
    const KernelProfile k = counters("transpose_naive");
    // 32 warps: each load reads a column (32 sectors), each store a row (4 sectors).
    expect_global(k.global_load, 32, 32 * 32, 32 * 4, 32 * 128, s);
    expect_global(k.global_store, 32, 32 * 4, 32 * 4, 32 * 128, s);
  }
}

TEST(EmuProfile, AnUnpaddedTileReadByColumnsHas32WayBankConflictsAndAPaddedOneNone) {
  const auto in = DeviceBuffer<float>::filled(32 * 32, 1.0f);
  DeviceBuffer<float> out(32 * 32);
  for (const char* s : kSchedules) {
    ProfileOn on;
    run(s, 1, dim3(32, 32), transpose_tiled<32>, in.cget(), out.get());
    run(s, 1, dim3(32, 32), transpose_tiled<33>, in.cget(), out.get());
    const KernelProfile plain = counters("transpose_tiled<32>");
    const KernelProfile padded = counters("transpose_tiled<33>");
    for (const KernelProfile& k : {plain, padded}) {
      // Both: 32 warps load and store rows of global memory, coalesced (4 sectors each), and
      // store rows of the tile: 32 consecutive words, one per bank — 1 wavefront per request.
      expect_global(k.global_load, 32, 32 * 4, 32 * 4, 32 * 128, s);
      expect_global(k.global_store, 32, 32 * 4, 32 * 4, 32 * 128, s);
      expect_shared(k.shared_store, 32, 32, 32, s);
      EXPECT_EQ(k.shared_store.bank_conflicts(), 0u) << s;
      EXPECT_EQ(k.shared_load.requests, 32u) << s;
      EXPECT_EQ(k.shared_load.ideal_wavefronts, 32u) << s;
      EXPECT_EQ(k.shared_load.bytes_requested, 32u * 32u * 4u) << s;
    }
    // Column reads of the 32-wide tile: 32 distinct words in one bank — 32 wavefronts per request,
    // 31 of them replays: 32 × 32 = 1024 wavefronts, 992 conflicts.
    EXPECT_EQ(plain.shared_load.wavefronts, 1024u) << s;
    EXPECT_EQ(plain.shared_load.bank_conflicts(), 992u) << s;
    // 33-wide: 32 different banks — 1 wavefront per request, none replayed.
    EXPECT_EQ(padded.shared_load.wavefronts, 32u) << s;
    EXPECT_EQ(padded.shared_load.bank_conflicts(), 0u) << s;
  }
}

TEST(EmuProfile, ABroadcastIsNoConflictAndAStrideOfTwoWordsIsTwoWay) {
  const auto in = DeviceBuffer<float>::filled(64, 1.0f);
  DeviceBuffer<float> out(32);
  for (const char* s : kSchedules) {
    ProfileOn on;
    run(s, 1, 32, shared_broadcast_and_stride2, in.cget(), out.get());
    const KernelProfile k = counters("shared_broadcast_and_stride2");
    // Two stores of 32 consecutive words (1 wavefront each); loads: s[0] by every lane (1
    // wavefront, broadcast) and s[2·lane] (2 wavefronts): 3 wavefronts, ideal 2, 1 conflict.
    expect_shared(k.shared_store, 2, 2, 2, s);
    expect_shared(k.shared_load, 2, 3, 2, s);
    EXPECT_EQ(k.shared_load.bank_conflicts(), 1u) << s;
    // Global: two coalesced loads (4 sectors each) and one store.
    expect_global(k.global_load, 2, 8, 8, 256, s);
    expect_global(k.global_store, 1, 4, 4, 128, s);
  }
}

TEST(EmuProfile, AtomicsCountAsGlobalRequests) {
  DeviceBuffer<unsigned> counter(1);
  ASSERT_EQ(cudaMemset(counter.get(), 0, sizeof(unsigned)), cudaSuccess);
  ProfileOn on;
  run("forward", 2, 64, count_all, counter.get());
  const KernelProfile k = counters("count_all");
  // 2 blocks × 2 warps: 4 requests, each 32 lanes on one word — 1 sector, 128 bytes asked.
  expect_global(k.global_atomic, 4, 4, 4, 4 * 128, "atomics");
  EXPECT_EQ(k.global_load.requests + k.global_store.requests, 0u);
}

TEST(EmuProfile, FlopsGoToTheNextLaunchAndLaunchesAddUp) {
  const auto in = DeviceBuffer<float>::filled(64, 1.0f);
  DeviceBuffer<float> out(64);
  ProfileOn on;
  llmlab::emu::annotate_next_launch_flops(1000);
  run("forward", 1, 64, copy_coalesced, in.cget(), out.get());
  run("forward", 1, 64, copy_coalesced, in.cget(), out.get());  // not annotated: adds 0
  const KernelProfile k = counters("copy_coalesced");
  EXPECT_EQ(k.launches, 2u);
  EXPECT_EQ(k.flops, 1000.0);
  EXPECT_EQ(k.global_load.sectors, 16u);
  EXPECT_THROW(llmlab::emu::annotate_next_launch_flops(-1), std::invalid_argument);
  // The table and the JSON carry the kernel.
  EXPECT_NE(llmlab::emu::profile_table().find("copy_coalesced"), std::string::npos);
  EXPECT_NE(llmlab::emu::profile_json().find("\"ideal_sectors\": 16"), std::string::npos);
}

TEST(EmuProfile, NothingIsCountedWhenOff) {
  const auto in = DeviceBuffer<float>::filled(64, 1.0f);
  DeviceBuffer<float> out(64);
  llmlab::emu::set_profile_enabled(false);
  llmlab::emu::reset_profile();
  run("forward", 1, 64, copy_coalesced, in.cget(), out.get());
  EXPECT_TRUE(llmlab::emu::profile().empty());
}

TEST(EmuProfile, CountsWithTheRaceDetectorAndInitCheckOff) {
  const auto in = DeviceBuffer<float>::filled(64, 1.0f);
  DeviceBuffer<float> out(64);
  ScopedEnv races("LLMLAB_EMU_RACECHECK", "0");
  ScopedEnv init("LLMLAB_EMU_INITCHECK", "0");
  ProfileOn on;
  run("forward", 1, 64, copy_coalesced, in.cget(), out.get());
  EXPECT_EQ(counters("copy_coalesced").global_load.sectors, 8u);
}

#else

TEST(EmuProfile, UnavailableWithoutTheAccessHooks) {
  EXPECT_FALSE(llmlab::emu::profile_available());
  GTEST_SKIP() << "kernels here carry no access hooks (asan preset): the counters are unavailable";
}

#endif

}  // namespace emu_profile
