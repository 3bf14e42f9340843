#pragma once

// One thread that runs jobs in the order they were posted: blocking file work (writing
// uploads, reading downloads) that must stay off the event loop and keep its order.

#include <functional>

#include "support/job_queue.hpp"
#include "support/logger.hpp"

namespace infsh::local {

class SerialExecutor {
 public:
  explicit SerialExecutor(const Logger& log)
      : jobs_(1, log, "file job", JobQueue::Late::run_on_caller) {}
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  /// Queues a job. After stop() the job runs at once on the calling thread, so cleanup work
  /// (removing a half-written upload) is never lost. A job that throws is logged.
  void post(std::function<void()> job) { jobs_.push(std::move(job)); }

  /// Runs the jobs queued so far, then joins the thread. Idempotent. The destructor stops too.
  void stop() { jobs_.stop(); }

 private:
  JobQueue jobs_;
};

}  // namespace infsh::local
