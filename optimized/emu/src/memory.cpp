// Emulated device memory with guard zones: [front zone | buffer | back zone] in one aligned block.
// The back zone starts at the buffer's last byte + 1 (not at a rounded size), so a write one byte
// past the end is seen. Zones are compared with memcmp against a prebuilt pattern.

#include "memory.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "llmlab/core/guard_zone.hpp"

namespace llmlab::emu {
namespace {

struct Allocation {
  std::size_t bytes = 0;       // what cudaMalloc was asked for
  unsigned char* raw = nullptr;  // the block malloc'd, front zone first
};

std::mutex memory_mutex;
MemoryCounters memory;
std::map<std::uintptr_t, Allocation> live;  // by the address handed out; ordered for range lookups

const unsigned char* pattern() {
  static const auto p = [] {
    std::array<unsigned char, detail::kGuardBytes + 1> a{};
    guard::fill(std::span(a.data(), detail::kGuardBytes));
    return a;
  }();
  return p.data();
}

unsigned char* inner(std::uintptr_t address) { return reinterpret_cast<unsigned char*>(address); }

// "" or "buffer 0x… (N bytes): <damage>[ and <damage>]"; repairs the zones it found damaged.
// Called with memory_mutex held.
std::string damage_of(std::uintptr_t address, const Allocation& a) {
  constexpr std::size_t g = detail::kGuardBytes;
  if (g == 0) return "";
  unsigned char* back = inner(address) + a.bytes;
  if (std::memcmp(a.raw, pattern(), g) == 0 && std::memcmp(back, pattern(), g) == 0) return "";
  std::ostringstream s;
  s << "buffer " << static_cast<const void*>(inner(address)) << " (" << a.bytes << " bytes): ";
  const auto before = guard::damage_before(std::span<const unsigned char>(a.raw, g));
  const auto after = guard::damage_after(std::span<const unsigned char>(back, g), a.bytes);
  if (before) s << guard::describe(*before, a.bytes);
  if (before && after) s << " and ";
  if (after) s << guard::describe(*after, a.bytes);
  std::memcpy(a.raw, pattern(), g);
  std::memcpy(back, pattern(), g);
  return s.str();
}

// The live buffer whose zones or bytes contain p, if any. Called with memory_mutex held.
std::map<std::uintptr_t, Allocation>::iterator owner(std::uintptr_t p) {
  constexpr std::size_t g = detail::kGuardBytes;
  auto it = live.upper_bound(p + g);
  if (it == live.begin()) return live.end();
  --it;
  const std::uintptr_t start = it->first - g, end = it->first + it->second.bytes + g;
  // Without guard zones (the asan preset) one-past-the-end still names its buffer, so a range
  // starting there is refused rather than taken for host memory.
  return p >= start && (p < end || (p == end && (g == 0 || it->second.bytes == 0))) ? it : live.end();
}

}  // namespace

MemoryCounters memory_counters() {
  std::lock_guard lock(memory_mutex);
  return memory;
}

void reset_memory_counters() {
  std::lock_guard lock(memory_mutex);
  memory.peak_bytes = memory.live_bytes;
  memory.allocated_bytes = 0;
  memory.allocations = 0;
}

namespace detail {

void* device_allocate(std::size_t bytes) {
  constexpr std::size_t g = kGuardBytes;
  void* block = nullptr;
  // posix_memalign takes any size (aligned_alloc wants a multiple of the alignment, and ASan
  // enforces it); under ASan the block is exactly `bytes` long, so its redzones start at the end.
  if (::posix_memalign(&block, kDeviceAlignment, g + (bytes ? bytes : 1) + g) != 0) return nullptr;
  auto* raw = static_cast<unsigned char*>(block);
  std::memcpy(raw, pattern(), g);
  std::memcpy(raw + g + bytes, pattern(), g);
  const auto address = reinterpret_cast<std::uintptr_t>(raw + g);
  std::lock_guard lock(memory_mutex);
  live[address] = {bytes, raw};
  memory.live_bytes += bytes;
  memory.allocated_bytes += bytes;
  ++memory.allocations;
  if (memory.live_bytes > memory.peak_bytes) memory.peak_bytes = memory.live_bytes;
  return raw + g;
}

Release device_release(void* p, std::string& damage) {
  unsigned char* raw = nullptr;
  {
    std::lock_guard lock(memory_mutex);
    const auto it = live.find(reinterpret_cast<std::uintptr_t>(p));
    if (it == live.end()) return Release::unknown;
    damage = damage_of(it->first, it->second);
    raw = it->second.raw;
    memory.live_bytes -= it->second.bytes;
    live.erase(it);
  }
  std::free(raw);
  return damage.empty() ? Release::freed : Release::damaged;
}

std::string check_all_guards() {
  if (kGuardBytes == 0) return "";
  std::string found;
  std::lock_guard lock(memory_mutex);
  for (const auto& [address, a] : live)
    if (std::string d = damage_of(address, a); !d.empty()) found += (found.empty() ? "" : "\n  ") + d;
  return found;
}

cudaError_t check_range(const void* p, std::size_t count, const char* role, std::string& problem) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::lock_guard lock(memory_mutex);
  const auto it = owner(address);
  if (it == live.end()) return cudaSuccess;  // host memory
  if (std::string d = damage_of(it->first, it->second); !d.empty()) {
    problem = std::string("the ") + role + "'s guard zone was damaged since the last check (by host " +
              "code: launches are checked as they end): " + d;
    return cudaErrorIllegalAddress;
  }
  const auto offset = static_cast<std::ptrdiff_t>(address - it->first);
  const auto bytes = static_cast<std::ptrdiff_t>(it->second.bytes);
  if (offset < 0 || offset + static_cast<std::ptrdiff_t>(count) > bytes) {
    std::ostringstream s;
    s << "the " << role << " range of " << count << " bytes at offset " << offset << " of buffer "
      << reinterpret_cast<const void*>(it->first) << " goes outside its " << bytes << " bytes";
    problem = s.str();
    return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

}  // namespace detail
}  // namespace llmlab::emu
