#pragma once

// Threads that run app code, off the event loop. Jobs run in submission order.

#include <cstddef>
#include <functional>

#include "support/job_queue.hpp"
#include "support/logger.hpp"

namespace infsh::local {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, const Logger& log)
      : jobs_(threads, log, "worker job", JobQueue::Late::refuse) {}
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues a job; false once the pool is stopping. A job that throws is logged.
  bool submit(std::function<void()> job) { return jobs_.push(std::move(job)); }

  /// Refuses new jobs, runs the ones queued, and joins the threads. Idempotent. The destructor
  /// stops too.
  void stop() { jobs_.stop(); }

  std::size_t size() const noexcept { return jobs_.threads(); }

 private:
  JobQueue jobs_;
};

}  // namespace infsh::local
