#pragma once

// Jobs run off the event loop by a fixed set of threads, in the order they were queued: the one
// queue behind the worker pool (app code) and the serial executor (blocking file work).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/logger.hpp"

namespace infsh::local {

class JobQueue {
 public:
  /// What push() does with a job once the queue is stopping.
  enum class Late {
    refuse,        ///< drop it (the caller learns from push() returning false)
    run_on_caller  ///< run it at once on the pushing thread, so cleanup work is never lost
  };

  /// Starts `threads` threads (at least 1). A job that throws is logged as "<what> failed: ...".
  JobQueue(std::size_t threads, const Logger& log, std::string what, Late late);
  /// Stops (see stop()).
  ~JobQueue();
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  /// Queues a job and returns true; once the queue is stopping, returns false after doing what
  /// `late` says.
  bool push(std::function<void()> job);

  /// Refuses new jobs, runs the ones queued, and joins the threads. Idempotent; a concurrent
  /// second call returns once the first has joined them.
  void stop();

  std::size_t threads() const noexcept { return thread_count_; }

 private:
  void run(std::function<void()>& job) const;
  void work();

  const Logger& log_;
  const std::string what_;
  const Late late_;
  const std::size_t thread_count_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::mutex join_mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace infsh::local
