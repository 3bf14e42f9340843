#pragma once

// The rules of following a task to its end, without I/O: merging stream events and polled
// states into the task, handing out updates, the failure and cancellation of the task, when a
// broken or ended stream is reconnected and after what backoff, when a skipped payload calls for
// a confirming GET, and the deadline. The blocking TaskFollower and the async client's follower
// drive the same core, each with its own I/O.

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client_core.hpp"
#include "inferencesh/tasks.hpp"
#include "reconnect_backoff.hpp"
#include "stream_event.hpp"

namespace inferencesh::detail {

class TaskFollowCore {
 public:
  using Clock = std::chrono::steady_clock;

  /// `started` is when the call began: the deadline of WaitOptions counts from there.
  TaskFollowCore(std::shared_ptr<const ClientCore> core, std::string task_id,
                 std::optional<Task> created, const WaitOptions& options,
                 Clock::time_point started);

  const ClientCore& client() const noexcept { return *core_; }
  const std::string& task_id() const noexcept { return task_id_; }
  WaitMode mode() const noexcept { return mode_; }
  const CancellationToken& cancel() const noexcept { return cancel_; }
  std::optional<Clock::time_point> deadline() const noexcept { return deadline_; }

  bool finished() const noexcept { return finished_; }
  const Task& current() const noexcept { return current_; }
  /// The final task if the task reached a final status (whatever it was), else nullptr.
  const Task* final_task() const noexcept {
    return finished_ && current_.is_terminal() ? &current_ : nullptr;
  }
  /// Stops following: no more updates.
  void close() noexcept { finished_ = true; }

  // --- cancellation and deadline --------------------------------------------------------------

  /// Throws CancelledError once cancelled, the deadline's TimeoutError once it passed.
  void check_cancel_and_deadline() const;
  bool deadline_passed() const;
  [[noreturn]] void throw_deadline() const;
  /// `delay`, shortened to end at the deadline.
  std::chrono::milliseconds clamp_to_deadline(std::chrono::milliseconds delay) const;
  /// An API call of the wait, bounded by its deadline.
  ApiCall within_deadline(ApiCall call) const;
  /// Rethrows the failure of such a call: a connection failure once the deadline passed is the
  /// deadline's TimeoutError.
  [[noreturn]] void rethrow_call_failure(const std::exception_ptr& failure) const;

  // --- stream mode ----------------------------------------------------------------------------

  /// The request that opens the task's update stream.
  HttpRequest stream_request() const;
  /// A new connection starts (its count of skipped payloads starts at zero).
  void connection_opened() noexcept { skipped_payloads_ = 0; }

  /// Applies one decoded event. Returns the task when it produced an update to hand out (after
  /// on_update / on_partial_update ran); throws TaskFailedError / CancelledError when the final
  /// status is failed / cancelled. Heartbeats, deltas (to on_delta) and refused payloads (logged,
  /// counted) hand out nothing.
  const Task* apply(StreamEvent&& event);

  /// The stream could not be opened (the exception from opening it, or the typed ApiError of
  /// its status). Rethrows what ends the wait (cancellation, the deadline, a status that will
  /// not pass); otherwise returns the reason to reconnect for.
  std::string open_failed(const std::exception_ptr& failure) const;
  /// Reading the stream failed. Rethrows what ends the wait; otherwise returns the reason.
  std::string read_failed(const std::exception_ptr& failure) const;

  /// The connection ended or broke before a final status. True when it skipped a payload, which
  /// may have been the final status: fetch the task once (confirmation_call()) and hand its
  /// outcome to confirmed() or confirmation_failed() before reconnecting.
  bool needs_confirmation(const std::string& reason);
  ApiCall confirmation_call() const;
  /// Applies the fetched task; returns the update it made, if any (see apply()).
  const Task* confirmed(ApiResult full);
  /// The fetch failed: rethrows what ends the wait, else logs and returns (reconnect instead).
  void confirmation_failed(const std::exception_ptr& failure) const;

  /// Counts a connection that ended without progress and returns the backoff before the next
  /// one (logged); throws StreamError when reconnects are used up.
  std::chrono::milliseconds reconnect_delay(const std::string& reason);

  // --- poll mode ------------------------------------------------------------------------------

  /// The wait before the next status poll: none before the first one, then the interval.
  std::chrono::milliseconds next_poll_delay();
  /// True when the polled status differs from the last one, so the full task is fetched.
  bool status_changed(const ApiResult& status);
  /// Applies the fetched task and returns it as an update (see apply() for final statuses).
  const Task* polled(const ApiResult& full);

 private:
  const Task* publish(const std::vector<std::string>* fields);

  std::shared_ptr<const ClientCore> core_;
  std::string task_id_;
  WaitMode mode_;
  std::chrono::milliseconds poll_interval_;
  ReconnectBackoff backoff_;  // connections that ended without progress, and the delays
  std::function<void(const Task&)> on_update_;
  std::function<void(const Task&, const std::vector<std::string>&)> on_partial_update_;
  std::function<void(const TaskDelta&)> on_delta_;
  CancellationToken cancel_;
  std::optional<Clock::time_point> deadline_;
  std::chrono::milliseconds deadline_length_{0};

  nlohmann::json state_ = nlohmann::json::object();
  Task current_;
  bool finished_ = false;

  int skipped_payloads_ = 0;  // refused payloads on the current connection

  std::optional<TaskStatus> last_polled_;
  bool first_poll_ = true;
};

}  // namespace inferencesh::detail
