#include "block.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>

#include "fiber_stack.hpp"

#define LLMLAB_EMU_FAST_TLS __attribute__((tls_model("initial-exec")))
constinit LLMLAB_EMU_FAST_TLS thread_local uint3 threadIdx{};
constinit LLMLAB_EMU_FAST_TLS thread_local uint3 blockIdx{};
constinit LLMLAB_EMU_FAST_TLS thread_local dim3 blockDim;
constinit LLMLAB_EMU_FAST_TLS thread_local dim3 gridDim;

// The hot path (a thread waits, the scheduler resumes another) is inlined into one function per
// side: after a stack switch every `ret` mispredicts, so fewer frames between kernel and switch
// make each wait cheaper.
#define LLMLAB_EMU_HOT __attribute__((always_inline)) inline

namespace llmlab::emu::detail {
namespace {

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::shfl: return "__shfl_sync";
    case WarpOp::shfl_up: return "__shfl_up_sync";
    case WarpOp::shfl_down: return "__shfl_down_sync";
    case WarpOp::shfl_xor: return "__shfl_xor_sync";
    case WarpOp::ballot: return "__ballot_sync";
    case WarpOp::any: return "__any_sync";
    case WarpOp::all: return "__all_sync";
    case WarpOp::syncwarp: return "__syncwarp";
  }
  return "?";
}

bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::strcmp(a.file_name(), b.file_name()) == 0);
}

std::string hex(unsigned mask) {
  std::ostringstream s;
  s << "0x" << std::hex << mask;
  return s.str();
}

// "3, 5-9, 12" from a sorted list.
std::string ranges(const std::vector<int>& v) {
  std::ostringstream s;
  for (std::size_t i = 0; i < v.size();) {
    std::size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    s << (i ? ", " : "") << v[i];
    if (j > i) s << '-' << v[j];
    i = j + 1;
  }
  return s.str();
}

std::vector<int> lanes_of(unsigned mask) {
  std::vector<int> v;
  for (int l = 0; l < 32; ++l)
    if (mask >> l & 1u) v.push_back(l);
  return v;
}

}  // namespace

// initial-exec: read on every emulated barrier and memory access; the library is small enough for
// static TLS.
constinit __attribute__((tls_model("initial-exec"))) thread_local Block* tl_current_block = nullptr;
constinit __attribute__((tls_model("initial-exec"))) thread_local Block* tl_checked_block = nullptr;

Block* Block::current() { return tl_current_block; }

void Block::reset(const LaunchContext& launch, uint3 block_idx, std::uint64_t block_linear) {
  launch_ = &launch;
  block_idx_ = block_idx;
  const dim3 bd = launch.spec->block;
  nthreads_ = static_cast<int>(bd.x * bd.y * bd.z);
  // Consecutive blocks of a launch (and most launches) have the same shape: the threads' indices
  // and the forward start order are then kept from the previous block, and only their state reset.
  const bool same_shape = bd.x == shape_.x && bd.y == shape_.y && bd.z == shape_.z;
  if (!same_shape) {
    shape_ = bd;
    threads_.assign(nthreads_, ThreadState{});
    uint3 idx{0, 0, 0};  // counted up, not divided out
    for (int t = 0; t < nthreads_; ++t) {
      auto& th = threads_[t];
      th.idx = idx;
      th.lane = t % 32;
      th.warp = t / 32;
      if (++idx.x == bd.x) {
        idx.x = 0;
        if (++idx.y == bd.y) {
          idx.y = 0;
          ++idx.z;
        }
      }
    }
    start_order_forward_ = false;
  }
  for (auto& th : threads_) th.status = ThreadState::Status::unstarted;
  const int nwarps = (nthreads_ + 31) / 32;
  warp_exited_.assign(nwarps, 0u);
  if (nthreads_ % 32) warp_exited_.back() = ~0u << (nthreads_ % 32);  // lanes that do not exist
  warp_pending_.resize(nwarps);
  for (auto& p : warp_pending_) p.clear();
  ready_.clear();
  ready_head_ = 0;
  released_.clear();
  next_start_ = 0;
  barrier_arrived_ = barrier_count_ = exited_ = 0;
  current_ = nullptr;
  error_.clear();
  aborting_ = false;
  if (launch.schedule == Schedule::random) rng_.seed(launch.seed * 0x9E3779B97F4A7C15ull + block_linear);
  if (launch.schedule != Schedule::forward || !start_order_forward_) {
    start_order_.resize(nthreads_);
    for (int t = 0; t < nthreads_; ++t) start_order_[t] = t;
    if (launch.schedule == Schedule::reverse) std::reverse(start_order_.begin(), start_order_.end());
    if (launch.schedule == Schedule::random) std::shuffle(start_order_.begin(), start_order_.end(), rng_);
    start_order_forward_ = launch.schedule == Schedule::forward;
  }
  const std::size_t smem = launch.spec->dynamic_shared_bytes;
  if (smem != dynamic_shared_bytes_) {
    // Exact size (AddressSanitizer guards its ends); kept while blocks ask for the same size.
    std::free(dynamic_shared_);
    dynamic_shared_ = smem ? std::malloc(smem) : nullptr;
    dynamic_shared_bytes_ = smem;
  }
  // Filled with 0xff bytes (a float NaN) for every block, so a read of shared memory nobody wrote
  // shows up in the result instead of passing by luck.
  if (smem) std::memset(dynamic_shared_, 0xff, smem);
  reset_checks(block_linear);
}

