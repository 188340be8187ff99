#pragma once
/// \file
/// \brief One `bind_<component>(ref, cuda)` per component, each in `python/src/<component>.cpp` and
/// registered there with LLMLAB_PYTHON_REGISTER(component), so a new component edits no shared
/// file: it binds into both submodules, `llmlab.ref.<name>` and `llmlab.cuda.<name>`
/// (python/README.md, "Adding a component").

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "arrays.hpp"

namespace llmlab::python {

/// A component's bindings: defines its names in llmlab.ref and llmlab.cuda.
using Binder = void (*)(py::module_& ref, py::module_& cuda);

/// Adds a component's binder; @returns true (so it can initialise a namespace-scope constant).
bool register_binder(const char* component, Binder bind);

/// Calls every registered binder, in the order of the components' names.
void bind_components(py::module_& ref, py::module_& cuda);

/// llmlab.Tokenizer (the reference, llmlab::ref) and llmlab.FastTokenizer (llmlab::fast).
void bind_tokenizer(py::module_& m);
/// llmlab.emu: the emulator's last diagnostic and the planted-bug kernels of notebook 00.
void bind_emulator(py::module_& emu);
/// llmlab.emu's memory-traffic counters (emu_profile.cpp), called by bind_emulator.
void bind_emu_profile(py::module_& emu);

}  // namespace llmlab::python

/// Registers `llmlab::python::bind_<component>(ref, cuda)`, defined in the same file
/// (`python/src/<component>.cpp`), at module load.
#define LLMLAB_PYTHON_REGISTER(component)                              \
  namespace {                                                          \
  [[maybe_unused]] const bool llmlab_python_registered =               \
      ::llmlab::python::register_binder(#component, &::llmlab::python::bind_##component); \
  }
