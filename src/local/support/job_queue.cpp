#include "support/job_queue.hpp"

#include <exception>
#include <utility>

namespace infsh::local {

JobQueue::JobQueue(std::size_t threads, const Logger& log, std::string what, Late late)
    : log_(log), what_(std::move(what)), late_(late), thread_count_(threads == 0 ? 1 : threads) {
  threads_.reserve(thread_count_);
  for (std::size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { work(); });
}

JobQueue::~JobQueue() { stop(); }

bool JobQueue::push(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      jobs_.push_back(std::move(job));
      wake_.notify_one();
      return true;
    }
  }
  if (late_ == Late::run_on_caller) run(job);
  return false;
}

void JobQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  std::lock_guard join(join_mutex_);
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

void JobQueue::run(std::function<void()>& job) const {
  try {
    job();
  } catch (const std::exception& e) {
    log_.error(what_ + " failed: " + e.what());
  } catch (...) {
    log_.error(what_ + " failed with an unknown exception");
  }
}

void JobQueue::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    run(job);
  }
}

}  // namespace infsh::local
