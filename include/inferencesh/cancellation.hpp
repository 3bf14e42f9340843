#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace inferencesh {

namespace detail {
struct CancellationState;
}

/// A shared flag that aborts calls in flight. Copies share the flag; `cancel()` on any copy
/// wakes every call that was given the token, from any thread. A default-constructed token is
/// live (it can be cancelled); it is cheap to create one per call.
///
///     inf::CancellationToken cancel;
///     std::thread watchdog([&] { std::this_thread::sleep_for(5s); cancel.cancel(); });
///     client.tasks.wait_for_completion(id, {.cancel = cancel});  // throws CancelledError
class CancellationToken {
 public:
  CancellationToken();

  /// Requests cancellation. Idempotent and thread-safe.
  void cancel() const;

  /// True once cancel() was called on this token or a copy of it.
  bool is_cancelled() const noexcept;

  /// Waits up to `duration` or until cancelled; returns true if cancelled.
  bool wait_for(std::chrono::milliseconds duration) const;

  /// Runs `callback` when the token is cancelled (at once if it already is) until the returned
  /// registration is destroyed. Callbacks run on the cancelling thread and must be short.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&&) noexcept = default;
    Registration& operator=(Registration&&) noexcept = default;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration();

   private:
    friend class CancellationToken;
    std::shared_ptr<detail::CancellationState> state_;
    unsigned long long id_ = 0;
  };
  [[nodiscard]] Registration on_cancel(std::function<void()> callback) const;

 private:
  std::shared_ptr<detail::CancellationState> state_;
};

}  // namespace inferencesh
