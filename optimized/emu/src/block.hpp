#pragma once
// One block of an emulated launch, run to completion on one OS thread.
//
// Threads start in schedule order on "runner" fibers. A runner calls the kernel for one thread after
// another; when a thread has to wait (barrier, warp function) it keeps its runner, and the scheduler
// starts another runner for the threads not yet started. So a kernel that never waits runs as a
// plain loop on one fiber, and a kernel whose threads all wait costs one fiber per thread. Runners
// with nothing left to start park and serve the next block; they end with the launch.

#include <boost/context/stack_context.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <source_location>
#include <string>
#include <vector>

#include "llmlab/emu/emu.hpp"
#include "fiber_stack.hpp"
#include "racecheck.hpp"

namespace llmlab::emu::detail {

enum class Schedule { forward, reverse, random };

struct KernelInfo;    // names.hpp
struct ProfileBlock;  // profile.hpp

/// What a launch shares with all its blocks.
struct LaunchContext {
  const LaunchSpec* spec = nullptr;
  std::string kernel_name;
  const KernelInfo* kernel = nullptr;  // name and definition site, for reports (names.hpp)
  Schedule schedule = Schedule::forward;
  std::uint64_t seed = 0;
  RaceLaunch* race = nullptr;  // the memory checks' state, null when they are off
  bool barrier_check = true;   // LLMLAB_EMU_BARRIERCHECK: a barrier some threads skipped fails
};

/// Thrown inside a fiber to unwind a thread whose block is being aborted.
struct Abort {};

struct Runner;

struct ThreadState {
  enum class Status : std::uint8_t { unstarted, running, at_barrier, at_warp, finished };
  uint3 idx{};
  int lane = 0;
  int warp = 0;
  Status status = Status::unstarted;
  std::source_location where{};  // where it waits
  unsigned wait_mask = 0;        // warp functions: the mask it waits with
  WarpOp wait_op = WarpOp::syncwarp;
  Runner* runner = nullptr;
  int barrier_result = 0;
  alignas(16) unsigned char result[16]{};
};

/// One rendezvous of a warp function in progress. The per-lane arrays are left uninitialised (a
/// lane's entries are written when it arrives, and only arrived lanes' are read), so opening a
/// rendezvous does not clear 700 bytes.
struct PendingWarpOp {
  PendingWarpOp() {}  // user-provided: emplace_back() must not zero the arrays
  PendingWarpOp(WarpOp o, unsigned m, std::size_t b) : op(o), mask(m), bytes(b) {}
  WarpOp op = WarpOp::syncwarp;
  unsigned mask = 0;
  unsigned arrived = 0;
  std::size_t bytes = 0;
  std::array<std::array<unsigned char, 16>, 32> value;
  std::array<int, 32> param;
  std::array<int, 32> width;
};

class Block;

struct Runner {
  void* context = nullptr;     // its saved context (fiber_stack.hpp), while it is not running
  Block* block = nullptr;      // the Block object that owns it
  boost::context::stack_context stack{};  // its pooled stack (none for the scheduler's own)
  int thread = -1;             // the CUDA thread it runs now
  bool idle = false;           // parked, with no thread: Block::idle_ holds it
  const void* stack_bottom = nullptr;  // for the ASan stack-switch annotations
  std::size_t stack_size = 0;
  void* fake_stack = nullptr;
};

class Block {
 public:
  Block() = default;
  ~Block();
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  /// Runs one block of `launch`; returns "" or the diagnostic that stopped it. The storage is kept
  /// for the next block this OS thread runs (one Block object per OS thread).
  std::string run(const LaunchContext& launch, uint3 block_idx, std::uint64_t block_linear);
  /// Ends the parked runners (fibers) that blocks leave for the next block; called when an OS
  /// thread has run its last block of a launch.
  void retire_runners();

  /// Called by the running CUDA thread.
  int barrier(int predicate, const std::source_location& where);
  void warp_sync(WarpOp op, unsigned mask, const void* value, std::size_t bytes, int param, int width,
                 void* result, const std::source_location& where);
  unsigned active_mask() const;
  void* dynamic_shared() const { return dynamic_shared_; }
  /// "kernel `k` block (1,0,0) thread (5,0,0)" for the running thread, for reports.
  std::string context() const;

  /// The launch this block belongs to (valid while it runs).
  const LaunchContext& launch_context() const { return *launch_; }

  /// The block running on this OS thread, or null outside kernels.
  static Block* current();

  /// One memory access by the running CUDA thread (from the access hooks, racecheck.cpp): checks it
  /// for races and uninitialised reads when the launch's checks are on.
  void on_access(std::uintptr_t address, std::size_t size, AccessKind kind, std::uintptr_t pc);
  /// Whether the access hooks have anything to do for this block.
  bool checking() const { return race_ != nullptr && error_.empty(); }

