#include "common/cancellation.hpp"

namespace inferencesh::common {

bool CancellationState::cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cancelled_.load(std::memory_order_relaxed)) return false;
    cancelled_.store(true, std::memory_order_release);
    for (const auto& entry : callbacks_) entry.second();
    // Under the lock: a waiter that sees the flag may destroy this state as soon as it returns.
    changed_.notify_all();
  }
  return true;
}

bool CancellationState::wait_for(std::chrono::milliseconds duration) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, duration, [this] { return is_cancelled(); });
}

std::uint64_t CancellationState::add_callback(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (is_cancelled()) {
    callback();
    return 0;
  }
  const std::uint64_t id = next_id_++;
  callbacks_.emplace_back(id, std::move(callback));
  return id;
}

void CancellationState::remove_callback(std::uint64_t id) noexcept {
  if (id == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = callbacks_.begin(); it != callbacks_.end(); ++it) {
    if (it->first == id) {
      callbacks_.erase(it);
      return;
    }
  }
}

}  // namespace inferencesh::common
