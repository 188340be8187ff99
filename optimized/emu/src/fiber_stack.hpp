#pragma once
// Fiber stacks for the emulator: pooled per OS thread (a block with 1,024 waiting threads must not
// cost 1,024 mmap calls), each with a PROT_NONE guard page below it so an overflow faults instead
// of silently corrupting the neighbour. Plus the AddressSanitizer annotations for switching stacks,
// which Boost's fcontext does not make (its ucontext variant would, but does not link on Debian).

#include <boost/context/stack_context.hpp>

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace llmlab::emu::detail {

/// Stack allocator for boost::context::fiber backed by a thread-local pool.
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
