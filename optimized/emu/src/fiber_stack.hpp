#pragma once
// Fiber stacks for the emulator: pooled per OS thread (a block with 1,024 waiting threads must not
// cost 1,024 mmap calls), each with a PROT_NONE guard page below it so an overflow faults instead
// of silently corrupting the neighbour. The switch between fibers (fcontext's interface: a
// suspended context is its saved stack pointer). And the AddressSanitizer annotations for switching
// stacks, which Boost's fcontext does not make (its ucontext variant would, but does not link on
// Debian).

#include <boost/context/stack_context.hpp>

#include <cstddef>

#if !defined(__x86_64__) || !defined(__ELF__) || defined(LLMLAB_EMU_BOOST_SWITCH)
#include <boost/context/detail/fcontext.hpp>
#define LLMLAB_EMU_OWN_SWITCH 0
#else
#define LLMLAB_EMU_OWN_SWITCH 1
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace llmlab::emu::detail {

#if LLMLAB_EMU_OWN_SWITCH
/// What a switch hands to the context it resumes: the context that switched (now suspended) and a
/// value (Boost's `transfer_t`).
struct Transfer {
  void* fctx;
  void* data;
};
/// Suspends the running context and resumes `to` (which returns from its own switch, or starts,
/// with {this context, data}). Boost.Context's `jump_fcontext` without its two costs on this path
/// (fiber_stack.cpp): the x87 and MXCSR control words are not switched (every fiber of an OS thread
/// keeps the thread's rounding mode; CUDA device code cannot change it), and it returns with `ret`
/// rather than an indirect jump, so the CPU's return-address predictor stays in step.
extern "C" __attribute__((visibility("hidden"))) Transfer llmlab_emu_jump(void* to, void* data);
inline Transfer jump_context(void* to, void* data) { return llmlab_emu_jump(to, data); }
/// A context that, resumed the first time, calls fn({resumer, data}) on the stack whose highest
/// address is `top`; fn must never return (it switches away for good instead).
void* make_context(void* top, std::size_t size, void (*fn)(Transfer));
#else
// Elsewhere: Boost.Context's own switch, with the same interface.
using Transfer = boost::context::detail::transfer_t;
inline Transfer jump_context(void* to, void* data) { return boost::context::detail::jump_fcontext(to, data); }
inline void* make_context(void* top, std::size_t size, void (*fn)(Transfer)) {
  return boost::context::detail::make_fcontext(top, size, fn);
}
#endif

/// Fiber stacks (Boost's stack_context: `sp` is the highest address) from a thread-local pool.
struct PooledStackAllocator {
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context& sc) noexcept;
};

/// Usable bytes of one fiber stack (larger under ASan, whose frames carry redzones).
std::size_t fiber_stack_size();

/// The stack switch annotations; no-ops unless built with -fsanitize=address (inline, since they
/// sit on the emulator's hottest path).
struct StackSwitch {
  /// Before jumping to the stack [bottom, bottom + size). `save` keeps this side's fake stack;
  /// pass nullptr when the current stack is about to die (a finished fiber).
  static void start([[maybe_unused]] void** save, [[maybe_unused]] const void* bottom,
                    [[maybe_unused]] std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(save, bottom, size);
#endif
  }
  /// After arriving on a stack. `save` is what start() saved when this side left; the previous
  /// stack's bounds are written to *old_bottom / *old_size when those are non-null.
  static void finish([[maybe_unused]] void* save, [[maybe_unused]] const void** old_bottom,
                     [[maybe_unused]] std::size_t* old_size) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(save, old_bottom, old_size);
#endif
  }
};

}  // namespace llmlab::emu::detail
