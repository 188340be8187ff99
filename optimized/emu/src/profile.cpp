// The memory-traffic counters (docs/emulator.md "Memory-traffic counters"): warp-wide requests
// rebuilt from the per-thread accesses the hooks report, their 32-byte sectors (global memory) and
// bank wavefronts (shared memory), summed per kernel.
//
// Lanes of a warp run one after another here, not in lockstep; a request is rebuilt as the set of
// accesses with the same (warp, instruction address, k) where k counts that lane's executions of the
// instruction — lanes of a converged warp execute each instruction equally often. A block's
// accesses are grouped once it has finished (when the next block starts on its OS thread, or when
// the launch ends), never while lanes are still running.

#include "profile.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "device.hpp"
#include "llmlab/emu/profile.hpp"

namespace llmlab::emu::detail {

namespace {

/// One access as the hooks reported it, in the order its thread made it.
struct Record {
  std::uintptr_t pc;
  std::uintptr_t address;
  std::uint32_t thread;
  std::uint32_t size;
  std::uint8_t kind;    // AccessKind
  std::uint8_t shared;  // 1: shared memory
};

std::mutex totals_mutex;
std::map<std::string, KernelProfile>& totals() {  // by kernel name; outlives the exit report
  static auto* t = new std::map<std::string, KernelProfile>();
  return *t;
}
std::atomic<int> forced{-1};  // set_profile_enabled: -1 = LLMLAB_EMU_PROFILE decides
std::atomic<std::uint64_t> launch_ids{0};
thread_local double pending_flops = 0;  // annotate_next_launch_flops, for this host thread

bool env_profile() {
  const char* v = std::getenv("LLMLAB_EMU_PROFILE");
  return v && *v && std::strcmp(v, "0") != 0;
}

void add(GlobalTraffic& to, const GlobalTraffic& from) {
  to.requests += from.requests;
  to.sectors += from.sectors;
  to.ideal_sectors += from.ideal_sectors;
  to.bytes_requested += from.bytes_requested;
}
void add(SharedTraffic& to, const SharedTraffic& from) {
  to.requests += from.requests;
  to.wavefronts += from.wavefronts;
  to.ideal_wavefronts += from.ideal_wavefronts;
  to.bytes_requested += from.bytes_requested;
}
void add(KernelProfile& to, const KernelProfile& from) {
  to.launches += from.launches;
  add(to.global_load, from.global_load);
  add(to.global_store, from.global_store);
  add(to.global_atomic, from.global_atomic);
  add(to.shared_load, from.shared_load);
  add(to.shared_store, from.shared_store);
  to.flops += from.flops;
}

/// Units of `unit` bytes that [address, address + size) of every access touch, distinct, sorted.
std::vector<std::uint64_t> units(const Record* const* first, const Record* const* last, unsigned shift) {
  std::vector<std::uint64_t> u;
  for (auto p = first; p != last; ++p) {
    const std::uint64_t lo = (*p)->address >> shift, hi = ((*p)->address + (*p)->size - 1) >> shift;
    for (std::uint64_t x = lo; x <= hi; ++x) u.push_back(x);
  }
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  return u;
}

/// Distinct bytes the accesses touch (the union of their ranges).
std::uint64_t distinct_bytes(const Record* const* first, const Record* const* last) {
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> r;
  for (auto p = first; p != last; ++p) r.emplace_back((*p)->address, (*p)->address + (*p)->size);
  std::sort(r.begin(), r.end());
  std::uint64_t total = 0;
  std::uintptr_t end = 0;
  for (const auto& [b, e] : r) {
    const std::uintptr_t from = std::max(b, end);
    if (e > from) total += e - from;
    end = std::max(end, e);
  }
  return total;
}

/// One warp-wide request: the accesses of its lanes (at most one per lane).
void count_request(KernelProfile& k, const std::vector<const Record*>& lanes) {
  const Record& r0 = *lanes.front();
  std::uint64_t bytes = 0;
  for (const Record* r : lanes) bytes += r->size;
  const auto kind = static_cast<AccessKind>(r0.kind);
  const bool reads = kind == AccessKind::read || kind == AccessKind::atomic_read;
  const bool atomic = kind == AccessKind::atomic_read || kind == AccessKind::atomic_write;
  if (!r0.shared) {
    GlobalTraffic& g = atomic ? k.global_atomic : reads ? k.global_load : k.global_store;
    ++g.requests;
    g.bytes_requested += bytes;
    g.sectors += units(lanes.data(), lanes.data() + lanes.size(), 5).size();
    g.ideal_sectors += (distinct_bytes(lanes.data(), lanes.data() + lanes.size()) + 31) / 32;
    return;
  }
  SharedTraffic& s = reads && !atomic ? k.shared_load : k.shared_store;
  ++s.requests;
  s.bytes_requested += bytes;
  // Phases: 8-byte accesses are served a half-warp at a time, 16-byte ones a quarter-warp.
  const unsigned lanes_per_phase = r0.size >= 16 ? 8 : r0.size >= 8 ? 16 : 32;
  std::vector<const Record*> sorted = lanes;
  std::sort(sorted.begin(), sorted.end(), [](const Record* a, const Record* b) { return a->thread < b->thread; });
  for (std::size_t i = 0; i < sorted.size();) {
    const unsigned phase = sorted[i]->thread % 32 / lanes_per_phase;
    std::size_t j = i;
    while (j < sorted.size() && sorted[j]->thread % 32 / lanes_per_phase == phase) ++j;
    const std::vector<std::uint64_t> words = units(sorted.data() + i, sorted.data() + j, 2);
    std::array<std::uint32_t, 32> per_bank{};
    for (const std::uint64_t w : words) ++per_bank[w % 32];  // distinct words: a shared word is one
    const std::uint64_t ideal = (words.size() + 31) / 32;
    s.ideal_wavefronts += ideal;
    s.wavefronts += std::max<std::uint64_t>(ideal, *std::max_element(per_bank.begin(), per_bank.end()));
    i = j;
  }
}

}  // namespace

struct ProfileBlock {
  std::vector<Record> records;  // the running block's accesses
  KernelProfile counted;        // the blocks finished so far
  std::vector<std::size_t> order;

