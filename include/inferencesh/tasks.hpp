#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/cancellation.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/run_params.hpp"
#include "inferencesh/task.hpp"
#include "inferencesh/task_stream.hpp"

namespace inferencesh {

namespace detail {
class ClientCore;
}

/// Tag that selects the streaming overload: `client.tasks.run(params, inf::stream)`.
struct stream_t {
  explicit stream_t() = default;
};
inline constexpr stream_t stream{};

/// A raw incremental output piece of a running task (a `delta` event on its stream). Deltas
/// are never merged into the Task.
struct TaskDelta {
  nlohmann::json delta;
  std::int64_t seq = 0;
  std::string resource_id;
};

/// How to follow a task to its end. Unset fields take ClientOptions::wait.
struct WaitOptions {
  std::optional<WaitMode> mode;
  std::optional<std::chrono::milliseconds> poll_interval;
  std::optional<int> max_reconnects;
  /// Longest the call may take, counted from its start: stream reads, reconnects and their
  /// backoff, polls, and for run() creating the task too. Past it the call ends with a
  /// TimeoutError naming the deadline; the task itself keeps running (tasks.cancel(id) stops
  /// it). Unset: no limit, the wait lasts as long as the task does.
  std::optional<std::chrono::milliseconds> deadline;
  /// Called with the merged task after every update (full or partial).
  std::function<void(const Task& task)> on_update;
  /// Called with the names of the fields a partial update changed, after on_update.
  std::function<void(const Task& task, const std::vector<std::string>& fields)> on_partial_update;
  std::function<void(const TaskDelta& delta)> on_delta;
  CancellationToken cancel;
};

/// Options of tasks.run(). Without `wait` the created task is returned at once.
struct RunOptions {
  bool wait = true;
  /// Makes the create request retryable on transient failures; the server deduplicates on it.
  std::string idempotency_key;
  std::optional<WaitMode> mode;
  std::optional<std::chrono::milliseconds> poll_interval;
  std::optional<int> max_reconnects;
  std::optional<std::chrono::milliseconds> deadline;  ///< as WaitOptions::deadline
  std::function<void(const Task& task)> on_update;
  std::function<void(const Task& task, const std::vector<std::string>& fields)> on_partial_update;
  std::function<void(const TaskDelta& delta)> on_delta;
  CancellationToken cancel;

  WaitOptions waiting() const;
};

/// The Tasks API: run apps and follow their tasks. Reached as `client.tasks`.
class Tasks {
 public:
  /// Runs an app. By default waits for the final status and returns the completed task
  /// (TaskFailedError / CancelledError otherwise); with `{.wait = false}` returns the created
  /// task at once. `params` is the body of POST /apps/run: {app, input, setup, infra, ...};
  /// a RunParams converts to it.
  ///
  ///     inf::Task done = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"x", 1}}}});
  Task run(const nlohmann::json& params, const RunOptions& options = {}) const;

  /// Runs an app and returns its updates as a range, ending at the final status.
  ///
  ///     for (const inf::Task& u : client.tasks.run(params, inf::stream)) show(u.status);
  TaskStream run(const nlohmann::json& params, stream_t, const WaitOptions& options = {}) const;

  /// The task's current state.
  Task get(const std::string& task_id) const;

  /// Asks the server to cancel the task. Cancelling a finished task is harmless.
  void cancel(const std::string& task_id) const;

  /// Follows an existing task and returns it once completed (TaskFailedError /
  /// CancelledError otherwise).
  Task wait_for_completion(const std::string& task_id, const WaitOptions& options = {}) const;

  /// Follows an existing task as a range of updates; `result()` holds the final task.
  TaskStream stream(const std::string& task_id, const WaitOptions& options = {}) const;

 private:
  friend class Client;
  friend class Sessions;
  friend class SessionHandle;
  explicit Tasks(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace inferencesh
