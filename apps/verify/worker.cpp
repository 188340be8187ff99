/// \file
/// \brief Workers: fork, a pipe of CBOR messages, a timeout, and what a dead worker's case becomes.
///
/// Messages (a 4-byte length, then CBOR, which keeps NaN and infinities that JSON text cannot):
/// `{"t":"call","k":K,"sym":S}` before call K of the sweep, `{"t":"row","row":…}` per verdict,
/// `{"t":"done"}`, `{"t":"setup","msg":…}` when loading or preparing failed, `{"t":"threw","msg":…}`
/// when the sweep threw.

#include "verify/worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace llmlab::oracle {
// What crosses the pipe of a verdict: every field of the report (CBOR keeps NaN and infinities).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Rule, kind, k, floor_ulps, ulps, K, tol, dtype, magnitude)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Report, name, rule, pass, count, max_abs_err, max_rel_err,
                                   baseline_err, budget, ratio, first_bad, got_at_bad, want_at_bad,
                                   first_special, got_at_special, want_at_special, specials, shape,
                                   error)
}  // namespace llmlab::oracle

namespace llmlab::app {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CaseResult, component, shape, dtype, report, not_checked)

namespace {

using nlohmann::json;

/// Writes all `n` bytes at `p`; a write to a parent that is gone ends the worker.
void write_all(int fd, const void* p, std::size_t n) {
  const auto* bytes = static_cast<const std::uint8_t*>(p);
  for (std::size_t at = 0; at < n;) {
    const ssize_t w = ::write(fd, bytes + at, n - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ::_exit(3);
    at += static_cast<std::size_t>(w);
  }
}

/// Writes one message: its length, then its CBOR.
void send(int fd, const json& message) {
  const std::vector<std::uint8_t> body = json::to_cbor(message);
  const auto n = static_cast<std::uint32_t>(body.size());
  write_all(fd, &n, sizeof n);
  write_all(fd, body.data(), body.size());
}

/// "SIGSEGV (Segmentation fault)".
std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return (abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig)) + " (" +
         strsignal(sig) + ")";
}

/// "2 s", "0.5 s".
std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

/// A forked worker running `body` (which writes messages to the fd it is given), and its pipe.
class Worker {
 public:
  explicit Worker(const std::function<void(int)>& body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw SetupError(std::string("cannot create a pipe for a worker: ") + std::strerror(errno));
    std::cout.flush();  // nothing buffered may be written twice by a worker that calls exit()
    std::cerr.flush();
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      throw SetupError(std::string("cannot fork a worker: ") + std::strerror(errno));
    }
    if (pid_ == 0) {  // the worker: whatever the library prints goes to stderr, never into --json
      ::close(fds[0]);
      ::dup2(STDERR_FILENO, STDOUT_FILENO);
      // A crash ends the worker by its signal, whatever handler the parent had. (ASan intercepts
      // signal() and keeps its own: under the asan preset a segfault is its report and status 1.)
      for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
      body(fds[1]);
      ::_exit(0);  // no static destructors, no atexit handlers of the parent's
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap();
    }
    if (fd_ >= 0) ::close(fd_);
  }

  /// The next message, or nullopt when the worker died or stayed silent for `timeout_s` (then
  /// `death` says how: "crashed: SIGSEGV (…)", "did not return within 2 s", "exited with status 0").
  std::optional<json> next(double timeout_s, std::string& death) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration<double>(timeout_s);
    for (;;) {
      try {
        if (std::optional<json> m = frame()) return m;
      } catch (const json::exception&) {  // a worker whose memory a kernel scribbled over
        ::kill(pid_, SIGKILL);
        reap();
        death = "sent a message that does not parse (was its memory overwritten?)";
        return std::nullopt;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(pid_, SIGKILL);
        reap();
        death = "did not return within " + seconds_text(timeout_s) + " (--timeout)";
        return std::nullopt;
      }
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) continue;
      std::uint8_t chunk[65536];
      const ssize_t got = ::read(fd_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {  // end of the pipe: the worker is gone (or about to be)
        const int status = reap();
        death = WIFSIGNALED(status) ? "crashed: " + signal_text(WTERMSIG(status))
                                    : "ended the process with exit status " +
                                          std::to_string(WEXITSTATUS(status)) +
                                          " (a kernel library must not call exit; under a "
                                          "sanitizer, see its report above)";
        return std::nullopt;
      }
      buffer_.insert(buffer_.end(), chunk, chunk + got);
    }
  }

 private:
  /// A whole message from the buffer, if one has arrived.
  std::optional<json> frame() {
    std::uint32_t n = 0;
    if (buffer_.size() < sizeof n) return std::nullopt;
    std::memcpy(&n, buffer_.data(), sizeof n);
    if (buffer_.size() < sizeof n + n) return std::nullopt;
    json m = json::from_cbor(buffer_.begin() + sizeof n, buffer_.begin() + sizeof n + n);
    buffer_.erase(buffer_.begin(), buffer_.begin() + sizeof n + n);
    return m;
  }

  /// Waits for the worker; @returns its wait status.
  int reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::vector<std::uint8_t> buffer_;
};