 private:
  friend void runner_main(Transfer);
  void runner_loop(Runner* r);
  int take_unstarted();
  void begin_thread(int t, Runner* r);
  void end_thread(int t);
  void exited_from_warp_op(const ThreadState& th, const PendingWarpOp& op);
  void suspend(Runner* r);
  void park(Runner* r);
  Runner* pick_next();
  Runner* new_runner();
  void enter(Runner* to);
  void switch_to(Runner* from, Runner* to);
  void release();  // queues released_ (in schedule order) before the ready threads; clears it
  void complete_barrier();
  void complete_warp_op(int warp, std::size_t op_index);
  [[noreturn]] void fail_here(const std::string& what);
  [[noreturn]] void bad_warp_call(WarpOp op, unsigned mask, int width, const std::source_location& where);
  void fail(const std::string& what);
  void diagnose_deadlock();
  void abort_all();
  void reset(const LaunchContext& launch, uint3 block_idx, std::uint64_t block_linear);
  std::string thread_name(int t) const;
  std::string where_str(const std::source_location& w) const;
  // racecheck.cpp
  void reset_checks(std::uint64_t block_linear);
  void check_word(Word& w, std::uint8_t mask, AccessKind kind, std::uintptr_t pc, bool shared,
                  const char* space, std::size_t word_index, int allocation);
  void resolve_benign();
  void note_outside_write(std::uintptr_t address, std::size_t size, std::uintptr_t pc);
  bool ordered(const Access& a) const;
  void report_race(const Access& prev, bool prev_write, const Access& now, bool now_write,
                   const char* space, std::size_t byte_offset, int allocation);
  void report_uninit(const char* space, std::size_t byte_offset, int allocation, std::uintptr_t pc);
  std::string block_name(std::uint32_t linear) const;
  void warp_clock_join(unsigned warp, unsigned mask);
  void check_partial_barrier(int first_waiting);

  const LaunchContext* launch_ = nullptr;
  uint3 block_idx_{};
  int nthreads_ = 0;
  std::vector<ThreadState> threads_;
  dim3 shape_{0, 0, 0};  // the block shape threads_ was laid out for
  std::vector<int> start_order_;
  bool start_order_forward_ = false;  // start_order_ is 0, 1, …, nthreads_ - 1
  std::size_t next_start_ = 0;
  // Threads ready to go on, in order: ready_[ready_head_, size()). A vector and an index rather
  // than a deque: popped on every wait; release() puts threads in front, into the consumed prefix
  // where it has room.
  // The runners themselves, looked up when they are released (their ThreadState is being written
  // then), so resuming one and prefetching the next stack do not wait for a ThreadState load.
  std::vector<Runner*> ready_;
  std::size_t ready_head_ = 0;
  std::vector<int> released_;  // scratch for release(), kept to avoid an allocation per rendezvous
  int barrier_arrived_ = 0;
  int barrier_count_ = 0;
  int exited_ = 0;
  std::vector<unsigned> warp_exited_;  // lanes that finished (or do not exist in a partial warp)
  std::vector<std::vector<PendingWarpOp>> warp_pending_;
  std::vector<std::unique_ptr<Runner>> runners_;  // every runner this OS thread has, parked or not
  std::vector<Runner*> idle_;                      // the parked ones
  bool retiring_ = false;                          // retire_runners() is ending them
  Runner* current_ = nullptr;
  std::string error_;
  bool aborting_ = false;
  std::mt19937_64 rng_;
  void* dynamic_shared_ = nullptr;
  std::size_t dynamic_shared_bytes_ = 0;
  Runner sched_;  // the OS thread's own context, which runs run()
  // The memory checks (racecheck.cpp).
  RaceLaunch* race_ = nullptr;
  ProfileBlock* profile_ = nullptr;  // the memory-traffic counters (profile.cpp), null when off
  std::uint32_t block_linear_ = 0;
  std::uint32_t serial_ = 0;  // this block run's tag in the shared-memory shadow
  std::uint32_t epoch_ = 1;   // barriers completed + 1
  std::vector<std::array<std::uint32_t, 32>> clocks_;  // per thread: warp lanes' sync clocks
  std::uintptr_t static_shared_ = 0;  // the kernel module's TLS block on this OS thread
  std::size_t static_shared_bytes_ = 0;
  std::vector<Word> dynamic_shadow_, static_shadow_;
  int last_allocation_ = -1;  // the allocation the last global access hit
  // The first uninitialised read, reported at the next barrier or the block's end unless a race is
  // found first (a read before an unsynchronised write is a race, and that is the better message).
  std::string pending_uninit_;
  // A write that conflicts with another thread's earlier write of the same block only (write after
  // write, neither atomic): decided at the writer's next access, wait or exit (resolve_benign), when
  // its store has landed — the same bytes as before are a benign race (a warning), others a race.
  struct BenignCandidate {
    bool active = false;
    std::uintptr_t address = 0;  // the whole access (at most 16 bytes)
    std::size_t size = 0;
    unsigned char before[16]{};  // the bytes the earlier write left
    Access prev, now;
    const char* space = nullptr;
    std::size_t offset = 0;
    int allocation = -1;
  } benign_;
  std::uintptr_t access_address_ = 0;  // the access on_access is checking
  std::size_t access_size_ = 0;
  void settle_benign() {
    if (__builtin_expect(benign_.active, 0)) resolve_benign();
  }
  void flush_uninit() {
    if (!pending_uninit_.empty()) fail(pending_uninit_);
  }
};

/// The block running on this OS thread (null outside kernels); initial-exec, read by every hook.
// constinit: no TLS wrapper call at each use from another file.
extern constinit __attribute__((tls_model("initial-exec"))) thread_local Block* tl_current_block;
/// The running block while its memory checks are on and it has not failed, else null: the one value
/// the access hooks test (tsan_hooks.cpp), kept equal to `checking() ? current() : nullptr`.
extern constinit __attribute__((tls_model("initial-exec"))) thread_local Block* tl_checked_block;

}  // namespace llmlab::emu::detail
