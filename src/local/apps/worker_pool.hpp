#pragma once

// Threads that run app code, off the event loop. Jobs run in submission order.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "support/logger.hpp"

namespace infsh::local {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, const Logger& log);
  /// Stops (see stop()).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Queues a job; false once the pool is stopping. A job that throws is logged.
  bool submit(std::function<void()> job);

  /// Refuses new jobs, runs the ones queued, and joins the threads. Idempotent.
  void stop();

  std::size_t size() const noexcept { return threads_.size(); }

 private:
  void work();

  const Logger& log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace infsh::local
