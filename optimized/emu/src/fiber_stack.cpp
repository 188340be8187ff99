#include "fiber_stack.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define LLMLAB_EMU_ASAN 1
#else
#define LLMLAB_EMU_ASAN 0
#endif

namespace llmlab::emu::detail {
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
  try {
    tl_pool.free.push_back(sc);
  } catch (...) {
    char* top = static_cast<char*>(sc.sp);
    ::munmap(top - sc.size - page_size(), sc.size + page_size());
  }
}

}  // namespace llmlab::emu::detail