Block::~Block() {
  retire_runners();
  std::free(dynamic_shared_);
}

std::string Block::thread_name(int t) const {
  const auto& i = threads_[t].idx;
  std::ostringstream s;
  s << "thread (" << i.x << ',' << i.y << ',' << i.z << ')';
  return s.str();
}

std::string Block::where_str(const std::source_location& w) const {
  std::ostringstream s;
  s << w.file_name() << ':' << w.line() << " in " << w.function_name();
  return s.str();
}

std::string Block::context() const {
  std::ostringstream s;
  s << "kernel `" << launch_->kernel_name << "` block (" << block_idx_.x << ',' << block_idx_.y << ','
    << block_idx_.z << ')';
  if (current_ && current_->thread >= 0) s << ' ' << thread_name(current_->thread);
  return s.str();
}

// ---- the scheduler loop ---------------------------------------------------------------------

// Control passes directly from a thread that has to wait to the next one that can run (a released
// thread, else a fresh runner for the threads not yet started); the scheduler's own context (sched_)
// gets control back only when nothing can run: the block is done, deadlocked or failed.

std::string Block::run(const LaunchContext& launch, uint3 block_idx, std::uint64_t block_linear) {
  reset(launch, block_idx, block_linear);
  Block* outer = tl_current_block;
  Block* outer_checked = tl_checked_block;
  tl_current_block = this;
  tl_checked_block = checking() ? this : nullptr;
  blockIdx = block_idx_;
  blockDim = launch_->spec->block;
  gridDim = launch_->spec->grid;
  sched_.thread = -1;
  sched_.block = this;
  current_ = &sched_;
  if (Runner* first = pick_next(); first != &sched_) switch_to(&sched_, first);
  flush_uninit();
  if (error_.empty()) {
    int finished = 0;
    for (const auto& th : threads_) finished += th.status == ThreadState::Status::finished;
    if (finished != nthreads_) diagnose_deadlock();
  }
  if (!error_.empty()) abort_all();
  current_ = nullptr;
  tl_current_block = outer;
  tl_checked_block = outer_checked;
  return error_;
}

// A runner's fiber: it learns who resumed it (the Transfer's data is the runner that switched, and
// fctx its saved context), then runs threads until retire_runners() ends it.
void runner_main(Transfer from) {
  auto* prev = static_cast<Runner*>(from.data);
  StackSwitch::finish(nullptr, &prev->stack_bottom, &prev->stack_size);
  prev->context = from.fctx;
  Block* b = prev->block;
  b->runner_loop(b->current_);
}

void Block::runner_loop(Runner* r) {
  // A runner outlives its block: with no thread left to start it parks, and the next block this
  // OS thread runs (of any launch until this one's end) takes it instead of making a new fiber.
  while (!retiring_) {
    try {
      for (int t = take_unstarted(); t >= 0 && error_.empty(); t = take_unstarted()) {
        begin_thread(t, r);
        launch_->spec->run_thread(launch_->spec->ctx);
        end_thread(t);
      }
    } catch (const Abort&) {
    } catch (const std::exception& e) {
      fail(context() + ": the kernel threw " + e.what());
    } catch (...) {
      fail(context() + ": the kernel threw an exception that is not a std::exception");
    }
    park(r);
  }
  Runner* next = &sched_;  // retire_runners() resumed this runner to end it
  enter(next);
  StackSwitch::start(nullptr, next->stack_bottom, next->stack_size);  // this stack dies
  jump_context(next->context, r);  // nothing resumes a retired runner
}

