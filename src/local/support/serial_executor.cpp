#include "support/serial_executor.hpp"

#include <exception>

namespace infsh::local {

SerialExecutor::SerialExecutor(const Logger& log) : log_(log), thread_([this] { work(); }) {}

SerialExecutor::~SerialExecutor() { stop(); }

void SerialExecutor::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      jobs_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  run(job);
}

void SerialExecutor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SerialExecutor::run(std::function<void()>& job) const {
  try {
    job();
  } catch (const std::exception& e) {
    log_.error(std::string("file job failed: ") + e.what());
  } catch (...) {
    log_.error("file job failed with an unknown exception");
  }
}

void SerialExecutor::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    run(job);
  }
}

}  // namespace infsh::local
