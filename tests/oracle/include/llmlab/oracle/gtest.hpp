#pragma once
/// \file
/// \ingroup group_oracle
/// \brief GoogleTest assertions on oracle reports: `LLMLAB_EXPECT_AGREES(report)`.

#include <gtest/gtest.h>

#include "llmlab/oracle/oracle.hpp"

namespace llmlab::oracle {

/// Success carrying report.summary(), or failure carrying report.detail() — so a failing test prints
/// both errors, the ratio and the first offending index.
::testing::AssertionResult agrees(const Report& report);

}  // namespace llmlab::oracle

/// Expect that an oracle report passed. A failure leads with the oracle's own report — both errors,
/// the ratio, the first bad index with the two values — not with the expression that was checked.
/// (The `switch` makes the macro one statement, safe before an `else`, as GoogleTest's own are.)
#define LLMLAB_EXPECT_AGREES(report)                                                   \
  switch (0)                                                                           \
  case 0:                                                                              \
  default:                                                                             \
    if (const ::llmlab::oracle::Report& llmlab_report_ = (report); llmlab_report_.pass) { \
    } else                                                                             \
      ADD_FAILURE() << llmlab_report_.detail()
/// Assert that an oracle report passed: as LLMLAB_EXPECT_AGREES, and the test stops on failure.
#define LLMLAB_ASSERT_AGREES(report)                                                   \
  switch (0)                                                                           \
  case 0:                                                                              \
  default:                                                                             \
    if (const ::llmlab::oracle::Report& llmlab_report_ = (report); llmlab_report_.pass) { \
    } else                                                                             \
      GTEST_FAIL() << llmlab_report_.detail()
