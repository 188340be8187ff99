#pragma once
/// \file
/// \brief What every component's sweep shares: host values in the element type that crosses the
/// C ABI (float, or std::uint16_t bf16 bits), and judging a kernel call's named outputs against
/// the component description's expected outputs.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "llmlab/core/dtype.hpp"
#include "llmlab/testing/component.hpp"
#include "llmlab/testing/values.hpp"
#include "verify/library.hpp"
#include "verify/registry.hpp"

namespace llmlab::app {

using testing::device_values;

/// "f32" / "bf16", as the table prints dtypes.
inline std::string dtype_label(DType t) { return t == DType::bf16 ? "bf16" : "f32"; }

/// Judges one kernel call: when `rc` (or the synchronisation after it) failed, one failed row per
/// expected output naming the symbol and the error; otherwise each expected output is read back
/// from `outputs` and judged under its rule. Rows are named `<component>/<output>`.
/// @param lib the library   @param component its name   @param shape the case's label
/// @param dtype the case's dtype   @param expected the outputs this call writes (`<c>_expected`)
/// @param symbol the C function called   @param rc what it returned
/// @param outputs the device buffers it wrote, by output name   @param emit receives each row
inline void emit_judged(const KernelLibrary& lib, const std::string& component,
                        const std::string& shape, DType dtype,
                        const std::vector<testing::Expected>& expected, const char* symbol,
                        int rc,
                        std::initializer_list<std::pair<const char*, const DeviceOutput*>> outputs,
                        const Emit& emit) {
  if (lib.take_not_exported()) {  // --partial, and the library lacks this function
    for (const testing::Expected& e : expected) {
      CaseResult r{component + "/" + e.name, shape, dtype_label(dtype), {}, {}};
      r.report.rule = e.rule;
      r.not_checked = std::string("`") + symbol + "` is not in the library";
      emit(std::move(r));
    }
    return;
  }
  const std::string err = call_error(lib, symbol, rc);
  for (const testing::Expected& e : expected) {
    const std::string row = component + "/" + e.name;
    if (!err.empty()) {
      emit(failed_case(row, shape, dtype_label(dtype), e.rule, err));
      continue;
    }
    testing::Outputs got;
    for (const auto& [name, out] : outputs)
      if (e.name == name) got[name] = out->widened();
    for (oracle::Report& r : testing::judge(row + " " + dtype_label(dtype) + " " + shape, {e}, got))
      emit({row, shape, dtype_label(dtype), std::move(r), {}});
  }
}

}  // namespace llmlab::app