namespace {
// How far down the ready queue prefetch_stack looks, and how many 64-byte lines above a suspended
// context it fetches: the saved registers and the frames of the wait (suspend, the warp function,
// the kernel's frame).
// (Measured on bench/emu_bench: the next one, 4 lines; 6 lines or two ahead were no better.)
constexpr std::size_t kPrefetchAhead = 1;
constexpr int kPrefetchLines = 4;

LLMLAB_EMU_HOT void prefetch_stack(const Runner* r) {
  const char* sp = static_cast<const char*>(r->context);
  for (int k = 0; k < kPrefetchLines; ++k) __builtin_prefetch(sp + 64 * k, 1);
}
}  // namespace

Runner* Block::pick_next() {
  if (!error_.empty()) return &sched_;
  if (ready_head_ < ready_.size()) {
    Runner* r = ready_[ready_head_++];
    // The stack of the thread after it was last touched 100s of switches ago: fetching its top
    // lines now overlaps those misses with this thread's run (each costs ~10 ns when it stalls
    // the switch).
    const std::size_t ahead = ready_head_ + kPrefetchAhead - 1;
    if (ahead < ready_.size()) prefetch_stack(ready_[ahead]);
    return r;
  }
  if (next_start_ < start_order_.size()) return new_runner();
  return &sched_;
}

Runner* Block::new_runner() {
  if (!idle_.empty()) {  // a parked runner: resumed, it takes the next unstarted thread
    Runner* r = idle_.back();
    idle_.pop_back();
    r->idle = false;
    if (!idle_.empty()) prefetch_stack(idle_.back());  // the next block start's runner
    return r;
  }
  runners_.push_back(std::make_unique<Runner>());
  Runner* r = runners_.back().get();
  r->block = this;
  r->stack = PooledStackAllocator{}.allocate();
  // The stack spans [sp - size, sp).
  r->stack_bottom = static_cast<char*>(r->stack.sp) - r->stack.size;
  r->stack_size = r->stack.size;
  // Stacks are 132 KiB apart, so their tops share a page offset and would compete for the same
  // sets of the L1 cache (4 KiB period): each starts 128 bytes lower than the previous one,
  // repeating after 32 (a warp's runners, run one after another, spread over the whole period).
  const std::size_t color = (runners_.size() - 1) % 32 * 128;
  r->context = make_context(static_cast<char*>(r->stack.sp) - color, r->stack.size - color, &runner_main);
  return r;
}

LLMLAB_EMU_HOT void Block::enter(Runner* to) {
  current_ = to;
  if (to->thread >= 0) threadIdx = threads_[to->thread].idx;
}

LLMLAB_EMU_HOT void Block::switch_to(Runner* from, Runner* to) {
  enter(to);
  StackSwitch::start(&from->fake_stack, to->stack_bottom, to->stack_size);
  const Transfer back = jump_context(to->context, from);
  StackSwitch::finish(from->fake_stack, nullptr, nullptr);
  static_cast<Runner*>(back.data)->context = back.fctx;  // the runner that switched here
}

void Block::park(Runner* r) {
  Runner* next = pick_next();
  r->idle = true;
  r->thread = -1;
  idle_.push_back(r);
  switch_to(r, next);  // back when new_runner() reuses it, or retire_runners() ends it
}

void Block::retire_runners() {
  retiring_ = true;
  current_ = &sched_;
  sched_.thread = -1;
  sched_.block = this;
  while (!idle_.empty()) {
    Runner* r = idle_.back();
    idle_.pop_back();
    switch_to(&sched_, r);
  }
  // Every fiber has ended (each switched away for good from a frame with nothing to destroy).
  for (const auto& r : runners_) PooledStackAllocator{}.deallocate(r->stack);
  runners_.clear();
  retiring_ = false;
  current_ = nullptr;
}

LLMLAB_EMU_HOT void Block::suspend(Runner* r) {
  switch_to(r, pick_next());
  if (aborting_) throw Abort{};
  threads_[r->thread].status = ThreadState::Status::running;
}

int Block::take_unstarted() {
  if (next_start_ >= start_order_.size()) return -1;
  return start_order_[next_start_++];
}

void Block::begin_thread(int t, Runner* r) {
  r->thread = t;
  threads_[t].runner = r;
  threads_[t].status = ThreadState::Status::running;
  threadIdx = threads_[t].idx;
}

