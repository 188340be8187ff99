// The entry points GCC's -fsanitize=thread instrumentation calls (kernel translation units are
// compiled with it, never linked with libtsan): every one hands the access to the running block's
// memory checks (Block::on_access) and, for atomics, performs the operation itself. This file must
// never be instrumented: a hook whose own atomics called hooks would recurse forever.
//
// Outside a kernel, or with the checks off (LLMLAB_EMU_RACECHECK=0 LLMLAB_EMU_INITCHECK=0), a hook
// returns at once: a thread-local load and a branch per access.

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "block.hpp"

namespace {

using llmlab::emu::detail::AccessKind;
using llmlab::emu::detail::Block;

// The whole cost of an access while the checks are off (or outside kernels): one thread-local load,
// one predictable branch and the return. tl_checked_block is non-null only while a block with
// checks on runs and has not failed (Block::run, Block::fail), so no second load is needed; the
// slow path is a tail call, so the fast path sets up no stack frame.
__attribute__((always_inline)) inline void hook(const volatile void* a, std::size_t n, AccessKind kind,
                                                void* pc) {
  if (Block* b = llmlab::emu::detail::tl_checked_block; __builtin_expect(b != nullptr, 0))
    b->on_access(reinterpret_cast<std::uintptr_t>(a), n, kind, reinterpret_cast<std::uintptr_t>(pc));
}

std::mutex wide_atomics;  // 128-bit atomics: no lock-free instruction without -mcx16

}  // namespace

#define LLMLAB_HOOK extern "C" __attribute__((visibility("default"), noinline))
#define LLMLAB_RA __builtin_return_address(0)

LLMLAB_HOOK void __tsan_init() { llmlab::emu::detail::note_hook_seen(); }
LLMLAB_HOOK void __tsan_func_entry(void*) {}
LLMLAB_HOOK void __tsan_func_exit() {}
LLMLAB_HOOK void __tsan_vptr_update(void**, void*) {}  // vtable pointers: not CUDA data
LLMLAB_HOOK void __tsan_vptr_read(void**) {}
LLMLAB_HOOK void __tsan_read_range(void* a, std::size_t n) { hook(a, n, AccessKind::read, LLMLAB_RA); }
LLMLAB_HOOK void __tsan_write_range(void* a, std::size_t n) { hook(a, n, AccessKind::write, LLMLAB_RA); }

#define LLMLAB_PLAIN_HOOKS(N)                                                                        \
  LLMLAB_HOOK void __tsan_read##N(void* a) { hook(a, N, AccessKind::read, LLMLAB_RA); }             \
  LLMLAB_HOOK void __tsan_write##N(void* a) { hook(a, N, AccessKind::write, LLMLAB_RA); }           \
  LLMLAB_HOOK void __tsan_unaligned_read##N(void* a) { hook(a, N, AccessKind::read, LLMLAB_RA); }   \
  LLMLAB_HOOK void __tsan_unaligned_write##N(void* a) { hook(a, N, AccessKind::write, LLMLAB_RA); } \
  LLMLAB_HOOK void __tsan_volatile_read##N(void* a) { hook(a, N, AccessKind::read, LLMLAB_RA); }    \
  LLMLAB_HOOK void __tsan_volatile_write##N(void* a) { hook(a, N, AccessKind::write, LLMLAB_RA); }  \
  LLMLAB_HOOK void __tsan_unaligned_volatile_read##N(void* a) {                                      \
    hook(a, N, AccessKind::read, LLMLAB_RA);                                                         \
  }                                                                                                  \
  LLMLAB_HOOK void __tsan_unaligned_volatile_write##N(void* a) {                                     \
    hook(a, N, AccessKind::write, LLMLAB_RA);                                                        \
  }
LLMLAB_PLAIN_HOOKS(1)
LLMLAB_PLAIN_HOOKS(2)
LLMLAB_PLAIN_HOOKS(4)
LLMLAB_PLAIN_HOOKS(8)
LLMLAB_PLAIN_HOOKS(16)

// Atomics: the memory order arguments are ignored (every operation is sequentially consistent).
#define SC __ATOMIC_SEQ_CST
#define LLMLAB_RMW_HOOK(N, T, NAME, EXPR)                                                            \
  LLMLAB_HOOK T __tsan_atomic##N##_##NAME(volatile T* a, T v, int) {                                 \
    hook(a, sizeof(T), AccessKind::atomic_write, LLMLAB_RA);                                         \
    return EXPR;                                                                                     \
  }
