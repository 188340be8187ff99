#pragma once
/// \file
/// \ingroup group_oracle
/// \brief `expect_all_agree`: every named output of a kernel run judged under its rule, in
/// GoogleTest (component.hpp's `judge` without GoogleTest).

#include <string>

#include "llmlab/oracle/gtest.hpp"
#include "llmlab/testing/component.hpp"

namespace llmlab::testing {

/// EXPECTs every expected output in `got` to agree under its rule (each failure prints the oracle's
/// detail: both errors, the ratio, the first bad index).
/// @param prefix names the case in messages   @param expected from `<c>_expected`
/// @param got the kernel's outputs by name
inline void expect_all_agree(const std::string& prefix, const std::vector<Expected>& expected,
                             const Outputs& got) {
  for (const oracle::Report& r : judge(prefix, expected, got)) LLMLAB_EXPECT_AGREES(r);
}

/// Whether every output agrees (for the deliberately wrong kernels, which must not).
inline bool all_agree(const std::string& prefix, const std::vector<Expected>& expected,
                      const Outputs& got) {
  for (const oracle::Report& r : judge(prefix, expected, got))
    if (!r.pass) return false;
  return true;
}

}  // namespace llmlab::testing