void Block::end_thread(int t) {
  settle_benign();
  auto& th = threads_[t];
  th.status = ThreadState::Status::finished;
  ++exited_;
  warp_exited_[th.warp] |= 1u << th.lane;
  for (const auto& op : warp_pending_[th.warp]) {
    if ((op.mask >> th.lane & 1u) && !(op.arrived >> th.lane & 1u)) return exited_from_warp_op(th, op);
  }
  if (barrier_arrived_ > 0 && barrier_arrived_ == nthreads_ - exited_) complete_barrier();
}

// Kept out of line: end_thread runs once per thread, and the report's strings would give it a
// large stack frame.
[[gnu::cold, gnu::noinline]] void Block::exited_from_warp_op(const ThreadState& th, const PendingWarpOp& op) {
  fail(context() + " exited without reaching " + op_name(op.op) + " (mask " + hex(op.mask) +
       ") that lanes " + ranges(lanes_of(op.arrived)) + " of warp " + std::to_string(th.warp) +
       " wait at: the mask names a lane that never arrives");
}

void Block::release() {
  auto& ids = released_;
  if (launch_->schedule == Schedule::reverse) std::reverse(ids.begin(), ids.end());
  if (launch_->schedule == Schedule::random) std::shuffle(ids.begin(), ids.end(), rng_);
  // The released threads go on before the threads that were ready already (a barrier's release
  // finds none: every live thread was at it). So a warp's lanes, released by its shuffle, run on
  // to their next shuffle while their stacks are still in the cache, instead of after every other
  // warp's lanes (256 stacks cycled through per shuffle cost ~10 ns of misses per switch).
  const std::size_t n = ids.size();
  if (ready_head_ == ready_.size()) {
    ready_.clear();
    ready_head_ = 0;
  }
  if (ready_head_ >= n) {  // into the consumed prefix
    ready_head_ -= n;
  } else {
    ready_.insert(ready_.begin() + static_cast<std::ptrdiff_t>(ready_head_), n - ready_head_, nullptr);
    ready_head_ = 0;
  }
  Runner** out = ready_.data() + ready_head_;
  for (int t : ids) *out++ = threads_[t].runner;
  ids.clear();
}

void Block::fail(const std::string& what) {
  if (error_.empty()) error_ = what;
  if (tl_checked_block == this) tl_checked_block = nullptr;  // checking() is false from now on
}

void Block::fail_here(const std::string& what) {
  fail(what);
  throw Abort{};
}

void Block::abort_all() {
  aborting_ = true;
  for (const auto& r : runners_)
    if (!r->idle) switch_to(&sched_, r.get());
}

// ---- barriers -----------------------------------------------------------------------------

LLMLAB_EMU_HOT int Block::barrier(int predicate, const std::source_location& where) {
  settle_benign();
  Runner* r = current_;
  auto& th = threads_[r->thread];
  th.status = ThreadState::Status::at_barrier;
  th.where = where;
  ++barrier_arrived_;
  barrier_count_ += predicate;
  if (barrier_arrived_ == nthreads_ - exited_) {
    complete_barrier();
    if (!error_.empty()) throw Abort{};
    th.status = ThreadState::Status::running;
  } else {
    suspend(r);
  }
  return th.barrier_result;
}

void Block::complete_barrier() {
  int first = -1;
  std::vector<int>& waiting = released_;
  for (int t = 0; t < nthreads_; ++t) {
    const auto& th = threads_[t];
    if (th.status != ThreadState::Status::at_barrier) continue;
    if (first < 0) {
      first = t;
    } else if (!same_site(th.where, threads_[first].where)) {
      fail("kernel `" + launch_->kernel_name + "` block (" + std::to_string(block_idx_.x) + ',' +
           std::to_string(block_idx_.y) + ',' + std::to_string(block_idx_.z) +
           "): __syncthreads reached in divergent code: " + thread_name(first) + " waits at " +
           where_str(threads_[first].where) + " but " + thread_name(t) + " waits at " +
           where_str(th.where) + " (every thread of a block must reach the same barrier)");
      waiting.clear();
      return;
    }
    if (current_ == nullptr || t != current_->thread) waiting.push_back(t);
  }
  if (first >= 0 && exited_ > 0 && launch_->barrier_check) {
    check_partial_barrier(first);
    waiting.clear();
    return;
  }
  flush_uninit();
  if (!error_.empty()) {
    waiting.clear();
    return;
  }
  ++epoch_;  // every access before the barrier is ordered before every access after it
  for (auto& th : threads_)
    if (th.status == ThreadState::Status::at_barrier) th.barrier_result = barrier_count_;
  barrier_arrived_ = 0;
  barrier_count_ = 0;
  // The thread that completed the barrier (if it is at it) goes on; the others become ready.
  for (int t : waiting) threads_[t].status = ThreadState::Status::running;
  if (current_ && current_->thread >= 0 &&
      threads_[current_->thread].status == ThreadState::Status::at_barrier)
    threads_[current_->thread].status = ThreadState::Status::running;
  release();
}

