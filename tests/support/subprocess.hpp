#pragma once

// Child processes for tests: programs the suite starts (infsh-local, openssl s_server, ...)
// with their output readable line by line. The child is terminated when the object goes away.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace inferencesh::testing {

/// Runs a program to completion with its output discarded; returns its exit status, or -1 when
/// it could not be started or was killed by a signal.
int run_command(const std::vector<std::string>& argv);

/// A running child process whose stdout and stderr are read through a pipe.
class Subprocess {
 public:
  /// Starts argv[0] (looked up in PATH) with the given arguments and extra environment entries
  /// ("NAME=value"). Throws std::runtime_error when it cannot be started.
  explicit Subprocess(const std::vector<std::string>& argv,
                      const std::vector<std::string>& environment = {});
  /// Kills the child (SIGKILL) if it is still running and reaps it.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Reads output until a line containing `needle` arrives; nullopt on timeout or end of output.
  std::optional<std::string> read_line_containing(const std::string& needle,
                                                  std::chrono::milliseconds timeout);
  /// Reads one line of output; nullopt on timeout or end of output.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Everything read so far (lines returned by read_line included).
  const std::string& output() const noexcept { return seen_; }

  /// Sends a signal to the child.
  void signal(int number) const;
  /// Waits for the child to exit; returns its exit status (128 + signal when killed), or
  /// nullopt on timeout. Output keeps being drained while waiting, and what the child wrote
  /// before it exited is in output() once this returns its status.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);

  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::string buffer_;  // read but not yet returned as a line
  std::string seen_;
  std::optional<int> exit_status_;
};

}  // namespace inferencesh::testing
