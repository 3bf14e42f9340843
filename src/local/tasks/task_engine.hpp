#pragma once

// The life of tasks: creates them, runs them on the worker pool with warm app instances,
// records logs, outputs and status changes, cancels them cooperatively, and tells watchers
// about every change. One lock orders all changes, so every watcher sees them in the same order.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/instance_pool.hpp"
#include "apps/worker_pool.hpp"
#include "common/cancellation.hpp"
#include "infsh/local/app.hpp"
#include "sessions/session_manager.hpp"
#include "store/task_store.hpp"
#include "support/logger.hpp"
#include "tasks/task_files.hpp"
#include "tasks/task_record.hpp"

namespace infsh::local {

/// A validated POST /apps/run request.
struct RunRequest {
  std::shared_ptr<App> app;
  std::string app_name;
  std::string app_ref;
  std::string version;
  std::string function;
  nlohmann::json input = nlohmann::json::object();
  nlohmann::json setup;
  nlohmann::json extras = nlohmann::json::object();
  /// "new", a session id, or empty (no session).
  std::string session;
  int session_timeout = kDefaultSessionTimeout;  ///< seconds, for a "new" session
  /// The size of the request body: what the task's input and setup are counted as while it
  /// is unfinished.
  std::uint64_t size = 0;
};

struct TaskEngineLimits {
  /// Unfinished tasks' input and setup held in memory, in total (RunRequest::size); a task
  /// beyond it is refused with 503 (one task is always taken).
  std::uint64_t max_unfinished_bytes = std::uint64_t{1} << 30;
};

/// The cancellation flag of one task, shared with the code running it: the SDK's one
/// cancellation state (flag, wait, callbacks).
using CancelSignal = inferencesh::common::CancellationState;

class TaskEngine {
 public:
  /// Called with a task's full DTO, serialised, after each change; `terminal` on the last call.
  /// Runs under the engine lock: must not block and must not call back into the engine.
  using Observer = std::function<void(const std::string& task_json, bool terminal)>;

  TaskEngine(TaskStore& store, InstancePool& instances, WorkerPool& workers,
             SessionManager& sessions, TaskFiles& files, const Logger& log,
             TaskEngineLimits limits = {});
  ~TaskEngine();
  TaskEngine(const TaskEngine&) = delete;
  TaskEngine& operator=(const TaskEngine&) = delete;

  /// Creates a task, queues it and returns its DTO (status queued). A "new" session is opened
  /// here, so the DTO already carries its id. Throws ApiProblem: 503 once shutting down or when
  /// the unfinished tasks hold too much input (TaskEngineLimits), and the session errors of
  /// SessionManager::check_usable. The task is in memory at once and on disk after the next
  /// commit: answer the client from when_durable().
  nlohmann::json create(RunRequest request);

  /// Answers a creation: called once with the task's DTO, and whether it is stored durably.
  using Answer = std::function<void(nlohmann::json task, bool stored)>;
  /// Creates a task as above and calls `answer` once the task is on disk (or could not be
  /// written): from the store's writer thread, or at once; never when this throws.
  void create(RunRequest request, Answer answer);

  /// Calls `done` once every task change made so far is stored durably (done(true)), or
  /// failed to be (done(false)); see TaskStore::when_durable. Does not block.
  void when_durable(std::function<void(bool stored)> done);

  std::optional<nlohmann::json> task(const std::string& id) const;
  std::optional<nlohmann::json> status(const std::string& id) const;

  /// Asks a task to stop: a queued task is cancelled at once; a running one goes to
  /// cancelling, then cancelled when its app returns. False for an unknown id; a finished task
  /// is left as it is.
  bool cancel(const std::string& id);

  /// Calls `observer` at once with the current state, then after every change until the task
  /// ends. Returns the subscription id, 0 when the task had already ended (observer called once,
  /// not kept), or nullopt for an unknown id (observer not called).
  std::optional<std::uint64_t> subscribe(const std::string& id, Observer observer);
  void unsubscribe(const std::string& id, std::uint64_t subscription);

