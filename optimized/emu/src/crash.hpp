#pragma once
// A fault inside kernel code (SIGSEGV, SIGBUS, SIGFPE) still kills the process, as on a GPU it
// kills the context; but first the emulator names what a GPU would not: the kernel, the launch,
// the block and thread, and the source line of the faulting instruction.

namespace llmlab::emu::detail {

/// Installs the fault reporter once per process (later calls do nothing). It chains to the handlers
/// installed before it: a fault outside kernel code, or after the report, goes to them unchanged.
/// Not under AddressSanitizer, whose own report is followed by the block and thread (launch.cpp).
void install_fault_reporter();

}  // namespace llmlab::emu::detail