  /// Groups the finished block's accesses into warp-wide requests and counts them.
  void finish() {
    if (records.empty()) return;
    // By (warp, instruction, space, kind, thread); stable, so each thread's accesses of one
    // instruction stay in execution order: the k-th of them belongs to the warp's k-th request.
    const auto key = [](const Record& r) {
      return std::make_tuple(r.thread / 32, r.pc, r.shared, r.kind, r.thread);
    };
    std::stable_sort(records.begin(), records.end(),
                     [&](const Record& a, const Record& b) { return key(a) < key(b); });
    std::vector<const Record*> lanes;
    for (std::size_t i = 0; i < records.size();) {
      const Record& r = records[i];
      std::size_t j = i;
      while (j < records.size() && records[j].thread / 32 == r.thread / 32 && records[j].pc == r.pc &&
             records[j].shared == r.shared && records[j].kind == r.kind)
        ++j;
      // [i, j): one instruction of one warp; runs of one thread each, in execution order.
      std::vector<std::pair<std::size_t, std::size_t>> runs;  // [begin, end) per lane
      for (std::size_t a = i; a < j;) {
        std::size_t b = a;
        while (b < j && records[b].thread == records[a].thread) ++b;
        runs.emplace_back(a, b);
        a = b;
      }
      for (std::size_t n = 0;; ++n) {
        lanes.clear();
        for (const auto& [b, e] : runs)
          if (b + n < e) lanes.push_back(&records[b + n]);
        if (lanes.empty()) break;
        count_request(counted, lanes);
      }
      i = j;
    }
    records.clear();
  }
};

class ProfileLaunch {
 public:
  explicit ProfileLaunch(double flops) : id_(launch_ids.fetch_add(1) + 1), flops_(flops) {}
  ProfileLaunch(const ProfileLaunch&) = delete;
  ProfileLaunch& operator=(const ProfileLaunch&) = delete;

  // The launch has ended (every block ran): count the last blocks, add to the kernel's totals.
  ~ProfileLaunch() {
    if (name_.empty()) return;  // no block started (the launch was refused)
    KernelProfile k;
    for (const auto& b : blocks_) {
      b->finish();
      add(k, b->counted);
    }
    k.launches = 1;
    k.flops = flops_;
    std::lock_guard lock(totals_mutex);
    KernelProfile& t = totals()[name_];
    t.kernel = name_;
    add(t, k);
  }