  /// Called with the task's record after each change; `terminal` on the last call. For
  /// followers inside the runtime that read a few fields (the chat engine follows its cores'
  /// outputs): no DTO is serialised for them, so a large input costs nothing per change. Runs
  /// under the engine lock: must not block and must not call back into the engine.
  using RecordObserver = std::function<void(const TaskRecord& task, bool terminal)>;
  /// As subscribe(), for a RecordObserver; unsubscribe() takes its id too.
  std::optional<std::uint64_t> subscribe_record(const std::string& id, RecordObserver observer);

  /// Called with a task the moment it ends (completed, failed or cancelled), once per task, under
  /// the engine lock: must not block nor call back into the engine. Set before the first task.
  using FinalHook = std::function<void(const TaskRecord& task)>;
  void on_final(FinalHook hook) { final_hook_ = std::move(hook); }

  /// Refuses new tasks and cancels every unfinished one. Running apps get their cancellation.
  void begin_shutdown();

  /// Waits until no task is unfinished, or `timeout` passes; returns whether none is.
  bool wait_idle(std::chrono::milliseconds timeout);

  std::size_t task_count() const;
  /// Task changes not yet stored durably.
  std::size_t pending_writes() const;
  /// Finished tasks the store holds in memory.
  TaskStore::CacheUse finished_cache() const;
  std::size_t active_count() const;

 private:
  class Context;
  struct Live {
    std::shared_ptr<CancelSignal> cancel;
    std::vector<std::pair<std::uint64_t, Observer>> observers;
    std::uint64_t bytes = 0;  // RunRequest::size
    std::vector<std::pair<std::uint64_t, RecordObserver>> record_observers;
  };

  struct Outcome {
    TaskStatus status = TaskStatus::failed;
    std::optional<nlohmann::json> output;
    std::string error;
  };

  nlohmann::json create_task(RunRequest request, Answer answer);
  void execute(const std::string& id, const RunRequest& request);
  // Input files, setup when `instance` is null, the run, output files. `instance` is what is
  // left to keep afterwards (null when it must not be reused).
  Outcome run_app(const std::string& id, const RunRequest& request,
                  const std::shared_ptr<CancelSignal>& cancel,
                  std::unique_ptr<AppInstance>& instance);
  // Applies a change, stamps updated_at, and notifies observers. Lock held by the caller.
  void change_locked(const std::string& id, const std::function<void(TaskRecord&)>& change);
  void set_status_locked(TaskRecord& task, TaskStatus status);
  // Ends the live state of a finished task. Lock held by the caller.
  void forget_live_locked(std::unordered_map<std::string, Live>::iterator live);
  // A copy of the task's input, as stored.
  nlohmann::json input_of(const std::string& id) const;
  void cancel_locked(const std::string& id, CancelSignal& signal);
  // Moves a started task on (setting_up, running); false when it ended or is being cancelled.
  bool advance(const std::string& id, TaskStatus status);
  void finish(const std::string& id, TaskStatus status, std::optional<nlohmann::json> output,
              std::string error);
  void append_log(const std::string& id, LogType type, std::string line);
  void set_output(const std::string& id, nlohmann::json output);
  // Shows the latest progress in the task's metadata and adds a log line.
  void set_progress(const std::string& id, LogType type, double current, double total,
                    std::string_view message);

  TaskStore& store_;
  InstancePool& instances_;
  WorkerPool& workers_;
  SessionManager& sessions_;
  TaskFiles& files_;
  const Logger& log_;
  const TaskEngineLimits limits_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::unordered_map<std::string, Live> live_;  // unfinished tasks
  std::uint64_t live_bytes_ = 0;                // their Live::bytes
  std::uint64_t next_subscription_ = 1;
  bool shutting_down_ = false;
  FinalHook final_hook_;
};

}  // namespace infsh::local
