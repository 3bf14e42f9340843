#pragma once

// Following a task on the async loop: one follower for the waiting calls (run, wait_for_completion)
// and for the async streams (run(params, inf::stream), stream(id)). The rules are TaskFollowCore's,
// as for the blocking TaskFollower; this drives them with the loop's streams, calls and timers.

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "async_loop.hpp"
#include "client_core.hpp"
#include "inferencesh/future.hpp"
#include "inferencesh/tasks.hpp"
#include "ndjson_decoder.hpp"
#include "sse_decoder.hpp"
#include "task_follow_core.hpp"

namespace inferencesh::detail {

/// Where a follower's results go. Called on the loop thread, possibly inside a curl callback:
/// hand the results on (post continuations), never block.
class AsyncTaskListener {
 public:
  virtual ~AsyncTaskListener() = default;
  /// An update to hand out, after the options' callbacks ran for it (the final one included).
  virtual void update(const Task& task) = 0;
  /// The follow is over: `error` is null when the task completed (`task` is then final), else
  /// what ended it (TaskFailedError, CancelledError, StreamError, TimeoutError, a callback's
  /// exception, ...). Called once, and not at all after close().
  virtual void ended(const Task& task, std::exception_ptr error) = 0;
};

/// Follows one task to its final status on the loop. Two ways to consume it:
/// - eager (the waiting calls): every update is applied as it arrives, callbacks included;
/// - pulled (the streams): events are decoded as they arrive but applied (callbacks included)
///   only when pull() asked for the next update, as the blocking TaskStream applies them in
///   next(). While nobody asks, at most kMaxQueuedEvents decoded events wait; then the transfer
///   is paused (AsyncLoop::pause), so the server's socket holds the rest, and pull() resumes it.
///   In poll mode the next poll waits for pull() too.
/// Every method runs on the loop thread.
class AsyncTaskFollower : public std::enable_shared_from_this<AsyncTaskFollower> {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Demand { eager, pulled };

  /// Decoded events kept for a consumer that has not asked for them, before the transfer pauses.
  static constexpr std::size_t kMaxQueuedEvents = 16;

  /// `started` is when the call began: the deadline of `options` counts from there. Throws
  /// InvalidArgumentError for an empty id.
  AsyncTaskFollower(std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core,
                    std::string task_id, std::optional<Task> created, const WaitOptions& options,
                    Clock::time_point started, std::shared_ptr<AsyncTaskListener> listener,
                    Demand demand);
  AsyncTaskFollower(const AsyncTaskFollower&) = delete;
  AsyncTaskFollower& operator=(const AsyncTaskFollower&) = delete;

  /// Takes the first step: opens the stream, or (eager) starts polling.
  void start();
  /// Pulled: the consumer wants one more update (handed to the listener's update()).
  void pull();
  /// Stops following: the transfer is closed, timers and calls in flight are cancelled, the
  /// listener hears nothing more. The task itself keeps running.
  void close();

  const Task& current() const noexcept { return rules_.current(); }

 private:
  /// The next step: a connection to the stream, or the next poll. Checks the token and the
  /// deadline first, as the blocking follower does before each step.
  void step();
  /// Applies queued events while an update is wanted; then handles the end of the connection,
  /// or resumes a paused transfer.
  void deliver();
  void hand_out(const Task& update);

  // Stream mode.
  void open();
  void on_headers(int status, const Headers& headers);
  void on_data(std::string_view bytes);
  void on_end(std::exception_ptr error);
  /// The connection ended or broke before a final status (`reason`): once its events are
  /// handed out, confirm with one GET when it skipped a payload, then reconnect.
  void end_connection(const std::string& reason);
  void reconnect(const std::string& reason);

  // Poll mode.
  void poll_status();
  void fetch_polled();

  /// Runs `step` and fails the follow with what it throws; false when it threw.
  template <typename Step>
  bool guarded(Step&& step);
  /// Waits `delay` (up to the deadline), then calls `next`.
  void sleep_then(std::chrono::milliseconds delay, void (AsyncTaskFollower::*next)());
  /// An API call of the follow; `done` runs with its outcome unless the follow ended meanwhile.
  template <typename Done>
  void call_then(const ApiCall& call, Done done);
  /// A failed API call of the wait: a connection failure past the deadline is the deadline's.
  void fail_call(const std::exception_ptr& error);

  void succeed();
  void fail(std::exception_ptr error);
  /// Ends the I/O: closes the transfer, cancels timers and calls, drops queued events.
  void stop_io();

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  TaskFollowCore rules_;
  std::shared_ptr<AsyncTaskListener> listener_;
  const bool eager_;
  // Cancels the follow's own I/O: by close(), or by the caller's token (forwarded).
  CancellationToken stop_;
  CancellationToken::Registration forward_cancel_;
  bool settled_ = false;
  bool wanted_ = false;      // an update is asked for (always, when eager)
  bool waiting_ = false;     // poll mode: the next poll waits for pull()
  bool delivering_ = false;  // inside deliver(): a nested call leaves the work to it

  std::uint64_t stream_ = 0;
  bool paused_ = false;
  std::string url_;
  int status_ = 0;
  Headers headers_;
  std::string error_body_;
  std::optional<NdjsonDecoder> ndjson_;
  std::optional<SseDecoder> sse_;
  std::deque<StreamEvent> queued_;
  // Why the last connection ended before a final status, once its events are handed out.
  std::optional<std::string> ended_;
};

/// Follows one task to its final status on the loop and completes `result` with it
/// (TaskFailedError, CancelledError, StreamError, TimeoutError, ... otherwise). Updates reach
/// the callbacks of `options` on the loop thread as they come. May be called from any thread.
void follow_task_async(const std::shared_ptr<AsyncLoop>& loop,
                       const std::shared_ptr<const ClientCore>& core, std::string task_id,
                       std::optional<Task> created, const WaitOptions& options,
                       std::chrono::steady_clock::time_point started, promise<Task> result);

}  // namespace inferencesh::detail
