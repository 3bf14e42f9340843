#pragma once

// The one cancellation state of the SDK: a flag, a wait that the flag ends, and callbacks run
// when it is raised. Behind the client's CancellationToken, the app library's Context and the
// runtime's per-task cancel signal.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace inferencesh::common {

/// Thread-safe: any thread may cancel, wait, or add and remove callbacks.
class CancellationState {
 public:
  CancellationState() = default;
  CancellationState(const CancellationState&) = delete;
  CancellationState& operator=(const CancellationState&) = delete;

  /// Raises the flag, runs the callbacks and wakes every wait. Only the first call does
  /// anything (it returns true). Callbacks run on this thread under the state's lock, so that
  /// remove_callback() on another thread waits until a running one has returned.
  bool cancel();

  /// True once cancel() was called. Lock-free.
  bool is_cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  /// Waits up to `duration`, or until cancelled. True when cancelled (before or during it).
  bool wait_for(std::chrono::milliseconds duration) const;

  /// Runs `callback` when cancelled. When it already is, runs it at once on this thread and
  /// returns 0; otherwise keeps it and returns an id for remove_callback(). A callback must be
  /// short and must not call back into this state (set a flag, notify, write to an eventfd).
  std::uint64_t add_callback(std::function<void()> callback);

  /// Forgets a callback (0 is ignored); once this returns it is not running and will not run.
  void remove_callback(std::uint64_t id) noexcept;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::atomic<bool> cancelled_{false};
  std::uint64_t next_id_ = 1;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks_;
};

}  // namespace inferencesh::common