// ---- warp functions -------------------------------------------------------------------------

unsigned Block::active_mask() const {
  const auto& th = threads_[current_->thread];
  return ~warp_exited_[th.warp];
}

// Every misuse check of a warp function, formatted only when one fails; kept out of line so the
// hot path's stack frame stays small (each waiting thread touches its frame on a cold stack).
[[gnu::cold, gnu::noinline]] void Block::bad_warp_call(WarpOp op, unsigned mask, int width,
                                                        const std::source_location& where) {
  const auto& th = threads_[current_->thread];
  const std::string site = context() + ": " + op_name(op) + " at " + where_str(where);
  if (!(mask >> th.lane & 1u))
    fail_here(site + " with mask " + hex(mask) + " that does not name its own lane " +
              std::to_string(th.lane));
  if (width < 1 || width > 32 || (width & (width - 1)))
    fail_here(site + ": width " + std::to_string(width) + " is not a power of two from 1 to 32");
  if (mask & warp_exited_[th.warp])
    fail_here(site + " with mask " + hex(mask) + " names lanes " +
              ranges(lanes_of(mask & warp_exited_[th.warp])) + " of warp " + std::to_string(th.warp) +
              " that exited or do not exist: they will never arrive");
  for (const auto& p : warp_pending_[th.warp]) {
    if (p.mask != mask && (p.mask & mask))
      fail_here(site + " with mask " + hex(mask) + " while lanes " + ranges(lanes_of(p.arrived)) +
                " wait in " + op_name(p.op) + " with the overlapping mask " + hex(p.mask));
    if (p.mask == mask)
      fail_here(site + " while lanes " + ranges(lanes_of(p.arrived)) + " of the same mask " +
                hex(mask) + " wait in " + op_name(p.op) +
                (p.op == op ? " with a value of another size" : "") +
                ": all lanes of a mask must call the same warp function");
  }
  fail_here(site + ": invalid call");
}

LLMLAB_EMU_HOT void Block::warp_sync(WarpOp op, unsigned mask, const void* value, std::size_t bytes,
                                     int param, int width, void* result,
                                     const std::source_location& where) {
  settle_benign();
  Runner* r = current_;
  auto& th = threads_[r->thread];
  const unsigned bit = 1u << th.lane;
  if (!(mask & bit) || width < 1 || width > 32 || (width & (width - 1)) ||
      (mask & warp_exited_[th.warp]))
    bad_warp_call(op, mask, width, where);
  auto& pending = warp_pending_[th.warp];
  std::size_t k = 0;
  for (; k < pending.size(); ++k) {
    // Overlapping masks may wait at once (a tile's shuffle while the warp's waits for that tile's
    // lanes, as cooperative groups do): a lane that never comes is reported as a deadlock.
    if (pending[k].mask == mask) break;
  }
  if (k == pending.size()) pending.emplace_back(op, mask, bytes);
  PendingWarpOp& p = pending[k];
  if (p.op != op || p.bytes != bytes) bad_warp_call(op, mask, width, where);
  std::memcpy(p.value[th.lane].data(), value, 16);
  p.param[th.lane] = param;
  p.width[th.lane] = width;
  p.arrived |= bit;
  if (p.arrived == mask) {
    complete_warp_op(th.warp, k);
  } else {
    th.status = ThreadState::Status::at_warp;
    th.where = where;
    th.wait_mask = mask;
    th.wait_op = op;
    suspend(r);
  }
  std::memcpy(result, th.result, 16);
}

