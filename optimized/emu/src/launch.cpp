// Emulated kernel launches: configuration checks, the schedule, blocks spread over a pool of OS
// threads, and the diagnostic of the first block that failed.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "block.hpp"
#include "crash.hpp"
#include "device.hpp"
#include "memory.hpp"
#include "names.hpp"
#include "runtime_state.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace llmlab::emu {
namespace detail {
namespace {

// A small pool of OS threads that run blocks. Threads live for the whole process so their fiber
// stacks stay pooled between launches.
class BlockPool {
 public:
  static BlockPool& instance() {
    static BlockPool pool;
    return pool;
  }

  /// Runs job(worker) on `n` OS threads (the caller is one of them) and waits for all.
  void run(int n, const std::function<void()>& job) {
    std::unique_lock lock(mutex_);
    while (static_cast<int>(workers_.size()) < n - 1) {
      const int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { loop(id); });
    }
    job_ = &job;
    wanted_ = n - 1;
    busy_ = n - 1;
    ++generation_;
    wake_.notify_all();
    lock.unlock();
    job();
    lock.lock();
    done_.wait(lock, [this] { return busy_ == 0; });
    job_ = nullptr;
  }

  ~BlockPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

 private:
  void loop(int id) {
    std::uint64_t seen = 0;
    for (;;) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (stop_) return;
      if (id >= wanted_) continue;
      const std::function<void()>* job = job_;
      lock.unlock();
      (*job)();
      lock.lock();
      if (--busy_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void()>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  int wanted_ = 0;
  int busy_ = 0;
  bool stop_ = false;
};

// LLMLAB_EMU_SCHEDULE=forward|reverse|random:SEED (default forward).
bool parse_schedule(const char* text, Schedule& schedule, std::uint64_t& seed) {
  const std::string s = text ? text : "forward";
  if (s.empty() || s == "forward") {
    schedule = Schedule::forward;
  } else if (s == "reverse") {
    schedule = Schedule::reverse;
  } else if (s.rfind("random:", 0) == 0 && s.size() > 7) {
    try {
      std::size_t used = 0;
      seed = std::stoull(s.substr(7), &used);
      if (used != s.size() - 7) return false;
    } catch (const std::exception&) {
      return false;
    }
    schedule = Schedule::random;
  } else {
    return false;
  }
  return true;
}

int worker_count(std::uint64_t blocks) {
  int n = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* e = std::getenv("LLMLAB_EMU_THREADS")) n = std::atoi(e);
  n = std::clamp(n, 1, 64);
  return static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(n), blocks));
}

std::string validate(const LaunchSpec& spec) {
  const dim3 g = spec.grid, b = spec.block;
  std::ostringstream s;
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  if (g.x == 0 || g.y == 0 || g.z == 0)
    s << "gridDim (" << g.x << ',' << g.y << ',' << g.z << ") has a zero dimension";
  else if (b.x == 0 || b.y == 0 || b.z == 0)
    s << "blockDim (" << b.x << ',' << b.y << ',' << b.z << ") has a zero dimension";
  else if (threads > 1024 || b.x > 1024 || b.y > 1024 || b.z > 64)
    s << "blockDim (" << b.x << ',' << b.y << ',' << b.z << ") exceeds the limits (x, y ≤ 1024, "
      << "z ≤ 64, x·y·z ≤ 1024)";
  else if (g.y > 65535 || g.z > 65535 || g.x > 2147483647u)
    s << "gridDim (" << g.x << ',' << g.y << ',' << g.z << ") exceeds the limits (x < 2^31, y, z ≤ 65535)";
  else if (std::string e = dynamic_shared_error(spec.kernel_address, spec.dynamic_shared_bytes);
           !e.empty())
    s << e;  // the emulated device's limit (device_properties.cpp)
  return s.str();
}

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's report names addresses and a stack; add which block and thread made the
// access, since the stack alone cannot tell.
void asan_report_callback(const char*) {
  if (Block* b = Block::current()) {
    const LaunchContext& launch = b->launch_context();
    const std::string in = launch.kernel ? describe_launch(*launch.kernel, *launch.spec) : "";
    std::fprintf(stderr, "llmlab emu: the access above was made by %s\n  in the launch of %s\n",
                 b->context().c_str(), in.c_str());
  }
}
const bool asan_callback_installed = [] {
  __asan_set_error_report_callback(asan_report_callback);
  return true;
}();
#endif

std::atomic<std::uint64_t> launch_counter{0};

}  // namespace
}  // namespace detail

bool valid_schedule(const std::string& text) {
  detail::Schedule schedule{};
  std::uint64_t seed = 0;
  return detail::parse_schedule(text.c_str(), schedule, seed);
}

