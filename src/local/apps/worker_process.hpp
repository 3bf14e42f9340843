#pragma once

// One app program running as `<program> worker` (docs/worker-protocol.md): the child process,
// its standard streams and a reader thread. The reader turns stdout lines into messages and
// stderr into lines, notices the exit (a pidfd, else the end of stdout) and reaps the child, so
// no zombie is left. What it reads is queued as events in the order it happened: stderr the
// worker wrote before a message comes before that message. The thread driving the worker (the
// one running a task) takes them with next(); while detached (between tasks), stderr lines and
// stray messages go to a callback instead (the runtime's log).
//
// The child gets a socket as stdin (a write to a worker that died fails with EPIPE instead of
// raising SIGPIPE in the runtime), pipes as stdout and stderr, no other descriptor of the
// runtime, an empty signal mask with default dispositions, and the runtime's process group
// (Ctrl-C reaches it; workers ignore SIGINT and let the runtime stop them).

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace infsh::local {

class WorkerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    std::string program;
    std::vector<std::string> arguments;    ///< after the program name, e.g. {"worker"}
    std::vector<std::string> environment;  ///< the whole environment, "NAME=value"
    /// Receives stderr lines and unexpected messages while detached; called on the reader
    /// thread, never under this object's lock.
    std::function<void(const std::string& line)> on_idle_output;
  };

  struct Event {
    enum class Kind {
      message,      ///< a protocol message (`message`)
      output,       ///< a line of stderr, or a stdout line that is not a message (`line`)
      exited,       ///< the process has ended and been reaped (`line`: how it ended)
      interrupted,  ///< interrupt() was called
      timed_out,    ///< the deadline passed
    };
    Kind kind = Kind::timed_out;
    nlohmann::json message;
    std::string line;
  };

  /// The stderr lines kept for failure messages.
  static constexpr std::size_t kStderrTail = 20;

  /// Starts the program, attached. Throws std::runtime_error when it cannot be started (the
  /// message says why: no such file, permission denied, ...).
  explicit WorkerProcess(Options options);
  /// Kills the process (SIGKILL) if it still runs, reaps it and joins the reader.
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// Writes `message` as one line to the worker's stdin. False when the worker cannot take it:
  /// it is gone, or `deadline` passed before the whole line was written (the stream is then
  /// broken, and every later send fails too).
  bool send(const nlohmann::json& message, Clock::time_point deadline);

  /// While attached, stderr lines and messages are queued for next(); while detached they go
  /// to on_idle_output, and so do the events still queued when it detaches. Either way a
  /// pending interrupt() is forgotten: it belonged to the previous exchange.
  void attach(bool attached);

  /// The next event; Kind::interrupted once after each interrupt(); Kind::timed_out once
  /// `deadline` has passed, even while events wait (so a flood cannot outrun it); Kind::exited
  /// (every time) once the process ended and every event before that was taken.
  Event next(Clock::time_point deadline);

  /// Makes next() return Kind::interrupted. Safe from any thread; takes only this object's
  /// lock, so it may be called under other locks.
  void interrupt();

  /// SIGKILL, unless the process has already been reaped.
  void kill() noexcept;
  /// Waits until the process has ended, been reaped and its output read; false when
  /// `deadline` passed first.
  bool wait_exit(Clock::time_point deadline);
  bool exited() const;
  /// How the process ended ("exited with status 3", ...); empty while it runs.
  std::string exit_description() const;
  /// The last lines it wrote to stderr (at most kStderrTail), oldest first, since it started
  /// or forget_stderr() was last called.
  std::vector<std::string> stderr_tail() const;
  void forget_stderr();

 private:
  void read_loop();
  // Reads what is available; false at end of file. Complete lines are delivered.
  bool read_stdout();
  bool read_stderr();
  void stdout_line(std::string line);
  void stderr_line(std::string line);
  void deliver(Event event);
  // waitpid(); true once reaped.
  bool reap(bool block);

  Options options_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  int pidfd_ = -1;
  std::string stdout_buffer_;  // reader thread only
  std::string stderr_buffer_;  // reader thread only
  bool stderr_open_ = true;    // reader thread only

  std::mutex write_mutex_;
  bool write_broken_ = false;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> events_;
  std::deque<std::string> stderr_tail_;
  bool attached_ = true;
  bool interrupted_ = false;
  bool reaped_ = false;    // waitpid() has returned its status: pid_ may name another process now
  bool finished_ = false;  // reaped, and the reader is done
  int wait_status_ = 0;
  std::string failure_;  // why the runtime ended it, when it did (a protocol violation)

  std::thread reader_;
};

}  // namespace infsh::local