  ProfileBlock* begin_block(const std::string& kernel_name) {
    thread_local std::uint64_t tl_launch = 0;  // the launch tl_block belongs to
    thread_local ProfileBlock* tl_block = nullptr;
    if (tl_launch == id_) {
      tl_block->finish();
      return tl_block;
    }
    std::lock_guard lock(mutex_);
    if (name_.empty()) name_ = kernel_name;
    blocks_.push_back(std::make_unique<ProfileBlock>());
    tl_launch = id_;
    tl_block = blocks_.back().get();
    return tl_block;
  }

 private:
  std::uint64_t id_;
  double flops_;
  std::mutex mutex_;
  std::string name_;
  std::vector<std::unique_ptr<ProfileBlock>> blocks_;  // one per OS thread that ran blocks
};

std::shared_ptr<ProfileLaunch> make_profile_launch() {
  const double flops = pending_flops;
  pending_flops = 0;
  if (!profile_enabled()) return nullptr;
  return std::make_shared<ProfileLaunch>(flops);
}

ProfileBlock* profile_begin_block(ProfileLaunch& launch, const std::string& kernel_name) {
  return launch.begin_block(kernel_name);
}

void profile_record(ProfileBlock& block, int thread, std::uintptr_t pc, std::uintptr_t address,
                    std::size_t size, AccessKind kind, bool shared) {
  block.records.push_back(Record{pc, address, static_cast<std::uint32_t>(thread),
                                 static_cast<std::uint32_t>(std::min<std::size_t>(size, 1u << 30)),
                                 static_cast<std::uint8_t>(kind), static_cast<std::uint8_t>(shared)});
}

namespace {

// LLMLAB_EMU_PROFILE=1: the table on stderr and the JSON file at exit.
struct ExitReport {
  ~ExitReport() {
    if (!env_profile()) return;
    if (const char* path = std::getenv("LLMLAB_EMU_PROFILE_JSON"); path && *path) {
      std::ofstream out(path);
      out << profile_json() << '\n';
      if (!out) std::fprintf(stderr, "llmlab emu: cannot write the profile to '%s'\n", path);
    }
    const std::string t = profile_table();
    std::fprintf(stderr, "%s", t.c_str());
  }
} exit_report;

// 4096 → "4.1 kB": three significant digits and an SI prefix.
std::string si(double v, const char* unit) {
  const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
  int p = 0;
  while (std::fabs(v) >= 1000 && p < 5) v /= 1000, ++p;
  std::ostringstream s;
  s << std::setprecision(3) << v << ' ' << prefixes[p] << unit;
  return s.str();
}

nlohmann::json to_json(const GlobalTraffic& g) {
  return {{"requests", g.requests},
          {"sectors", g.sectors},
          {"ideal_sectors", g.ideal_sectors},
          {"bytes_requested", g.bytes_requested},
          {"bytes_moved", g.bytes_moved()}};
}
nlohmann::json to_json(const SharedTraffic& s) {
  return {{"requests", s.requests},
          {"wavefronts", s.wavefronts},
          {"ideal_wavefronts", s.ideal_wavefronts},
          {"bank_conflicts", s.bank_conflicts()},
          {"bytes_requested", s.bytes_requested}};
}

}  // namespace

}  // namespace llmlab::emu::detail

