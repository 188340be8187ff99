#pragma once
/// \file
/// \brief `ScopedEnv`: an environment variable set for one scope (e.g. LLMLAB_EMU_SCHEDULE).

#include <cstdlib>
#include <optional>
#include <string>

namespace llmlab::testing {

/// An environment variable set for the scope; its previous value (or its absence) comes back after.
class ScopedEnv {
 public:
  /// Sets the environment variable `name` to `value` until this object goes out of scope.
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_.c_str(), old_->c_str(), 1);
    else
      unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

}  // namespace llmlab::testing
