/// \file
/// \brief llmlab.emu: the emulator's last diagnostic, its device-memory counters and notebook 00's
/// planted-bug kernels.
///
/// The schedule is the environment variable LLMLAB_EMU_SCHEDULE, which the emulator reads at every
/// launch; llmlab.emu.schedule() (python/llmlab/emu.py) sets it around a block of code.

#include <string>

#include "bindings.hpp"
#include "planted_bugs.cuh"

namespace llmlab::python {

void bind_emulator(py::module_& emu) {
  emu.def("last_diagnostic", &llmlab::emu::last_diagnostic,
          "The emulator's report of the last failed launch in this process (\"\" if none failed).");
  emu.def("reset_memory_counters", &llmlab::emu::reset_memory_counters,
          "Starts a measurement of device memory: peak = live bytes, allocated bytes and count 0.");
  emu.def(
      "memory_counters",
      [] {
        const auto m = llmlab::emu::memory_counters();
        py::dict d;
        d["live_bytes"] = m.live_bytes;
        d["peak_bytes"] = m.peak_bytes;
        d["allocated_bytes"] = m.allocated_bytes;
        d["allocations"] = m.allocations;
        return d;
      },
      "The device memory handed out since reset_memory_counters(): a dict of live_bytes, "
      "peak_bytes,\nallocated_bytes and allocations (cudaMalloc, as the emulator counts it).");

  emu.def("valid_schedule", &llmlab::emu::valid_schedule, py::arg("order"),
          "Whether LLMLAB_EMU_SCHEDULE may be `order`: \"forward\", \"reverse\" or "
          "\"random:SEED\".");
  emu.def(
      "tree_reduce_sum",
      [](const py::array& x, bool syncthreads) {
        require_ndim<2>(x, "tree_reduce_sum", "x");
        const auto rows = static_cast<std::int64_t>(x.shape(0)),
                   cols = static_cast<std::int64_t>(x.shape(1));
        auto dx = device_input<float>(x, "tree_reduce_sum", "x");
        testing::DeviceBuffer<float> dout(rows);
        launch_checked("tree_reduce_sum", [&] {
          return bugs::tree_reduce_sum(dx.cget(), dout.get(), rows, cols, syncthreads);
        });
        return to_numpy(dout, {static_cast<py::ssize_t>(rows)});
      },
      py::arg("x"), py::arg("syncthreads") = true,
      "Row sums of x (R, C) by a shared-memory tree; syncthreads=False leaves out its barriers\n"
      "(a planted bug whose result depends on the schedule).");
  emu.def(
      "run_planted_bug",
      [](const std::string& name) {
        launch_checked(name, [&] { return bugs::run_planted_bug(name); });
      },
      py::arg("name"),
      "Launches a kernel with a planted bug: \"divergent_barrier\", \"shuffle_after_exit\" or\n"
      "\"deadlock\". Raises llmlab.LaunchError with the emulator's diagnostic.");
  bind_emu_profile(emu);
  emu.attr("planted_bugs") = py::str(std::string(bugs::planted_bug_names)).attr("split")();
}

}  // namespace llmlab::python