cudaError_t launch_spec(const LaunchSpec& spec) {
  using namespace detail;
  if (Block::current()) {
    record_error(cudaErrorNotSupported,
                 "llmlab emu: a kernel launched a kernel (dynamic parallelism is not emulated)");
    return cudaErrorNotSupported;
  }
  LaunchContext ctx;
  ctx.spec = &spec;
  // A launch through <<<>>> (chevrons.hpp) calls the kernel from a lambda: it names the kernel by
  // its label; otherwise the kernel's address names it.
  const KernelInfo labelled{nullptr, spec.kernel_label ? spec.kernel_label : ""};
  const KernelInfo& kernel =
      spec.kernel_label && !spec.kernel_address ? labelled : kernel_info(spec.kernel_address);
  ctx.kernel_name = kernel.name;
  ctx.kernel = &kernel;
  install_fault_reporter();
  if (const std::string bad = validate(spec); !bad.empty()) {
    record_error(cudaErrorInvalidConfiguration,
                 "llmlab emu: launch of " + describe_launch(kernel, spec) + ": " + bad);
    return cudaErrorInvalidConfiguration;
  }
  const char* schedule_env = std::getenv("LLMLAB_EMU_SCHEDULE");
  if (!parse_schedule(schedule_env, ctx.schedule, ctx.seed)) {
    record_error(cudaErrorInvalidValue, std::string("llmlab emu: LLMLAB_EMU_SCHEDULE='") + schedule_env +
                                            "' — expected forward, reverse or random:SEED");
    return cudaErrorInvalidValue;
  }
  ctx.seed ^= launch_counter.fetch_add(1) * 0xD1B54A32D192ED03ull;  // launches differ, reruns repeat
  // The memory checks (racecheck.cpp): state for this launch only, freed when it ends.
  // A <<<>>> launch has no kernel address: its thread function, instantiated where the launch is
  // written, finds the kernel's module (whose thread-local block holds its static __shared__).
  const std::unique_ptr<RaceLaunch> race = make_race_launch(
      spec.kernel_address ? spec.kernel_address : reinterpret_cast<const void*>(spec.run_thread));
  ctx.race = race.get();
  const char* barrier_env = std::getenv("LLMLAB_EMU_BARRIERCHECK");
  ctx.barrier_check = !(barrier_env && std::string(barrier_env) == "0");

  const dim3 g = spec.grid;
  const std::uint64_t nblocks = 1ull * g.x * g.y * g.z;
  std::vector<std::uint64_t> order(nblocks);
  std::iota(order.begin(), order.end(), 0);
  if (ctx.schedule == Schedule::reverse) std::reverse(order.begin(), order.end());
  if (ctx.schedule == Schedule::random) {
    std::mt19937_64 rng(ctx.seed);
    std::shuffle(order.begin(), order.end(), rng);
  }

  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string error;
  const std::function<void()> job = [&] {
    // Storage reused by every block this OS thread runs. Held by pointer: the library's
    // thread-local data must stay a few hundred bytes, since a process that dlopens it (a plugin,
    // the Python module) finds room for initial-exec TLS only in glibc's small static surplus.
    // Declared here, where each pool thread passes, so that each one's copy is destroyed.
    static thread_local std::unique_ptr<Block> block;
    if (!block) block = std::make_unique<Block>();
    for (;;) {
      const std::uint64_t i = next.fetch_add(1);
      if (i >= nblocks || failed.load(std::memory_order_relaxed)) {
        block->retire_runners();  // the fibers its blocks parked end with the launch
        return;
      }
      const std::uint64_t id = order[i];
      const uint3 bidx{static_cast<unsigned>(id % g.x), static_cast<unsigned>((id / g.x) % g.y),
                       static_cast<unsigned>(id / (1ull * g.x * g.y))};
      std::string e = block->run(ctx, bidx, id);
      if (!e.empty()) {
        std::lock_guard lock(error_mutex);
        if (!failed.exchange(true)) error = std::move(e);
      }
    }
  };
  const int workers = worker_count(nblocks);
  if (workers <= 1) {
    job();
  } else {
    static std::mutex launch_mutex;  // one launch at a time uses the pool, as one stream would
    std::lock_guard lock(launch_mutex);
    BlockPool::instance().run(workers, job);
  }
  // Every live buffer's guard zones (memory.cpp): the launch could have written through any pointer.
  std::string damage = check_all_guards();
  flush_device_printf();  // the launch's printf output, ordered by block then thread
  if (race) {  // what the memory checks saw on the way (racecheck.cpp)
    if (!damage.empty() && !race->first_outside_write.empty())
      damage += "\n  the first such write, seen by the memory checks: " + race->first_outside_write;
    if (race->benign_count > 0 && !std::getenv("LLMLAB_EMU_QUIET"))
      std::fprintf(stderr, "llmlab emu: warning: %s\n  (%zu such write(s) in the launch of %s)\n",
                   race->first_benign.c_str(), race->benign_count, describe_launch(kernel, spec).c_str());
  }
  if (failed) {
    record_error(cudaErrorLaunchFailure,
                 "llmlab emu: " + error + "\n  in the launch of " + describe_launch(kernel, spec) +
                     (damage.empty() ? "" : "\n  which also wrote outside " + damage));
    return cudaErrorLaunchFailure;
  }
  if (!damage.empty()) {
    record_error(cudaErrorIllegalAddress,
                 "llmlab emu: the launch of " + describe_launch(kernel, spec) +
                     " wrote outside a cudaMalloc'd buffer (seen in its guard zones as the launch "
                     "ended; kernels built with the memory checks also name the thread and line of "
                     "the first such write, the asan preset names every one):\n  " +
                     damage);
    return cudaErrorIllegalAddress;
  }
  return cudaSuccess;
}

void* dynamic_shared_memory() {
  detail::Block* b = detail::Block::current();
  return b ? b->dynamic_shared() : nullptr;
}

}  // namespace llmlab::emu

unsigned __activemask() {
  llmlab::emu::detail::Block* b = llmlab::emu::detail::Block::current();
  return b ? b->active_mask() : 0u;
}
