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
/// (reconnecting with backoff when it ends or breaks early) or by polling its status.
class TaskFollower {
 public:
  TaskFollower(std::shared_ptr<const ClientCore> core, std::string task_id,
               std::optional<Task> created, const WaitOptions& options);
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

  std::shared_ptr<const ClientCore> core_;
  std::string task_id_;
  WaitMode mode_;
  std::chrono::milliseconds poll_interval_;
  int max_reconnects_;
  std::function<void(const Task&)> on_update_;
  std::function<void(const Task&, const std::vector<std::string>&)> on_partial_update_;
  std::function<void(const TaskDelta&)> on_delta_;
  CancellationToken cancel_;

  nlohmann::json state_ = nlohmann::json::object();
  Task current_;
  bool finished_ = false;

  // Stream mode.
  std::unique_ptr<ResponseStream> stream_;
  std::optional<NdjsonDecoder> ndjson_;
  std::optional<SseDecoder> sse_;
  std::deque<StreamEvent> pending_;
  std::string chunk_;
  int failures_ = 0;           // consecutive connections that ended without progress
  bool stream_ended_ = false;  // the stream closed cleanly; reconnect once pending is handed out

  // Poll mode.
  std::optional<TaskStatus> last_polled_;
  bool first_poll_ = true;
};

}  // namespace inferencesh::detail
