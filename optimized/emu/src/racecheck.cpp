// The race detector, the uninitialised-read check and the partial-barrier check
// (docs/emulator.md "Memory checks"). The access hooks (tsan_hooks.cpp) call Block::on_access.

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "block.hpp"
#include "memory.hpp"
#include "names.hpp"
#include "profile.hpp"

extern "C" void* __tls_get_addr(void*);  // glibc's (the x86-64 ABI's) resolver of a module's TLS

namespace llmlab::emu::detail {
namespace {

std::mutex registry_mutex;
std::map<std::uintptr_t, std::shared_ptr<Allocation>> registry;  // live allocations by address
std::atomic<bool> instrumented{false};
std::atomic<std::uint32_t> block_serials{0};

bool env_on(const char* name) {
  const char* v = std::getenv(name);
  return !(v && std::strcmp(v, "0") == 0);
}

std::string hex_address(std::uintptr_t a) {
  std::ostringstream s;
  s << "0x" << std::hex << a;
  return s.str();
}

// Block::on_access's name for the kernel module's thread-local block; reports name the variable.
constexpr const char* kStaticShared = "static __shared__ memory";

// What a report is about: "global memory — the cudaMalloc'd buffer of 128 bytes at 0x…, byte offset
// 64 (4-byte element 16)"; for static __shared__ memory, the variable.
std::string memory_at(const LaunchContext& launch, const char* space, std::size_t byte_offset,
                      int allocation) {
  std::ostringstream s;
  s << space;
  if (allocation >= 0) {
    const Allocation& a = *launch.race->allocations[allocation];
    s << " — the cudaMalloc'd buffer of " << a.size << " bytes at " << hex_address(a.begin);
  }
  if (space == kStaticShared) {  // the variable, from the module's symbol table (read only now)
    if (const auto v = static_variable(launch.race->module_code, byte_offset)) {
      s << " `" << v->name << "` (" << v->size << " bytes)";
      byte_offset = v->offset;
    } else {
      s << " (offsets count from the start of the kernel library's thread-local block)";
    }
  }
  s << ", byte offset " << byte_offset << " (4-byte element " << byte_offset / 4 << ')';
  return s.str();
}

}  // namespace

void note_hook_seen() { instrumented.store(true, std::memory_order_relaxed); }
bool hooks_seen() { return instrumented.load(std::memory_order_relaxed); }

void Allocation::set_initialised(std::size_t offset, std::size_t count) {
  if (init.empty() || offset >= size) return;
  count = std::min(count, size - offset);
  std::size_t i = offset;
  const std::size_t end = offset + count;
  for (; i < end && (i & 7); ++i) init[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
  if (const std::size_t whole = (end - i) >> 3) {
    std::memset(init.data() + (i >> 3), 0xff, whole);
    i += whole << 3;
  }
  for (; i < end; ++i) init[i >> 3] |= static_cast<std::uint8_t>(1u << (i & 7));
}

void register_allocation(std::uintptr_t begin, std::size_t size, bool poisoned) {
  if (!hooks_seen()) return;  // no instrumented kernel in this process: nothing will ask
  auto a = std::make_shared<Allocation>();
  a->begin = begin;
  a->size = size;
  if (poisoned) a->init.assign((size + 7) / 8, 0);
  a->chunks = std::make_unique<std::atomic<GlobalChunk*>[]>((size + 4095) / 4096 + 1);
  std::lock_guard lock(registry_mutex);
  registry[begin] = std::move(a);
}

void forget_allocation(std::uintptr_t begin) {
  std::lock_guard lock(registry_mutex);
  registry.erase(begin);
}

void mark_initialised(std::uintptr_t begin, std::size_t size) {
  std::lock_guard lock(registry_mutex);
  auto it = registry.upper_bound(begin);
  if (it == registry.begin()) return;
  --it;
  Allocation& a = *it->second;
  if (begin - a.begin < a.size) a.set_initialised(begin - a.begin, size);
}

Allocation::~Allocation() {
  if (!chunks) return;
  for (std::size_t c = 0; c < (size + 4095) / 4096 + 1; ++c) delete chunks[c].load(std::memory_order_relaxed);
}

int RaceLaunch::find(std::uintptr_t a) const {
  auto it = std::upper_bound(allocations.begin(), allocations.end(), a,
                             [](std::uintptr_t x, const auto& p) { return x < p->begin; });
  if (it == allocations.begin()) return -1;
  --it;
  return a - (*it)->begin < (*it)->size ? static_cast<int>(it - allocations.begin()) : -1;
}

int RaceLaunch::find_guard(std::uintptr_t a) const {
  constexpr std::size_t g = kGuardBytes;
  if (g == 0) return -1;
  auto it = std::upper_bound(allocations.begin(), allocations.end(), a + g,
                             [](std::uintptr_t x, const auto& p) { return x < p->begin; });
  if (it == allocations.begin()) return -1;
  --it;
  const Allocation& al = **it;
  const bool front = a < al.begin && al.begin - a <= g;
  const bool back = a >= al.begin + al.size && a - (al.begin + al.size) < g;
  return front || back ? static_cast<int>(it - allocations.begin()) : -1;
}

GlobalChunk& Allocation::chunk(std::size_t w) {
  std::atomic<GlobalChunk*>& slot = chunks[w >> 10];
  GlobalChunk* p = slot.load(std::memory_order_acquire);
  if (!p) {
    auto* fresh = new GlobalChunk();
    if (slot.compare_exchange_strong(p, fresh, std::memory_order_acq_rel)) {
      p = fresh;
    } else {
      delete fresh;
    }
  }
  return *p;
}

std::unique_ptr<RaceLaunch> make_race_launch(const void* kernel_address) {
  std::shared_ptr<ProfileLaunch> profile = make_profile_launch();
  if (!hooks_seen()) return nullptr;
  auto r = std::make_unique<RaceLaunch>();
  r->races = env_on("LLMLAB_EMU_RACECHECK");
  r->init = env_on("LLMLAB_EMU_INITCHECK");
  if (!r->races && !r->init && !profile) return nullptr;
  r->profile = std::move(profile);
  {
    std::lock_guard lock(registry_mutex);
    r->allocations.reserve(registry.size());
    for (const auto& [begin, a] : registry) r->allocations.push_back(a);
  }
  static std::atomic<std::uint32_t> launch_serials{0};
  r->serial = launch_serials.fetch_add(1, std::memory_order_relaxed) + 1;  // 2^32 launches: wraps
  r->module_code = kernel_address;
  if (const auto m = module_of(kernel_address)) {  // its TLS: the kernel's static __shared__
    r->tls_module = m->tls_module;
    r->tls_size = m->tls_size;
  }
  return r;
}

std::string source_line(std::uintptr_t pc) {
  // pc is the return address of the hook's call: the access is the instruction before it
  const std::string line = source_line_of(reinterpret_cast<const void*>(pc - 1));
  return line.empty() ? "an unknown line (built without -g?)" : line;
}

// ---- the Block's side ------------------------------------------------------------------------

void Block::reset_checks(std::uint64_t block_linear) {
  race_ = launch_->race;
  block_linear_ = static_cast<std::uint32_t>(block_linear);
  pending_uninit_.clear();
  profile_ = race_ && race_->profile ? profile_begin_block(*race_->profile, launch_->kernel_name) : nullptr;
  if (!race_) return;
  serial_ = block_serials.fetch_add(1, std::memory_order_relaxed) + 1;
  if (serial_ == 0) {  // wrapped: old tags could look current
    for (auto& w : dynamic_shadow_) w.serial = 0;
    for (auto& w : static_shadow_) w.serial = 0;
    serial_ = block_serials.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  epoch_ = 1;
  if (race_->races) clocks_.assign(nthreads_, {});
  if (dynamic_shadow_.size() < dynamic_shared_bytes_ / 4 + 2) dynamic_shadow_.resize(dynamic_shared_bytes_ / 4 + 2);
  static_shared_ = 0;
  static_shared_bytes_ = 0;
  if (race_->tls_module) {
    struct {
      unsigned long module, offset;
    } index{race_->tls_module, 0};
    static_shared_ = reinterpret_cast<std::uintptr_t>(__tls_get_addr(&index));
    static_shared_bytes_ = race_->tls_size;
    if (static_shadow_.size() < static_shared_bytes_ / 4 + 2) static_shadow_.resize(static_shared_bytes_ / 4 + 2);
  }
  last_allocation_ = -1;
  pending_uninit_.clear();
  benign_.active = false;
}

void Block::warp_clock_join(unsigned warp, unsigned mask) {
  if (!race_->races) return;
  std::array<std::uint32_t, 32> joined{};
  for (unsigned l = 0; l < 32; ++l) {
    if (!(mask >> l & 1u)) continue;
    auto& c = clocks_[warp * 32 + l];
    ++c[l];  // the lane's interval before this warp function ends here
    for (int k = 0; k < 32; ++k) joined[k] = std::max(joined[k], c[k]);
  }
  for (unsigned l = 0; l < 32; ++l)
    if (mask >> l & 1u) clocks_[warp * 32 + l] = joined;
}

bool Block::ordered(const Access& a) const {
  if (a.block != block_linear_) return false;  // blocks of one launch are never ordered
  const int t = current_->thread;
  if (a.thread == t || a.epoch != epoch_) return true;  // same thread, or a barrier since
  return a.thread / 32 == t / 32 && clocks_[t][a.thread % 32] > a.clock;  // a warp sync since
}

void Block::on_access(std::uintptr_t address, std::size_t size, AccessKind kind, std::uintptr_t pc) {
  settle_benign();  // the previous access's store has landed
  const Runner* r = current_;
  if (address - reinterpret_cast<std::uintptr_t>(r->stack_bottom) < r->stack_size) return;  // locals
  if (size == 0) return;
  Word* shadow = nullptr;
  std::uintptr_t base = 0;
  std::size_t bytes = 0;
  const char* space = nullptr;
  int alloc = -1;
  const auto dyn = reinterpret_cast<std::uintptr_t>(dynamic_shared_);
  if (address - dyn < dynamic_shared_bytes_) {
    shadow = dynamic_shadow_.data(), base = dyn, bytes = dynamic_shared_bytes_;
    space = "dynamic shared memory";
  } else if (address - static_shared_ < static_shared_bytes_) {
    shadow = static_shadow_.data(), base = static_shared_, bytes = static_shared_bytes_;
    space = kStaticShared;
  } else {
    if (last_allocation_ < 0 ||
        address - race_->allocations[last_allocation_]->begin >= race_->allocations[last_allocation_]->size) {
      last_allocation_ = race_->find(address);
      if (last_allocation_ < 0) {  // host memory, constants, a guard zone: not checked here
        if (kind == AccessKind::write || kind == AccessKind::atomic_write) note_outside_write(address, size, pc);
        return;
      }
    }
    alloc = last_allocation_;
    base = race_->allocations[alloc]->begin;
    bytes = race_->allocations[alloc]->size;
    space = "global memory";
  }
  access_address_ = address;
  access_size_ = size;
  if (__builtin_expect(profile_ != nullptr, 0)) {  // the memory-traffic counters (profile.cpp)
    profile_record(*profile_, r->thread, pc, address, size, kind, shadow != nullptr);
    if (!race_->races && !race_->init) return;
  }
  const std::uintptr_t end = std::min(address + size, base + bytes);
  const bool reads = kind == AccessKind::read || kind == AccessKind::atomic_read;
  for (std::uintptr_t a = address; a < end && error_.empty();) {
    const std::uintptr_t word_end = std::min((a | 3u) + 1, end);
    const auto mask = static_cast<std::uint8_t>(((1u << (word_end - a)) - 1u) << (a & 3u));
    const std::size_t w = (a >> 2) - (base >> 2);
    if (shadow) {
      Word& word = shadow[w];
      if (word.serial != serial_) word = Word{serial_, 0, {}, {}, {}};
      if (race_->init && reads && (word.init & mask) != mask) {
        // The first byte nobody wrote, for the report.
        std::size_t off = a - base;
        while (word.init >> ((base + off) & 3u) & 1u) ++off;
        if (pending_uninit_.empty()) report_uninit(space, off, -1, pc);
      }
      if (!reads) word.init |= mask;
      if (race_->races) check_word(word, mask, kind, pc, true, space, w, -1);
    } else {
      Allocation& al = *race_->allocations[alloc];
      GlobalChunk& chunk = al.chunk(w);
      std::lock_guard lock(chunk);
      const std::size_t off = a - base;
      if (race_->init && reads && !al.all_initialised(off, word_end - a) && pending_uninit_.empty()) {
        std::size_t k = 0;
        while (al.initialised(off + k)) ++k;
        report_uninit(space, off + k, alloc, pc);
      }
      if (!reads) al.set_initialised(off, word_end - a);
      if (race_->races) {
        Word& word = chunk.words[w & 1023];
        if (word.serial != race_->serial) word = Word{race_->serial, 0, {}, {}, {}};
        check_word(word, mask, kind, pc, false, space, w, alloc);
      }
    }
    a = word_end;
  }
}

void Block::check_word(Word& w, std::uint8_t mask, AccessKind kind, std::uintptr_t pc, bool,
                       const char* space, std::size_t word_index, int allocation) {
  const int t = current_->thread;
  Access now;
  now.pc = pc;
  now.epoch = epoch_;
  now.clock = clocks_[t][t % 32];
  now.block = block_linear_;
  now.thread = static_cast<std::uint16_t>(t);
  now.mask = mask;
  now.atomic = kind == AccessKind::atomic_read || kind == AccessKind::atomic_write;
  const bool writes = kind == AccessKind::write || kind == AccessKind::atomic_write;
  const auto conflicts = [&](const Access& p) {
    return (p.mask & mask) && !(p.atomic && now.atomic) && !ordered(p);
  };
  const std::size_t offset = word_index * 4 + static_cast<std::size_t>(std::countr_zero(mask));
  if (conflicts(w.write)) {
    // Two plain writes by threads of this block (so of this OS thread: the earlier store has
    // landed): the same value twice is a benign race, decided once this write has landed too.
    const bool maybe_benign = writes && !now.atomic && !w.write.atomic && w.write.block == now.block &&
                              access_size_ <= sizeof benign_.before;
    if (!maybe_benign) return report_race(w.write, true, now, writes, space, offset, allocation);
    if (!benign_.active) {
      benign_.active = true;
      benign_.address = access_address_;
      benign_.size = access_size_;
      std::memcpy(benign_.before, reinterpret_cast<const void*>(access_address_), access_size_);
      benign_.prev = w.write;
      benign_.now = now;
      benign_.space = space;
      benign_.offset = offset;
      benign_.allocation = allocation;
    }
  }
  if (writes) {
    if (conflicts(w.read1)) return report_race(w.read1, false, now, true, space, offset, allocation);
    if (conflicts(w.read2)) return report_race(w.read2, false, now, true, space, offset, allocation);
    w.write = now;
    w.read1 = w.read2 = Access{};
    return;
  }
  const auto replaceable = [&](const Access& p) {
    return !p.mask || (p.thread == now.thread && p.block == now.block) || ordered(p);
  };
  if (replaceable(w.read1)) {
    w.read1 = now;
  } else if (replaceable(w.read2)) {
    w.read2 = now;
  }
}

std::string Block::block_name(std::uint32_t linear) const {
  const dim3 g = launch_->spec->grid;
  std::ostringstream s;
  s << "block (" << linear % g.x << ',' << (linear / g.x) % g.y << ',' << linear / (g.x * g.y) << ')';
  return s.str();
}

void Block::report_race(const Access& prev, bool prev_write, const Access& now, bool now_write,
                        const char* space, std::size_t byte_offset, int allocation) {
  const auto who = [&](const Access& a) {
    return block_name(a.block) + ' ' + thread_name(a.thread);
  };
  const auto what = [](const Access& a, bool write) {
    return std::string(a.atomic ? (write ? "atomic write" : "atomic read") : (write ? "write" : "read"));
  };
  std::ostringstream s;
  s << "kernel `" << launch_->kernel_name << "` " << block_name(block_linear_) << ": data race ("
    << (prev_write ? (now_write ? "write after write" : "read after write") : "write after read")
    << ") on " << memory_at(*launch_, space, byte_offset, allocation) << ":\n  "
    << what(now, now_write) << " by " << who(now) << " at " << source_line(now.pc) << "\n  "
    << what(prev, prev_write) << " by " << who(prev) << " at " << source_line(prev.pc)
    << " (earlier, not ordered before it)\n  missing synchronisation: ";
  if (prev.block != now.block)
    s << "threads of different blocks are never ordered within one launch — use atomics, give each "
         "output element to one block, or split the work into two launches";
  else if (prev.thread / 32 == now.thread / 32)
    s << "both threads are lanes of warp " << now.thread / 32
      << ": a __syncwarp() (or __syncthreads()) between the two accesses — lanes of a warp are not "
         "in lockstep since Volta";
  else
    s << "a __syncthreads() between the two accesses";
  s << "\n  (LLMLAB_EMU_RACECHECK=0 turns the race detector off)";
  fail(s.str());
}

void Block::resolve_benign() {
  benign_.active = false;
  if (std::memcmp(reinterpret_cast<const void*>(benign_.address), benign_.before, benign_.size) != 0)
    return report_race(benign_.prev, true, benign_.now, true, benign_.space, benign_.offset,
                       benign_.allocation);
  std::lock_guard lock(race_->notes_mutex);
  if (race_->benign_count++ > 0) return;
  const auto who = [&](const Access& a) { return block_name(a.block) + ' ' + thread_name(a.thread); };
  std::ostringstream s;
  s << "kernel `" << launch_->kernel_name << "` " << block_name(block_linear_)
    << ": same-value writes without synchronisation (a benign race) on "
    << memory_at(*launch_, benign_.space, benign_.offset, benign_.allocation) << ":\n  write by "
    << who(benign_.now) << " at " << source_line(benign_.now.pc) << "\n  write by " << who(benign_.prev)
    << " at " << source_line(benign_.prev.pc)
    << " (earlier, not ordered before it)\n  both stored the same bytes, so the result does not depend "
       "on their order; it would if the values ever differed (one writer, or a barrier, makes it safe)";
  race_->first_benign = s.str();
}

void Block::note_outside_write(std::uintptr_t address, std::size_t size, std::uintptr_t pc) {
  const int g = race_->find_guard(address);
  if (g < 0) return;
  const Allocation& a = *race_->allocations[g];
  std::ostringstream s;
  s << "write of " << size << " bytes by " << context() << " at " << source_line(pc) << ", ";
  if (address < a.begin)
    s << a.begin - address << " bytes before the start of";
  else
    s << "byte offset " << address - a.begin << " of";
  s << " the cudaMalloc'd buffer of " << a.size << " bytes at " << hex_address(a.begin);
  std::lock_guard lock(race_->notes_mutex);
  if (race_->first_outside_write.empty()) race_->first_outside_write = s.str();
}

void Block::report_uninit(const char* space, std::size_t byte_offset, int allocation, std::uintptr_t pc) {
  std::ostringstream s;
  s << context() << ": read of uninitialised " << memory_at(*launch_, space, byte_offset, allocation)
    << ", at " << source_line(pc) << ": nothing wrote this byte "
    << (allocation >= 0 ? "since cudaMalloc (no kernel, cudaMemcpy or cudaMemset)"
                        : "in this block before the read")
    << "\n  (LLMLAB_EMU_INITCHECK=0 turns this check off)";
  if (pending_uninit_.empty()) pending_uninit_ = s.str();
}

void Block::check_partial_barrier(int first_waiting) {
  std::vector<int> skipped;
  for (int t = 0; t < nthreads_; ++t)
    if (threads_[t].status == ThreadState::Status::finished) skipped.push_back(t);
  std::ostringstream s;
  s << "kernel `" << launch_->kernel_name << "` " << block_name(block_linear_) << ": __syncthreads at "
    << where_str(threads_[first_waiting].where) << " is reached by " << nthreads_ - exited_ << " of "
    << nthreads_ << " threads; " << skipped.size() << " thread(s) [linear ids ";
  for (std::size_t i = 0; i < skipped.size();) {
    std::size_t j = i;
    while (j + 1 < skipped.size() && skipped[j + 1] == skipped[j] + 1) ++j;
    s << (i ? ", " : "") << skipped[i];
    if (j > i) s << '-' << skipped[j];
    i = j + 1;
  }
  s << "] exited without reaching it. A barrier in code that only some threads of a block reach is "
       "undefined in CUDA: keep every thread in the kernel until its last __syncthreads (guard the "
       "work, not the barrier)\n  (LLMLAB_EMU_BARRIERCHECK=0 lets exited threads count as arrived)";
  fail(s.str());
}

}  // namespace llmlab::emu::detail
