#pragma once
// The emulator's memory checks (docs/emulator.md "Race detector, uninitialised reads, partial
// barriers"): shadow state for shared and global memory, fed by the access hooks in tsan_hooks.cpp.
//
// Kernel translation units are compiled with -fsanitize=thread at compile time only, so GCC calls
// __tsan_read4(addr), __tsan_write8(addr), __tsan_atomic32_fetch_add(...) … around every memory
// access; libllmlab_emu (never instrumented) defines those functions and hands each access to
// Block::on_access, which classifies the address (dynamic shared, static __shared__, a cudaMalloc'd
// allocation, anything else is ignored) and checks it against the word's shadow. The one entry
// point, on_access(address, size, kind, pc), is the place a memory-traffic counter would hook too.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace llmlab::emu::detail {

/// What an access does.
enum class AccessKind : std::uint8_t { read, write, atomic_read, atomic_write };

/// One access in a word's shadow. mask == 0: no access recorded.
struct Access {
  std::uintptr_t pc = 0;      // return address in the instrumented code (the access's line)
  std::uint32_t epoch = 0;    // the block's barrier epoch at the access
  std::uint32_t clock = 0;    // the lane's own warp-sync clock at the access
  std::uint32_t block = 0;    // linear block index
  std::uint16_t thread = 0;   // linear thread index in the block
  std::uint8_t mask = 0;      // bytes of the 4-byte word it touched
  std::uint8_t atomic = 0;    // 1 for an atomic access (atomics never race with atomics)
};

/// Shadow of one 4-byte word: the last writer and up to two readers (of different threads) since.
struct Word {
  std::uint32_t serial = 0;  // shared memory: the block run it belongs to (stale → empty)
  std::uint8_t init = 0;     // shared memory: bytes written in this block run
  Access write, read1, read2;
};

/// Race shadow of 1,024 words of an allocation, made on first touch and kept while it lives (each
/// word tagged with the launch it belongs to, so nothing is cleared between launches).
struct GlobalChunk {
  // Blocks run on several OS threads: each word's update is under its chunk's lock (a spin lock:
  // held for a few dozen instructions, and uncontended almost always).
  std::atomic<bool> locked{false};
  void lock() {
    while (locked.exchange(true, std::memory_order_acquire))
      while (locked.load(std::memory_order_relaxed)) std::this_thread::yield();
  }
  void unlock() { locked.store(false, std::memory_order_release); }
  Word words[1024];
};

/// A cudaMalloc'd allocation as the checks see it. Its init bits persist across launches.
struct Allocation {
  std::uintptr_t begin = 0;
  std::size_t size = 0;
  std::vector<std::uint8_t> init;  // one bit per byte (empty: every byte counts as initialised)
  std::unique_ptr<std::atomic<GlobalChunk*>[]> chunks;  // (size + 4095) / 4096 + 1 of them
  ~Allocation();
  /// The chunk holding word `w` (made on first use).
  GlobalChunk& chunk(std::size_t w);
  bool initialised(std::size_t offset) const {
    return init.empty() || (init[offset >> 3] >> (offset & 7) & 1u);
  }
  void set_initialised(std::size_t offset, std::size_t count);
  /// Whether bytes [offset, offset + n) are all initialised, n ≤ 8 (one or two bitmap bytes).
  bool all_initialised(std::size_t offset, std::size_t n) const {
    if (init.empty()) return true;
    const std::size_t i = offset >> 3;
    std::uint32_t bits = init[i];
    if (i + 1 < init.size()) bits |= static_cast<std::uint32_t>(init[i + 1]) << 8;
    const std::uint32_t need = ((1u << n) - 1u) << (offset & 7);
    return (bits & need) == need;
  }
};

class ProfileLaunch;  // profile.hpp: the memory-traffic counters

/// What one launch checks: a snapshot of the live allocations (sorted by address) and their shadow.
struct RaceLaunch {
  bool races = true;  // LLMLAB_EMU_RACECHECK
  bool init = true;   // LLMLAB_EMU_INITCHECK
  std::vector<std::shared_ptr<Allocation>> allocations;
  std::uint32_t serial = 0;  // this launch's tag in the global shadow
  const void* module_code = nullptr;  // code of the kernel's module (reports name its TLS symbols)
  std::uintptr_t tls_module = 0;  // the kernel's module's TLS (static __shared__), 0 if none
  std::size_t tls_size = 0;
  std::shared_ptr<ProfileLaunch> profile;  // the memory-traffic counters, null when off
  /// Index into `allocations` of the allocation holding `a`, or -1.
  int find(std::uintptr_t a) const;
  /// Index of the allocation whose guard zone (memory.hpp, kGuardBytes each side) holds `a`, or -1.
  int find_guard(std::uintptr_t a) const;
  // What the launch reports without failing, and the first write into a guard zone (whose damage
  // fails the launch as it ends, memory.cpp); under notes_mutex, blocks run on several OS threads.
  std::mutex notes_mutex;
  std::string first_benign;         ///< the first same-value write race (a warning)
  std::size_t benign_count = 0;     ///< how many were seen
  std::string first_outside_write;  ///< "write of 4 bytes … at file.cu:31, …" or ""
};

/// Builds the checks' state for a launch of `kernel_address` (or another address in the kernel's
/// module: it finds the module's thread-local block, static __shared__ memory), or null when every
/// check is off (LLMLAB_EMU_RACECHECK=0, LLMLAB_EMU_INITCHECK=0 and no LLMLAB_EMU_PROFILE, or a
/// build whose kernels are not instrumented).
std::unique_ptr<RaceLaunch> make_race_launch(const void* kernel_address);

/// The runtime's side: cudaMalloc registers (`poisoned`: its bytes start uninitialised), cudaFree
/// forgets, cudaMemcpy/cudaMemset into an allocation mark the bytes they write initialised.
void register_allocation(std::uintptr_t begin, std::size_t size, bool poisoned);
void forget_allocation(std::uintptr_t begin);
void mark_initialised(std::uintptr_t begin, std::size_t size);

/// "file.cu:31" for the instrumented access whose return address is `pc` ("?" if unknown).
std::string source_line(std::uintptr_t pc);

/// Whether kernels in this process were built with the access hooks (some hook was ever called).
bool hooks_seen();
void note_hook_seen();

}  // namespace llmlab::emu::detail