/// A worker's body: load the library, prepare it, then `work`; failures become messages.
std::function<void(int)> in_worker(const Isolation& where,
                                   const std::function<void(KernelLibrary&)>& prepare,
                                   std::function<void(KernelLibrary&, int)> work) {
  return [&where, &prepare, work = std::move(work)](int fd) {
    std::optional<KernelLibrary> lib;
    try {
      lib.emplace(where.path, where.shown);
      prepare(*lib);
    } catch (const std::exception& e) {
      send(fd, {{"t", "setup"}, {"msg", e.what()}});
      return;
    }
    try {
      work(*lib, fd);
      send(fd, {{"t", "done"}});
    } catch (const std::exception& e) {
      send(fd, {{"t", "threw"}, {"msg", e.what()}});
    }
  };
}

/// A row for a failure that belongs to no single output of a case.
CaseResult failure_row(const std::string& component, const std::string& shape,
                       const std::string& dtype, const std::string& error) {
  return failed_case(component, shape, dtype, oracle::Rule::exact(), error);
}

}  // namespace

std::string probe_library(const Isolation& where,
                          const std::function<void(KernelLibrary&)>& prepare) {
  Worker worker(in_worker(where, prepare, [](KernelLibrary&, int) {}));
  std::string death;
  const std::optional<json> m = worker.next(where.timeout_s, death);
  if (!m) return death;
  if (m->value("t", "") == "setup") throw SetupError(m->value("msg", "(no message)"));
  return "";
}

void sweep_isolated(const Isolation& where, const Component& component,
                    const std::function<void(KernelLibrary&)>& prepare, const Emit& emit) {
  std::map<int, std::string> failed;  // calls a worker died in, and how: replayed as failures
  int start = 0;                      // the first call a worker makes (earlier ones are skipped)
  int last_failure = -1;
  for (;;) {
    Worker worker(in_worker(where, prepare, [&](KernelLibrary& lib, int fd) {
      int k = -1;  // the sweep's calls, numbered; the same in every worker (the sweep is fixed)
      lib.set_gate([&](const char* symbol) -> CallDecision {
        if (++k < start) return {CallDecision::Kind::skip, ""};
        send(fd, {{"t", "call"}, {"k", k}, {"sym", symbol}});
        if (const auto it = failed.find(k); it != failed.end())
          return {CallDecision::Kind::fail, it->second};
        return {};
      });
      component.sweep(lib, [&](CaseResult r) {
        if (k >= start) send(fd, {{"t", "row"}, {"row", r}});
      });
    }));

    int call = -1;  // the last call announced, its symbol, and whether its verdicts arrived
    std::string symbol, shape = "-", dtype = "-", death;
    bool answered = false;
    while (const std::optional<json> m = worker.next(where.timeout_s, death)) try {
      const std::string t = m->at("t");
      if (t == "call") {
        call = m->at("k");
        symbol = m->at("sym");
        answered = false;
      } else if (t == "row") {
        CaseResult r = m->at("row").get<CaseResult>();
        shape = r.shape;
        dtype = r.dtype;
        answered = true;
        emit(std::move(r));
      } else if (t == "done") {
        return;
      } else if (t == "setup") {
        emit(failure_row(component.name(), "-", "-", m->at("msg")));
        return;
      } else {  // "threw"
        death = "stopped: " + m->at("msg").get<std::string>();
        break;
      }
    } catch (const json::exception&) {  // well-formed CBOR, but not our message
      death = "sent a message that is not one of ours (was its memory overwritten?)";
      break;
    }

    if (call < 0) {
      emit(failure_row(component.name(), "-", "-",
                       "the worker " + death + " before the sweep's first call"));
      return;
    }
    if (call <= last_failure) {  // no progress since the last restart: report and give up
      emit(failure_row(component.name(), shape, dtype,
                       "the worker " + death + " again after `" + symbol +
                           "`; the rest of this component's sweep is not run"));
      return;
    }
    last_failure = call;
    if (!answered) {  // it died inside the call: that case fails, named by the next worker
      failed[call] = "`" + symbol + "` " + death;
      start = call;
    } else {  // its verdicts arrived, then it died (freeing a corrupted heap, say)
      emit(failure_row(component.name(), shape, dtype,
                       "after `" + symbol + "` returned, the worker " + death));
      start = call + 1;
    }
  }
}

}  // namespace llmlab::app
