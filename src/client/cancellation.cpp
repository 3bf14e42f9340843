#include "inferencesh/cancellation.hpp"

#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace inferencesh {
namespace detail {

struct CancellationState {
  std::mutex mutex;
  std::condition_variable changed;
  bool cancelled = false;
  unsigned long long next_id = 1;
  std::vector<std::pair<unsigned long long, std::function<void()>>> callbacks;
};

}  // namespace detail

CancellationToken::CancellationToken() : state_(std::make_shared<detail::CancellationState>()) {}

void CancellationToken::cancel() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->cancelled) return;
  state_->cancelled = true;
  // Callbacks run under the lock so that a Registration being destroyed on another thread
  // waits until its callback has returned; they are required to be short.
  for (auto& entry : state_->callbacks) entry.second();
  state_->changed.notify_all();
}

bool CancellationToken::is_cancelled() const noexcept {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->cancelled;
}

bool CancellationToken::wait_for(std::chrono::milliseconds duration) const {
  std::unique_lock<std::mutex> lock(state_->mutex);
  return state_->changed.wait_for(lock, duration, [&] { return state_->cancelled; });
}

CancellationToken::Registration CancellationToken::on_cancel(std::function<void()> callback) const {
  Registration registration;
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->cancelled) {
    callback();
    return registration;
  }
  registration.state_ = state_;
  registration.id_ = state_->next_id++;
  state_->callbacks.emplace_back(registration.id_, std::move(callback));
  return registration;
}

CancellationToken::Registration::~Registration() {
  if (!state_) return;
  std::lock_guard<std::mutex> lock(state_->mutex);
  auto& callbacks = state_->callbacks;
  for (auto it = callbacks.begin(); it != callbacks.end(); ++it) {
    if (it->first == id_) {
      callbacks.erase(it);
      break;
    }
  }
}

}  // namespace inferencesh
