#pragma once

// Test helpers for the app library: an app program run as a child process with its stdin,
// stdout and stderr each on their own pipe (the worker protocol needs all three), and a
// temporary directory.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/temp_dir.hpp"

namespace infsh::testing {

using namespace std::chrono_literals;

/// The test app program (tests/app/programs/test_app.cpp).
inline const std::string kTestApp = INFSH_TEST_APP_PROGRAM;

/// A child process. stdout is read line by line on demand; stderr is drained by a thread, so a
/// chatty child never blocks. The child is killed (SIGKILL) when the object goes away.
class AppProcess {
 public:
  explicit AppProcess(const std::vector<std::string>& argv,
                      const std::vector<std::string>& environment = {});
  ~AppProcess();
  AppProcess(const AppProcess&) = delete;
  AppProcess& operator=(const AppProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Writes `line` and "\n" to the child's stdin.
  void write_line(const std::string& line);
  /// Writes a JSON message as one line.
  void send(const nlohmann::json& message) { write_line(message.dump()); }
  /// Closes the child's stdin (end of input).
  void close_stdin();

  /// One line of stdout without "\n"; nullopt on timeout or end of output.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s);
  /// One stdout line parsed as JSON; nullopt on timeout or end of output. A line that is not
  /// JSON fails the test (the protocol was corrupted).
  std::optional<nlohmann::json> read_message(std::chrono::milliseconds timeout = 10s);
  /// Reads messages until one of `type` arrives and returns it; earlier ones are appended to
  /// `before` when given. nullopt on timeout or end of output.
  std::optional<nlohmann::json> read_until(const std::string& type,
                                           std::vector<nlohmann::json>* before = nullptr,
                                           std::chrono::milliseconds timeout = 10s);
  /// All remaining stdout until the child closes it.
  std::string read_all(std::chrono::milliseconds timeout = 10s);

  /// Everything the child wrote to stderr so far.
  std::string error_output() const;
  /// Waits until stderr contains `needle`; false on timeout.
  bool wait_for_error_output(const std::string& needle, std::chrono::milliseconds timeout = 10s);
  /// Waits until stderr is closed and drained (the child exited, or closed it); false on
  /// timeout. After the exit, the last bytes may still be on their way to the reader thread.
  bool wait_for_error_end(std::chrono::milliseconds timeout = 10s);

  void signal(int number) const;
  /// The exit status (128 + signal when killed), or nullopt on timeout. Once it returns a
  /// status, error_output() holds everything the child wrote to stderr (within the timeout).
  std::optional<int> wait(std::chrono::milliseconds timeout = 10s);

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
  std::string out_buffer_;
  bool out_eof_ = false;
  std::optional<int> status_;
  mutable std::mutex err_mutex_;
  std::condition_variable err_changed_;
  std::string err_text_;
  bool err_ended_ = false;
  std::thread err_reader_;
};

/// Result of running a program to the end.
struct ProgramResult {
  int status = -1;
  std::string out;
  std::string err;
};

/// Runs a program with its stdin closed and returns its status and output.
ProgramResult run_program(const std::vector<std::string>& argv,
                          const std::vector<std::string>& environment = {});

using inferencesh::testing::read_file;
using inferencesh::testing::TempDir;

/// Sets an environment variable for the scope, restoring the previous value after.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> previous_;
};

}  // namespace infsh::testing
