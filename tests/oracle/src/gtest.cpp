/// \file
/// \brief GoogleTest glue: an oracle report as an AssertionResult.

#include "llmlab/oracle/gtest.hpp"

namespace llmlab::oracle {

::testing::AssertionResult agrees(const Report& report) {
  if (report.pass) return ::testing::AssertionSuccess() << report.summary();
  return ::testing::AssertionFailure() << report.detail();
}

}  // namespace llmlab::oracle
