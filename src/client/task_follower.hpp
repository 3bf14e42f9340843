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
#include "task_follow_core.hpp"

namespace inferencesh::detail {

/// Follows one task to its final status, pulling one update at a time: from the NDJSON stream
/// (reconnecting with backoff when it ends or breaks early) or by polling its status. The
/// cancellation token and the deadline are checked before every step (each chunk read, each
/// poll, each reconnect), and every blocking step is bounded by the deadline. The rules are
/// TaskFollowCore's; this class does the blocking I/O around them.
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

  bool finished() const noexcept { return rules_.finished(); }
  const Task& current() const noexcept { return rules_.current(); }
  /// The final task if the task reached a final status (whatever it was), else nullptr.
  const Task* final_task() const noexcept { return rules_.final_task(); }
  void close();

 private:
  const Task* next_streamed();
  const Task* next_polled();
  /// Applies a decoded event; returns the task when it produced an update to hand out.
  const Task* apply(StreamEvent&& event);
  void open_stream();
  void drop_stream();
  void wait_or_cancel(std::chrono::milliseconds delay);
  /// One API call within the deadline.
  ApiResult call_within_deadline(const ApiCall& call);

  std::shared_ptr<const ClientCore> core_;
  TaskFollowCore rules_;

  // Stream mode.
  std::unique_ptr<ResponseStream> stream_;
  std::optional<NdjsonDecoder> ndjson_;
  std::optional<SseDecoder> sse_;
  std::deque<StreamEvent> pending_;
  std::string chunk_;
  // Why the connection ended before a final status; the follower reconnects once the events it
  // carried are handed out.
  std::optional<std::string> ended_;
};

}  // namespace inferencesh::detail
