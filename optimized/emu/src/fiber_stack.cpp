#include "fiber_stack.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define LLMLAB_EMU_ASAN 1
#else
#define LLMLAB_EMU_ASAN 0
#endif

#if LLMLAB_EMU_OWN_SWITCH
// x86-64 System V. A suspended context's stack holds, from its saved stack pointer up: r15, r14,
// r13, r12, rbx, rbp and the address to return to. A new context returns into
// llmlab_emu_trampoline, which calls the function make_context put in r12's slot with the
// Transfer (rax, rdx) as its argument (rdi, rsi); its `.cfi_undefined rip` ends every unwind or
// backtrace of the fiber there.
asm(R"(
  .text
  .globl llmlab_emu_jump
  .hidden llmlab_emu_jump
  .type llmlab_emu_jump, @function
  .p2align 4
llmlab_emu_jump:
  .cfi_startproc
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, %rax
  movq %rdi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  movq %rsi, %rdx
  ret
  .cfi_endproc
  .size llmlab_emu_jump, .-llmlab_emu_jump

  .type llmlab_emu_trampoline, @function
  .p2align 4
llmlab_emu_trampoline:
  .cfi_startproc
  .cfi_undefined rip
  movq %rax, %rdi
  movq %rdx, %rsi
  callq *%r12
  ud2
  .cfi_endproc
  .size llmlab_emu_trampoline, .-llmlab_emu_trampoline
)");
extern "C" void llmlab_emu_trampoline();
#endif

namespace llmlab::emu::detail {

#if LLMLAB_EMU_OWN_SWITCH
void* make_context(void* top, std::size_t /*size*/, void (*fn)(Transfer)) {
  // 16-byte aligned top; after the 6 pops and the `ret`, the stack pointer is 16-byte aligned at
  // the trampoline's call, as the ABI requires.
  auto** sp = reinterpret_cast<void**>(reinterpret_cast<std::uintptr_t>(top) & ~std::uintptr_t{15});
  sp -= 9;
  for (int i = 0; i < 9; ++i) sp[i] = nullptr;
  sp[3] = reinterpret_cast<void*>(fn);  // r12
  sp[6] = reinterpret_cast<void*>(&llmlab_emu_trampoline);
  return sp;
}
#endif

namespace {

std::size_t page_size() {
  static const std::size_t p = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

// Free stacks of this OS thread, reused by the next fiber; unmapped when the thread ends.
struct StackPool {
  std::vector<boost::context::stack_context> free;
  ~StackPool() {
    for (auto& sc : free) {
      char* top = static_cast<char*>(sc.sp);
      ::munmap(top - sc.size - page_size(), sc.size + page_size());
    }
  }
};
__attribute__((tls_model("initial-exec"))) thread_local StackPool tl_pool;

}  // namespace

std::size_t fiber_stack_size() { return LLMLAB_EMU_ASAN ? 512 * 1024 : 128 * 1024; }

boost::context::stack_context PooledStackAllocator::allocate() {
  if (!tl_pool.free.empty()) {
    boost::context::stack_context sc = tl_pool.free.back();
    tl_pool.free.pop_back();
    return sc;
  }
  const std::size_t size = fiber_stack_size();
  const std::size_t guard = page_size();
  void* base = ::mmap(nullptr, size + guard, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  ::mprotect(base, guard, PROT_NONE);  // the guard page: an overflowing kernel faults here
  boost::context::stack_context sc;
  sc.size = size;
  sc.sp = static_cast<char*>(base) + guard + size;  // stacks grow down from sp
  return sc;
}

void PooledStackAllocator::deallocate(boost::context::stack_context& sc) noexcept {
#if LLMLAB_EMU_ASAN
  // A retired fiber switches away for good from inside its frames, whose redzones stay poisoned:
  // the next fiber on this stack must not inherit them.
  __asan_unpoison_memory_region(static_cast<char*>(sc.sp) - sc.size, sc.size);
#endif
  try {
    tl_pool.free.push_back(sc);
  } catch (...) {
    char* top = static_cast<char*>(sc.sp);
    ::munmap(top - sc.size - page_size(), sc.size + page_size());
  }
}

}  // namespace llmlab::emu::detail
