#pragma once

// One thread that runs jobs in the order they were posted: blocking file work (writing
// uploads, reading downloads) that must stay off the event loop and keep its order.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "support/logger.hpp"

namespace infsh::local {

class SerialExecutor {
 public:
  explicit SerialExecutor(const Logger& log);
  /// Stops (see stop()).
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  /// Queues a job. After stop() the job runs at once on the calling thread, so cleanup work
  /// (removing a half-written upload) is never lost. A job that throws is logged.
  void post(std::function<void()> job);

  /// Runs the jobs queued so far, then joins the thread. Idempotent.
  void stop();

 private:
  void run(std::function<void()>& job) const;
  void work();

  const Logger& log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace infsh::local
