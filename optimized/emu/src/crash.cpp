#include "crash.hpp"

#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <string>

#include "block.hpp"
#include "names.hpp"

namespace llmlab::emu::detail {
#if !defined(__SANITIZE_ADDRESS__)  // ASan handles faults itself (launch.cpp adds the block and thread)
namespace {

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE};
struct sigaction previous[3];

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (an invalid address)";
    case SIGBUS: return "SIGBUS (a misaligned or unmapped address)";
    case SIGFPE: return "SIGFPE (integer division by zero)";
  }
  return "a signal";
}

const void* faulting_pc(void* context) {
  const auto* uc = static_cast<const ucontext_t*>(context);
#if defined(__x86_64__)
  return reinterpret_cast<const void*>(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return reinterpret_cast<const void*>(uc->uc_mcontext.pc);
#else
  (void)uc;
  return nullptr;
#endif
}

// Reports once, puts the earlier handlers back and returns: the faulting instruction runs again
// and the process ends the way it would have without the emulator. Not async-signal-safe (it
// formats strings and reads debug information), which is acceptable for a process about to die.
void on_fault(int sig, siginfo_t* info, void* context) {
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &previous[i], nullptr);
  const Block* b = Block::current();
  if (!b) return;  // not kernel code
  std::string s = "llmlab emu: " + std::string(signal_name(sig)) + " in " + b->context();
  if (sig != SIGFPE && info) {
    char address[32];
    std::snprintf(address, sizeof address, "%p", info->si_addr);
    s += std::string(" accessing ") + address;
  }
  if (const std::string line = source_line_of(faulting_pc(context)); !line.empty())
    s += ", at " + line;
  const LaunchContext& launch = b->launch_context();
  if (launch.kernel) s += "\n  in the launch of " + describe_launch(*launch.kernel, *launch.spec);
  s += "\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, s.data(), s.size());
}

}  // namespace
#endif

void install_fault_reporter() {
#if !defined(__SANITIZE_ADDRESS__)
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &previous[i]);
  });
#endif
}

}  // namespace llmlab::emu::detail
