// The out-of-line parts of device_functions.hpp: __trap and device assert (an exception the block
// turns into a launch failure naming block and thread), and device printf's per-thread buffer.

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "block.hpp"
#include "device.hpp"

extern "C" void __assert_fail(const char* assertion, const char* file, unsigned int line,
                              const char* function) noexcept __attribute__((noreturn));

namespace llmlab::emu {
namespace {
struct PrintLine {
  std::uint64_t block, thread;
  std::string text;
};
std::mutex print_mutex;
std::vector<PrintLine> print_buffer;  // the running launch's printf output, in arrival order
}  // namespace

bool in_kernel() { return detail::Block::current() != nullptr; }

void trap(const std::source_location& where) {
  if (!in_kernel()) std::abort();
  std::ostringstream s;
  s << "__trap() at " << where.file_name() << ':' << where.line();
  throw std::runtime_error(s.str());
}

void assert_fail(const char* expression, const char* file, unsigned line, const char* function) {
  if (!in_kernel()) __assert_fail(expression, file, line, function);
  std::ostringstream s;
  s << "device assert(" << expression << ") failed at " << file << ':' << line << " in " << function;
  throw std::runtime_error(s.str());
}

void flush_device_printf() {
  std::vector<PrintLine> lines;
  {
    std::lock_guard lock(print_mutex);
    lines.swap(print_buffer);
  }
  if (lines.empty()) return;
  // Stable: a thread's own lines keep their order.
  std::stable_sort(lines.begin(), lines.end(), [](const PrintLine& a, const PrintLine& b) {
    return a.block != b.block ? a.block < b.block : a.thread < b.thread;
  });
  for (const PrintLine& l : lines) std::fwrite(l.text.data(), 1, l.text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace llmlab::emu

extern "C" int llmlab_emu_printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  if (!llmlab::emu::in_kernel()) {
    const int n = std::vprintf(format, args);
    va_end(args);
    return n;
  }
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string text(n > 0 ? static_cast<std::size_t>(n) : 0u, '\0');
  if (n > 0) std::vsnprintf(text.data(), text.size() + 1, format, args);
  va_end(args);
  const std::uint64_t block = blockIdx.x + 1ull * gridDim.x * (blockIdx.y + 1ull * gridDim.y * blockIdx.z);
  const std::uint64_t thread =
      threadIdx.x + 1ull * blockDim.x * (threadIdx.y + 1ull * blockDim.y * threadIdx.z);
  std::lock_guard lock(llmlab::emu::print_mutex);
  llmlab::emu::print_buffer.push_back({block, thread, std::move(text)});
  return n;
}
