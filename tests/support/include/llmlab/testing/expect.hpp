#pragma once
/// \file
/// \brief GoogleTest expectations on llmlab::Error: the call throws, and its message names what it
/// should (the function, the argument, the shapes).

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "llmlab/core/error.hpp"

namespace llmlab::testing {

/// Runs `f` and expects an llmlab::Error whose message contains every one of `parts` (at least
/// one); a failure names the message and the missing part, or says nothing was thrown.
inline void expect_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "expected llmlab::Error mentioning \"" << *parts.begin()
                  << "\", nothing thrown";
  } catch (const llmlab::Error& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message \"" << e.what() << "\" does not mention \"" << part << "\"";
  }
}

}  // namespace llmlab::testing