namespace llmlab::emu {

bool profile_enabled() {
  const int f = detail::forced.load(std::memory_order_relaxed);
  return f < 0 ? detail::env_profile() : f != 0;
}

void set_profile_enabled(bool on) { detail::forced.store(on ? 1 : 0); }

bool profile_available() { return detail::hooks_seen(); }

void reset_profile() {
  std::lock_guard lock(detail::totals_mutex);
  detail::totals().clear();
}

std::vector<KernelProfile> profile() {
  std::lock_guard lock(detail::totals_mutex);
  std::vector<KernelProfile> v;
  for (const auto& [name, k] : detail::totals()) v.push_back(k);
  return v;
}

std::string profile_json() {
  nlohmann::json a = nlohmann::json::array();
  for (const KernelProfile& k : profile()) {
    a.push_back({{"kernel", k.kernel},
                 {"launches", k.launches},
                 {"global_load", detail::to_json(k.global_load)},
                 {"global_store", detail::to_json(k.global_store)},
                 {"global_atomic", detail::to_json(k.global_atomic)},
                 {"shared_load", detail::to_json(k.shared_load)},
                 {"shared_store", detail::to_json(k.shared_store)},
                 {"flops", k.flops}});
  }
  return a.dump(2);
}

std::string profile_table() {
  using detail::si;
  const std::vector<KernelProfile> all = profile();
  std::ostringstream s;
  s << "llmlab emu profile (LLMLAB_EMU_PROFILE; docs/emulator.md \"Memory-traffic counters\"): "
    << all.size() << " kernel(s)\n";
  if (!profile_available())
    s << "  (no kernel here carries the access hooks — the asan preset, or not built with "
         "llmlab_emu_instrument: nothing was counted)\n";
  for (const KernelProfile& k : all) {
    s << "\n" << k.kernel << "  — " << k.launches << " launch(es)\n";
    s << "  " << std::left << std::setw(14) << "global" << std::right << std::setw(12) << "requests"
      << std::setw(12) << "sectors" << std::setw(10) << "sect/req" << std::setw(12) << "efficiency"
      << std::setw(14) << "bytes moved" << '\n';
    const auto grow = [&](const char* what, const GlobalTraffic& g) {
      if (!g.requests) return;
      s << "  " << std::left << std::setw(14) << what << std::right << std::setw(12) << g.requests
        << std::setw(12) << g.sectors << std::setw(10) << std::fixed << std::setprecision(2)
        << static_cast<double>(g.sectors) / g.requests << std::setw(11) << std::setprecision(1)
        << 100.0 * g.ideal_sectors / g.sectors << '%' << std::setw(14) << si(g.bytes_moved(), "B")
        << '\n';
      s.unsetf(std::ios::fixed);
    };
    grow("  load", k.global_load);
    grow("  store", k.global_store);
    grow("  atomic", k.global_atomic);
    if (k.shared_load.requests || k.shared_store.requests) {
      s << "  " << std::left << std::setw(14) << "shared" << std::right << std::setw(12) << "requests"
        << std::setw(12) << "wavefronts" << std::setw(10) << "wave/req" << std::setw(12)
        << "conflicts" << std::setw(14) << "bytes" << '\n';
      const auto srow = [&](const char* what, const SharedTraffic& t) {
        if (!t.requests) return;
        s << "  " << std::left << std::setw(14) << what << std::right << std::setw(12) << t.requests
          << std::setw(12) << t.wavefronts << std::setw(10) << std::fixed << std::setprecision(2)
          << static_cast<double>(t.wavefronts) / t.requests << std::setw(12) << t.bank_conflicts()
          << std::setw(14) << si(t.bytes_requested, "B") << '\n';
        s.unsetf(std::ios::fixed);
      };
      srow("  load", k.shared_load);
      srow("  store", k.shared_store);
    }
    const double moved = static_cast<double>(k.global_load.bytes_moved() + k.global_store.bytes_moved() +
                                             k.global_atomic.bytes_moved());
    if (k.flops > 0)
      s << "  FLOPs " << si(k.flops, "FLOP") << ", arithmetic intensity " << std::setprecision(3)
        << k.flops / moved << " FLOP/B of sectors moved\n";
  }
  return s.str();
}

void annotate_next_launch_flops(double flops) {
  if (!(flops >= 0) || !std::isfinite(flops))
    throw std::invalid_argument("annotate_next_launch_flops: flops must be finite and ≥ 0, got " +
                                std::to_string(flops));
  detail::pending_flops = flops;
}

DevicePeaks device_peaks() {
  const detail::EmulatedDevice& d = detail::emulated_device();
  DevicePeaks p;
  p.name = d.name;
  p.fp32_flops_per_s = 2.0 * d.fp32_lanes_per_sm * d.sm_count * d.clock_khz * 1e3;
  p.dram_bytes_per_s = 2.0 * d.memory_clock_khz * 1e3 * d.memory_bus_width / 8;
  return p;
}

}  // namespace llmlab::emu