void Block::complete_warp_op(int warp, std::size_t op_index) {
  auto& pending = warp_pending_[warp];
  const PendingWarpOp& p = pending[op_index];
  unsigned votes = 0;
  if (p.op == WarpOp::ballot || p.op == WarpOp::any || p.op == WarpOp::all) {
    for (int l = 0; l < 32; ++l) {
      if (!(p.mask >> l & 1u)) continue;
      int pred;
      std::memcpy(&pred, p.value[l].data(), sizeof pred);
      if (pred) votes |= 1u << l;
    }
  }
  const int self = current_ ? current_->thread : -1;
  for (int l = 0; l < 32; ++l) {
    if (!(p.mask >> l & 1u)) continue;
    const int t = warp * 32 + l;
    auto& th = threads_[t];
    const int w = p.width[l];
    const int seg = l & ~(w - 1);  // first lane of this lane's segment
    int src = l;
    switch (p.op) {
      case WarpOp::shfl: src = seg + (p.param[l] & (w - 1)); break;
      case WarpOp::shfl_up: src = (l - seg) >= p.param[l] ? l - p.param[l] : l; break;
      case WarpOp::shfl_down: src = (l - seg) + p.param[l] < w ? l + p.param[l] : l; break;
      case WarpOp::shfl_xor: src = (l ^ p.param[l]) < seg + w ? (l ^ p.param[l]) : l; break;
      default: break;
    }
    switch (p.op) {
      case WarpOp::shfl:
      case WarpOp::shfl_up:
      case WarpOp::shfl_down:
      case WarpOp::shfl_xor:
        if (src >= 0 && src < 32 && (p.mask >> src & 1u)) {
          std::memcpy(th.result, p.value[src].data(), 16);
        } else {
          // Reading a lane outside the mask is undefined on a GPU: poison it (0xff bytes, a NaN
          // for floats) so a result that depends on it cannot pass by luck.
          std::memset(th.result, 0xff, 16);
        }
        break;
      case WarpOp::ballot: std::memcpy(th.result, &votes, sizeof votes); break;
      case WarpOp::any: {
        const unsigned v = votes != 0;
        std::memcpy(th.result, &v, sizeof v);
        break;
      }
      case WarpOp::all: {
        const unsigned v = votes == p.mask;
        std::memcpy(th.result, &v, sizeof v);
        break;
      }
      case WarpOp::syncwarp: break;
    }
    if (t != self) {
      th.status = ThreadState::Status::running;
      released_.push_back(t);
    }
  }
  if (race_) warp_clock_join(static_cast<unsigned>(warp), p.mask);
  if (op_index + 1 != pending.size()) std::swap(pending[op_index], pending.back());
  pending.pop_back();
  release();
}

// ---- deadlock report -------------------------------------------------------------------------

void Block::diagnose_deadlock() {
  struct Group {
    std::string what;
    std::vector<int> threads;
  };
  std::map<std::string, Group> groups;  // keyed by wait site, so the report is grouped
  for (int t = 0; t < nthreads_; ++t) {
    const auto& th = threads_[t];
    std::string what;
    if (th.status == ThreadState::Status::at_barrier) {
      what = "__syncthreads at " + where_str(th.where);
    } else if (th.status == ThreadState::Status::at_warp) {
      unsigned arrived = 0;
      for (const auto& p : warp_pending_[th.warp])
        if (p.mask == th.wait_mask) arrived = p.arrived;
      what = std::string(op_name(th.wait_op)) + " (mask " + hex(th.wait_mask) + ", warp " +
             std::to_string(th.warp) + ", lanes " + ranges(lanes_of(th.wait_mask & ~arrived)) +
             " missing) at " + where_str(th.where);
    } else {
      continue;
    }
    auto& g = groups[what];
    g.what = what;
    g.threads.push_back(t);
  }
  std::ostringstream s;
  s << "kernel `" << launch_->kernel_name << "` block (" << block_idx_.x << ',' << block_idx_.y << ','
    << block_idx_.z << "): deadlock — no thread can go on. Waiting threads by site:";
  for (const auto& [key, g] : groups)
    s << "\n  " << g.threads.size() << " thread(s) [linear ids " << ranges(g.threads) << "] wait in "
      << g.what;
  fail(s.str());
}

}  // namespace llmlab::emu::detail

namespace llmlab::emu {

int barrier(int predicate, const std::source_location& where) {
  detail::Block* b = detail::Block::current();
  if (!b) throw std::logic_error("__syncthreads called outside an emulated kernel");
  return b->barrier(predicate, where);
}

void warp_sync(WarpOp op, unsigned mask, const void* value, std::size_t bytes, int param, int width,
               void* result, const std::source_location& where) {
  detail::Block* b = detail::Block::current();
  if (!b) throw std::logic_error("a warp function was called outside an emulated kernel");
  b->warp_sync(op, mask, value, bytes, param, width, result, where);
}

}  // namespace llmlab::emu
