/// \file
/// \brief llmlab.emu's memory-traffic counters (llmlab/emu/profile.hpp; docs/emulator.md
/// "Memory-traffic counters"); python/llmlab/emu.py adds profiling() and profile() on top.

#include <llmlab/emu/profile.hpp>

#include "bindings.hpp"

namespace llmlab::python {

void bind_emu_profile(py::module_& emu) {
  emu.def("profile_available", &llmlab::emu::profile_available,
          "Whether the kernels carry the access hooks the counters read (False under the asan "
          "preset).");
  emu.def("profile_enabled", &llmlab::emu::profile_enabled,
          "Whether launches are counted: set_profile_enabled's setting, else LLMLAB_EMU_PROFILE=1.");
  emu.def("set_profile_enabled", &llmlab::emu::set_profile_enabled, py::arg("on"),
          "Counts (or stops counting) the memory traffic of the next launches.");
  emu.def("reset_profile", &llmlab::emu::reset_profile, "Forgets every counter.");
  emu.def("profile_json", &llmlab::emu::profile_json,
          "The counters per kernel as a JSON array (llmlab.emu.profile() parses it).");
  emu.def("profile_table", &llmlab::emu::profile_table,
          "The counters per kernel as a printable table.");
  emu.def("annotate_next_launch_flops", &llmlab::emu::annotate_next_launch_flops, py::arg("flops"),
          "Attributes `flops` floating-point operations to the next kernel launched from this thread.");
  emu.def(
      "device_peaks",
      [] {
        const auto p = llmlab::emu::device_peaks();
        py::dict d;
        d["name"] = p.name;
        d["fp32_flops_per_s"] = p.fp32_flops_per_s;
        d["dram_bytes_per_s"] = p.dram_bytes_per_s;
        return d;
      },
      "The emulated device's datasheet peaks (LLMLAB_EMU_DEVICE: a100, h100 or a JSON file) for a\n"
      "roofline estimate: a dict of name, fp32_flops_per_s and dram_bytes_per_s.");
}

}  // namespace llmlab::python
