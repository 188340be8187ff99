#pragma once
/// \file
/// \ingroup group_oracle
/// \brief GoogleTest assertions on oracle reports: `EXPECT_TRUE(llmlab::oracle::agrees(report))`.

#include <gtest/gtest.h>

#include "llmlab/oracle/oracle.hpp"

namespace llmlab::oracle {

/// Success carrying report.summary(), or failure carrying report.detail() — so a failing test prints
/// both errors, the ratio and the first offending index.
::testing::AssertionResult agrees(const Report& report);

}  // namespace llmlab::oracle

/// Expect / assert that an oracle report passed; on failure the report's detail is printed.
#define LLMLAB_EXPECT_AGREES(report) EXPECT_TRUE(::llmlab::oracle::agrees(report))
/// Assert that an oracle report passed (the test stops on failure); the report's detail is printed.
#define LLMLAB_ASSERT_AGREES(report) ASSERT_TRUE(::llmlab::oracle::agrees(report))
