#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "client_core.hpp"
#include "inferencesh/tasks.hpp"
#include "ndjson_decoder.hpp"
#include "sse_decoder.hpp"

namespace inferencesh::detail {

/// Follows one task to its final status, pulling one update at a time: from the NDJSON stream
/// (reconnecting with backoff when it ends or breaks early) or by polling its status. The
/// cancellation token and the deadline are checked before every step (each chunk read, each
/// poll, each reconnect), and every blocking step is bounded by the deadline.
class TaskFollower {
 public:
  using Clock = std::chrono::steady_clock;

  /// `started` is when the call began: the deadline of WaitOptions counts from there.
  TaskFollower(std::shared_ptr<const ClientCore> core, std::string task_id,
               std::optional<Task> created, const WaitOptions& options,
               Clock::time_point started = Clock::now());
  ~TaskFollower();
  TaskFollower(const TaskFollower&) = delete;
  TaskFollower& operator=(const TaskFollower&) = delete;

  /// Blocks until the next update and returns it, or nullptr once the stream is over. When the
  /// final update is failed or cancelled, throws TaskFailedError / CancelledError instead.
  const Task* next();

  bool finished() const noexcept { return finished_; }
  const Task& current() const noexcept { return current_; }
  /// The final task if the task reached a final status (whatever it was), else nullptr.
  const Task* final_task() const noexcept {
    return finished_ && current_.is_terminal() ? &current_ : nullptr;
  }
  void close();

 private:
  const Task* next_streamed();
  const Task* next_polled();
  /// Applies a decoded event; returns the task when it produced an update to hand out.
  const Task* apply(StreamEvent&& event);
  const Task* publish(const std::vector<std::string>* fields);
  void open_stream();
  void drop_stream();
  /// Counts a failed or fruitless connection and waits before the next; throws StreamError
  /// when reconnects are used up.
  void schedule_reconnect(const std::string& reason);
  void wait_or_cancel(std::chrono::milliseconds delay);
  /// A connection that carried a refused payload ended without a final status: the payload
  /// may have been that status, so the task is fetched once. Returns the update it made, if any.
  const Task* confirm_with_get();
  /// One API call within the deadline; a failure once the deadline passed is the deadline's
  /// TimeoutError.
  ApiResult call_within_deadline(ApiCall call);

  void check_cancel_and_deadline() const;
  bool deadline_passed() const;
  [[noreturn]] void throw_deadline() const;

  std::shared_ptr<const ClientCore> core_;
  std::string task_id_;
  WaitMode mode_;
  std::chrono::milliseconds poll_interval_;
  int max_reconnects_;
  std::function<void(const Task&)> on_update_;
  std::function<void(const Task&, const std::vector<std::string>&)> on_partial_update_;
  std::function<void(const TaskDelta&)> on_delta_;
  CancellationToken cancel_;
  std::optional<Clock::time_point> deadline_;
  std::chrono::milliseconds deadline_length_{0};

  nlohmann::json state_ = nlohmann::json::object();
  Task current_;
  bool finished_ = false;

  // Stream mode.
  std::unique_ptr<ResponseStream> stream_;
  std::optional<NdjsonDecoder> ndjson_;
  std::optional<SseDecoder> sse_;
  std::deque<StreamEvent> pending_;
  std::string chunk_;
  int failures_ = 0;  // consecutive connections that ended without progress
  // Why the connection ended before a final status; the follower reconnects once the events it
  // carried are handed out.
  std::optional<std::string> ended_;
  int skipped_payloads_ = 0;  // refused payloads on the current connection

  // Poll mode.
  std::optional<TaskStatus> last_polled_;
  bool first_poll_ = true;
};

}  // namespace inferencesh::detail
