#include "handler_executor.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace inferencesh::detail {

struct HandlerExecutor::Shared {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::function<void()>> queue;
  std::size_t max_threads = 1;
  std::size_t threads = 0;
  std::size_t idle = 0;
  bool stopping = false;

  static void run(const std::shared_ptr<Shared>& shared) {
    std::unique_lock lock(shared->mutex);
    for (;;) {
      ++shared->idle;
      shared->changed.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
      --shared->idle;
      if (shared->stopping) break;
      auto work = std::move(shared->queue.front());
      shared->queue.pop_front();
      lock.unlock();
      try {
        work();
      } catch (...) {
        // The work reports its own outcome; nothing may escape a detached thread.
      }
      work = nullptr;  // its captures go now, not with the next piece
      lock.lock();
    }
    --shared->threads;
  }
};

HandlerExecutor::HandlerExecutor(std::size_t max_threads) : shared_(std::make_shared<Shared>()) {
  shared_->max_threads = max_threads == 0 ? 1 : max_threads;
}

HandlerExecutor::~HandlerExecutor() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
    dropped.swap(shared_->queue);
  }
  shared_->changed.notify_all();
  // `dropped` goes here, outside the lock: its captures may own anything.
}

void HandlerExecutor::post(std::function<void()> work) {
  bool start = false;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->queue.push_back(std::move(work));
    if (shared_->idle < shared_->queue.size() && shared_->threads < shared_->max_threads) {
      ++shared_->threads;
      start = true;
    }
  }
  if (start) {
    std::thread([shared = shared_] { Shared::run(shared); }).detach();
  } else {
    shared_->changed.notify_one();
  }
}

}  // namespace inferencesh::detail