#define LLMLAB_ATOMIC_HOOKS(N, T)                                                                    \
  LLMLAB_HOOK T __tsan_atomic##N##_load(const volatile T* a, int) {                                  \
    hook(a, sizeof(T), AccessKind::atomic_read, LLMLAB_RA);                                          \
    return __atomic_load_n(a, SC);                                                                   \
  }                                                                                                  \
  LLMLAB_HOOK void __tsan_atomic##N##_store(volatile T* a, T v, int) {                               \
    hook(a, sizeof(T), AccessKind::atomic_write, LLMLAB_RA);                                         \
    __atomic_store_n(a, v, SC);                                                                      \
  }                                                                                                  \
  LLMLAB_RMW_HOOK(N, T, exchange, __atomic_exchange_n(a, v, SC))                                     \
  LLMLAB_RMW_HOOK(N, T, fetch_add, __atomic_fetch_add(a, v, SC))                                     \
  LLMLAB_RMW_HOOK(N, T, fetch_sub, __atomic_fetch_sub(a, v, SC))                                     \
  LLMLAB_RMW_HOOK(N, T, fetch_and, __atomic_fetch_and(a, v, SC))                                     \
  LLMLAB_RMW_HOOK(N, T, fetch_or, __atomic_fetch_or(a, v, SC))                                       \
  LLMLAB_RMW_HOOK(N, T, fetch_xor, __atomic_fetch_xor(a, v, SC))                                     \
  LLMLAB_RMW_HOOK(N, T, fetch_nand, __atomic_fetch_nand(a, v, SC))                                   \
  LLMLAB_HOOK int __tsan_atomic##N##_compare_exchange_strong(volatile T* a, T* c, T v, int, int) {   \
    hook(a, sizeof(T), AccessKind::atomic_write, LLMLAB_RA);                                         \
    return __atomic_compare_exchange_n(a, c, v, false, SC, SC);                                      \
  }                                                                                                  \
  LLMLAB_HOOK int __tsan_atomic##N##_compare_exchange_weak(volatile T* a, T* c, T v, int, int) {     \
    hook(a, sizeof(T), AccessKind::atomic_write, LLMLAB_RA);                                         \
    return __atomic_compare_exchange_n(a, c, v, true, SC, SC);                                       \
  }                                                                                                  \
  LLMLAB_HOOK T __tsan_atomic##N##_compare_exchange_val(volatile T* a, T c, T v, int, int) {         \
    hook(a, sizeof(T), AccessKind::atomic_write, LLMLAB_RA);                                         \
    __atomic_compare_exchange_n(a, &c, v, false, SC, SC);                                            \
    return c;                                                                                        \
  }
LLMLAB_ATOMIC_HOOKS(8, std::uint8_t)
LLMLAB_ATOMIC_HOOKS(16, std::uint16_t)
LLMLAB_ATOMIC_HOOKS(32, std::uint32_t)
LLMLAB_ATOMIC_HOOKS(64, std::uint64_t)

// 128-bit atomics under one lock (no kernel of ours uses them; defined so any instrumented code links).
using u128 = unsigned __int128;
#define LLMLAB_WIDE(NAME, KIND, BODY)                                                                \
  LLMLAB_HOOK u128 __tsan_atomic128_##NAME(volatile u128* a, u128 v, int) {                          \
    hook(a, 16, AccessKind::KIND, LLMLAB_RA);                                                        \
    std::lock_guard lock(wide_atomics);                                                              \
    const u128 old = *a;                                                                             \
    BODY;                                                                                            \
    return old;                                                                                      \
  }
LLMLAB_HOOK u128 __tsan_atomic128_load(const volatile u128* a, int) {
  hook(a, 16, AccessKind::atomic_read, LLMLAB_RA);
  std::lock_guard lock(wide_atomics);
  return *a;
}
LLMLAB_HOOK void __tsan_atomic128_store(volatile u128* a, u128 v, int) {
  hook(a, 16, AccessKind::atomic_write, LLMLAB_RA);
  std::lock_guard lock(wide_atomics);
  *a = v;
}
LLMLAB_WIDE(exchange, atomic_write, *a = v)
LLMLAB_WIDE(fetch_add, atomic_write, *a = old + v)
LLMLAB_WIDE(fetch_sub, atomic_write, *a = old - v)
LLMLAB_WIDE(fetch_and, atomic_write, *a = old & v)
LLMLAB_WIDE(fetch_or, atomic_write, *a = old | v)
LLMLAB_WIDE(fetch_xor, atomic_write, *a = old ^ v)
LLMLAB_WIDE(fetch_nand, atomic_write, *a = ~(old & v))
LLMLAB_HOOK int __tsan_atomic128_compare_exchange_strong(volatile u128* a, u128* c, u128 v, int, int) {
  hook(a, 16, AccessKind::atomic_write, LLMLAB_RA);
  std::lock_guard lock(wide_atomics);
  if (*a == *c) {
    *a = v;
    return 1;
  }
  *c = *a;
  return 0;
}
LLMLAB_HOOK int __tsan_atomic128_compare_exchange_weak(volatile u128* a, u128* c, u128 v, int m, int f) {
  return __tsan_atomic128_compare_exchange_strong(a, c, v, m, f);
}
LLMLAB_HOOK u128 __tsan_atomic128_compare_exchange_val(volatile u128* a, u128 c, u128 v, int m, int f) {
  __tsan_atomic128_compare_exchange_strong(a, &c, v, m, f);
  return c;
}

LLMLAB_HOOK void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(SC); }
LLMLAB_HOOK void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(SC); }
