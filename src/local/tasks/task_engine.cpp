#include "tasks/task_engine.hpp"

#include <exception>
#include <utility>

#include "common/json_parse.hpp"
#include "http/api_envelope.hpp"
#include "support/id_generator.hpp"
#include "support/time_format.hpp"
#include "tasks/progress_report.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace {}  // namespace

// ---- the context app code sees ------------------------------------------------------------------

class TaskEngine::Context final : public AppContext {
 public:
  Context(TaskEngine& engine, std::string id, std::shared_ptr<CancelSignal> cancel,
          LogType log_type, std::string session)
      : engine_(engine),
        id_(std::move(id)),
        cancel_(std::move(cancel)),
        log_type_(log_type),
        session_(std::move(session)) {}
  ~Context() override { cancel_->remove_callback(callback_); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const std::string& task_id() const noexcept override { return id_; }
  bool cancelled() const noexcept override { return cancel_->is_cancelled(); }
  bool wait_for(std::chrono::milliseconds duration) override {
    return !cancel_->wait_for(duration);
  }
  void on_cancel(std::function<void()> callback) override {
    cancel_->remove_callback(callback_);
    callback_ = 0;
    if (callback) callback_ = cancel_->add_callback(std::move(callback));
  }
  std::string session_id() const override { return session_; }
  void log(std::string_view line) override {
    engine_.append_log(id_, log_type_, std::string(line));
  }
  void partial_output(nlohmann::json output) override {
    engine_.set_output(id_, engine_.files_.store_output(output, id_));
  }
  void progress(double current, double total, std::string_view message) override {
    engine_.set_progress(id_, log_type_, current, total, message);
  }
  std::filesystem::path output_directory() override { return engine_.files_.output_dir(id_); }

 private:
  TaskEngine& engine_;
  std::string id_;
  std::shared_ptr<CancelSignal> cancel_;
  LogType log_type_;
  std::string session_;
  std::uint64_t callback_ = 0;
};

// ---- TaskEngine ---------------------------------------------------------------------------------

TaskEngine::TaskEngine(TaskStore& store, InstancePool& instances, WorkerPool& workers,
                       SessionManager& sessions, TaskFiles& files, const Logger& log,
                       TaskEngineLimits limits)
    : store_(store),
      instances_(instances),
      workers_(workers),
      sessions_(sessions),
      files_(files),
      log_(log),
      limits_(limits) {}

TaskEngine::~TaskEngine() = default;

nlohmann::json TaskEngine::create(RunRequest request) {
  return create_task(std::move(request), nullptr);
}

void TaskEngine::create(RunRequest request, Answer answer) {
  create_task(std::move(request), std::move(answer));
}

nlohmann::json TaskEngine::create_task(RunRequest request, Answer answer) {
  TaskRecord task;
  task.id = new_id("task");
  task.app_name = request.app_name;
  task.app_ref = request.app_ref;
  task.version = request.version;
  task.function = request.function;
  // The record holds the input for the task's life (the run reads it from there): one copy of a
  // large input, not two.
  task.input = std::move(request.input);
  request.input = nullptr;
  task.setup = request.setup;
  task.request_extras = request.extras;
  task.created_at = rfc3339_now();
  task.updated_at = task.created_at;
  set_status_locked(task, TaskStatus::received);
  set_status_locked(task, TaskStatus::queued);
  const std::string id = task.id;

  std::lock_guard lock(mutex_);
  if (shutting_down_) {
    throw ApiProblem(503, "the runtime is shutting down and accepts no new tasks");
  }
  if (!live_.empty() && live_bytes_ + request.size > limits_.max_unfinished_bytes) {
    throw ApiProblem(503, "the unfinished tasks already hold " + std::to_string(live_bytes_) +
                              " bytes of input, and this one's " + std::to_string(request.size) +
                              " would go beyond the limit of " +
                              std::to_string(limits_.max_unfinished_bytes) +
                              " (--max-unfinished-input-bytes); try again when some have finished");
  }
  if (request.session == "new") {
    request.session = sessions_.open(request.app_name, request.app_ref, request.version,
                                     request.session_timeout, id);
  } else if (!request.session.empty()) {
    sessions_.check_usable(request.session, request.app_name);
  }
  // The real session id from the first event on (never "new").
  if (!request.session.empty()) task.session_id = request.session;
  nlohmann::json dto = to_task_dto(task);

  auto shared_request = std::make_shared<RunRequest>(std::move(request));
  store_.insert(std::move(task));
  live_.emplace(id, Live{std::make_shared<CancelSignal>(), {}, shared_request->size});
  live_bytes_ += shared_request->size;
  auto start = [this, id, shared_request] {
    if (!workers_.submit([this, id, shared_request] { execute(id, *shared_request); })) {
      // Shutting down: the task was (or is about to be) cancelled. Its call ends here, so the
      // session moves on.
      SessionCall(sessions_, shared_request->session).end(false);
    }
  };
  if (shared_request->session.empty()) {
    if (!workers_.submit([this, id, shared_request] { execute(id, *shared_request); })) {
      forget_live_locked(live_.find(id));
      throw ApiProblem(503, "the runtime is shutting down and accepts no new tasks");
    }
  } else {
    sessions_.submit(shared_request->session, std::move(start));
  }
  log_.debug("task " + id + " (" + shared_request->app_ref + ") queued" +
             (shared_request->session.empty() ? "" : " in session " + shared_request->session));
  if (!answer) return dto;
  // Under the lock, so what the store waits for ends with this insert: the task's own progress
  // (the worker needs the lock to report it) does not hold up its answer.
  store_.when_durable([answer = std::move(answer), dto = std::move(dto)](bool stored) mutable {
    answer(std::move(dto), stored);
  });
  return nullptr;
}

void TaskEngine::when_durable(std::function<void(bool stored)> done) {
  std::lock_guard lock(mutex_);
  store_.when_durable(std::move(done));
}

std::optional<nlohmann::json> TaskEngine::task(const std::string& id) const {
  std::lock_guard lock(mutex_);
  std::optional<nlohmann::json> dto;
  store_.read(id, [&](const TaskRecord& task) { dto = to_task_dto(task); });
  return dto;
}

std::optional<nlohmann::json> TaskEngine::status(const std::string& id) const {
  std::lock_guard lock(mutex_);
  std::optional<nlohmann::json> dto;
  store_.read(id, [&](const TaskRecord& task) { dto = to_status_dto(task); });
  return dto;
}

bool TaskEngine::cancel(const std::string& id) {
  std::lock_guard lock(mutex_);
  const auto it = live_.find(id);
  if (it == live_.end()) {
    return store_.read(id, [](const TaskRecord&) {});  // finished: nothing to do
  }
  cancel_locked(id, *it->second.cancel);
  return true;
}

void TaskEngine::cancel_locked(const std::string& id, CancelSignal& signal) {
  TaskStatus current = TaskStatus::unknown;
  store_.read(id, [&](const TaskRecord& task) { current = task.status; });
  signal.cancel();
  if (current == TaskStatus::received || current == TaskStatus::queued) {
    // Not started: nothing to wait for. The queued job finds the task finished and skips it.
    change_locked(id, [this](TaskRecord& task) {
      set_status_locked(task, TaskStatus::cancelling);
      set_status_locked(task, TaskStatus::cancelled);
    });
  } else if (current != TaskStatus::cancelling) {
    change_locked(id,
                  [this](TaskRecord& task) { set_status_locked(task, TaskStatus::cancelling); });
  }
}

std::optional<std::uint64_t> TaskEngine::subscribe(const std::string& id, Observer observer) {
  std::lock_guard lock(mutex_);
  std::string text;
  bool terminal = false;
  const bool known = store_.read(id, [&](const TaskRecord& task) {
    text = common::compact_json(to_task_dto(task));
    terminal = is_terminal(task.status);
  });
  if (!known) return std::nullopt;
  observer(text, terminal);
  const auto it = live_.find(id);
  if (terminal || it == live_.end()) return 0;
  const std::uint64_t subscription = next_subscription_++;
  it->second.observers.emplace_back(subscription, std::move(observer));
  return subscription;
}

std::optional<std::uint64_t> TaskEngine::subscribe_record(const std::string& id,
                                                          RecordObserver observer) {
  std::lock_guard lock(mutex_);
  bool terminal = false;
  const bool known = store_.read(id, [&](const TaskRecord& task) {
    terminal = is_terminal(task.status);
    observer(task, terminal);
  });
  if (!known) return std::nullopt;
  const auto it = live_.find(id);
  if (terminal || it == live_.end()) return 0;
  const std::uint64_t subscription = next_subscription_++;
  it->second.record_observers.emplace_back(subscription, std::move(observer));
  return subscription;
}

void TaskEngine::unsubscribe(const std::string& id, std::uint64_t subscription) {
  std::lock_guard lock(mutex_);
  const auto it = live_.find(id);
  if (it == live_.end()) return;
  auto& observers = it->second.observers;
  for (auto o = observers.begin(); o != observers.end(); ++o) {
    if (o->first == subscription) {
      observers.erase(o);
      return;
    }
  }
  auto& record_observers = it->second.record_observers;
  for (auto o = record_observers.begin(); o != record_observers.end(); ++o) {
    if (o->first == subscription) {
      record_observers.erase(o);
      return;
    }
  }
}

void TaskEngine::begin_shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  std::vector<std::pair<std::string, std::shared_ptr<CancelSignal>>> unfinished;
  unfinished.reserve(live_.size());
  for (const auto& [id, live] : live_) unfinished.emplace_back(id, live.cancel);
  for (const auto& [id, signal] : unfinished) cancel_locked(id, *signal);
  if (!unfinished.empty()) {
    log_.info("shutting down: cancelled " + std::to_string(unfinished.size()) +
              " unfinished task(s)");
  }
}

bool TaskEngine::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return live_.empty(); });
}

std::size_t TaskEngine::task_count() const {
  std::lock_guard lock(mutex_);
  return store_.size();
}

std::size_t TaskEngine::pending_writes() const { return store_.pending_writes(); }

TaskStore::CacheUse TaskEngine::finished_cache() const { return store_.finished_cache(); }

std::size_t TaskEngine::active_count() const {
  std::lock_guard lock(mutex_);
  return live_.size();
}

// ---- running a task (worker thread) -----------------------------------------------------------

void TaskEngine::execute(const std::string& id, const RunRequest& request) {
  // The task's call in its session, ended however this returns. The session's next call starts
  // when it goes away, after this task has reported its end.
  SessionCall call(sessions_, request.session);
  std::shared_ptr<CancelSignal> cancel;
  {
    std::lock_guard lock(mutex_);
    const auto it = live_.find(id);
    if (it != live_.end()) cancel = it->second.cancel;
  }
  if (!cancel) return;  // cancelled while queued
  const auto started = std::chrono::steady_clock::now();
  const std::string key = InstancePool::key_of(*request.app, request.setup);
  if (!call.begin()) {
    finish(id, TaskStatus::failed, std::nullopt, call.error());
    return;
  }
  // A session's instance stays the call's; any other comes from the warm pool and goes back.
  std::unique_ptr<AppInstance> pooled;
  std::unique_ptr<AppInstance>& instance = call.in_session() ? call.instance() : pooled;
  // A session's first call starts from a warm instance too, when one is idle.
  if (!instance) instance = instances_.take(key);

  Outcome outcome = run_app(id, request, cancel, instance);

  if (call.in_session()) {
    // Before the task ends, so whoever sees it completed also sees the session's count. An
    // instance that cannot serve again loses the session (see SessionCall::end).
    call.end(outcome.status == TaskStatus::completed);
  } else {
    // An instance whose process died or was killed cannot serve again.
    if (pooled && pooled->reusable()) instances_.give_back(key, std::move(pooled));
    pooled.reset();
  }
  finish(id, outcome.status, std::move(outcome.output), std::move(outcome.error));
  files_.cleanup(id);
  if (log_.enabled(LogLevel::debug)) {
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    log_.debug("task " + id + " (" + request.app_ref + ") ended after " + std::to_string(millis) +
               " ms");
  }
}

TaskEngine::Outcome TaskEngine::run_app(const std::string& id, const RunRequest& request,
                                        const std::shared_ptr<CancelSignal>& cancel,
                                        std::unique_ptr<AppInstance>& instance) {
  Outcome cancelled{TaskStatus::cancelled, std::nullopt, {}};  // returned (moved) when cancelled
  try {
    if (!instance) {
      check_client_files(request.setup, "setup", request.app->setup_files());
      if (!advance(id, TaskStatus::setting_up)) return cancelled;
      Context setup_context(*this, id, cancel, LogType::setup, request.session);
      instance = request.app->setup(request.setup, setup_context);
      if (!instance) throw std::runtime_error("the app's setup produced no instance");
    }
    // After setup: an instance may say where its Files are (an app program's `ready` does).
    const nlohmann::json input =
        files_.resolve_input(input_of(id), id, instance->input_files(request.function));
    if (cancel->is_cancelled() || !advance(id, TaskStatus::running)) return cancelled;
    Context context(*this, id, cancel, LogType::task, request.session);
    nlohmann::json output = instance->run(request.function, input, context);
    if (cancel->is_cancelled()) return cancelled;
    return {TaskStatus::completed, files_.store_output(output, id), {}};
  } catch (const TaskFileError& e) {
    return {TaskStatus::failed, std::nullopt, e.what()};  // the app itself did nothing wrong
  } catch (const std::exception& e) {
    if (cancel->is_cancelled()) return cancelled;
    // After a failure an instance's state is not to be trusted; a session's instance stays
    // with its session, whose state it is.
    if (request.session.empty()) instance.reset();
    return {TaskStatus::failed, std::nullopt, e.what()[0] != '\0' ? e.what() : "task failed"};
  } catch (...) {
    if (request.session.empty()) instance.reset();
    return {TaskStatus::failed, std::nullopt, "the app failed with an unknown exception"};
  }
}

bool TaskEngine::advance(const std::string& id, TaskStatus status) {
  std::lock_guard lock(mutex_);
  if (live_.find(id) == live_.end()) return false;
  bool cancelling = false;
  change_locked(id, [&](TaskRecord& task) {
    if (task.status == TaskStatus::cancelling) {
      cancelling = true;  // keep showing the cancel in progress
      return;
    }
    set_status_locked(task, status);
  });
  return !cancelling;
}

void TaskEngine::finish(const std::string& id, TaskStatus status,
                        std::optional<nlohmann::json> output, std::string error) {
  std::lock_guard lock(mutex_);
  if (live_.find(id) == live_.end()) return;  // already ended (cancelled while queued)
  change_locked(id, [&](TaskRecord& task) {
    if (output) task.output = std::move(*output);
    task.error = std::move(error);
    if (status == TaskStatus::cancelled && task.status != TaskStatus::cancelling) {
      set_status_locked(task, TaskStatus::cancelling);
    }
    set_status_locked(task, status);
  });
}

void TaskEngine::append_log(const std::string& id, LogType type, std::string line) {
  std::lock_guard lock(mutex_);
  if (live_.find(id) == live_.end()) return;
  change_locked(id, [&](TaskRecord& task) {
    task.logs.push_back({new_id("log"), rfc3339_now(), type, std::move(line)});
  });
}

void TaskEngine::set_output(const std::string& id, nlohmann::json output) {
  std::lock_guard lock(mutex_);
  if (live_.find(id) == live_.end()) return;
  change_locked(id, [&](TaskRecord& task) { task.output = std::move(output); });
}

void TaskEngine::set_progress(const std::string& id, LogType type, double current, double total,
                              std::string_view message) {
  std::lock_guard lock(mutex_);
  if (live_.find(id) == live_.end()) return;
  change_locked(id, [&](TaskRecord& task) {
    nlohmann::json& metadata = task.request_extras["metadata"];
    if (metadata.is_null()) metadata = nlohmann::json::object();
    if (metadata.is_object()) metadata["progress"] = progress_json(current, total, message);
    task.logs.push_back(
        {new_id("log"), rfc3339_now(), type, progress_line(current, total, message)});
  });
}

nlohmann::json TaskEngine::input_of(const std::string& id) const {
  std::lock_guard lock(mutex_);
  nlohmann::json input = nlohmann::json::object();
  store_.read(id, [&](const TaskRecord& task) { input = task.input; });
  return input;
}

void TaskEngine::forget_live_locked(std::unordered_map<std::string, Live>::iterator live) {
  if (live == live_.end()) return;
  live_bytes_ -= live->second.bytes;
  live_.erase(live);
  idle_.notify_all();
}

void TaskEngine::set_status_locked(TaskRecord& task, TaskStatus status) {
  task.status = status;
  task.updated_at = rfc3339_now();
  task.events.push_back({new_id("tev"), task.updated_at, status});
}

void TaskEngine::change_locked(const std::string& id,
                               const std::function<void(TaskRecord&)>& change) {
  const auto live = live_.find(id);
  const bool watched = live != live_.end() && !live->second.observers.empty();
  std::string text;
  bool terminal = false;
  store_.update(id, [&](TaskRecord& task) {
    change(task);
    task.updated_at = rfc3339_now();
    terminal = is_terminal(task.status);
    if (watched) text = common::compact_json(to_task_dto(task));
    if (terminal && final_hook_) final_hook_(task);
    if (live == live_.end()) return;
    for (const auto& [subscription, observer] : live->second.record_observers) {
      try {
        observer(task, terminal);
      } catch (const std::exception& e) {
        log_.error(std::string("task observer failed: ") + e.what());
      }
    }
  });
  if (live == live_.end()) return;
  for (const auto& [subscription, observer] : live->second.observers) {
    try {
      observer(text, terminal);
    } catch (const std::exception& e) {
      log_.error(std::string("task observer failed: ") + e.what());
    }
  }
  if (terminal) forget_live_locked(live);
}

}  // namespace infsh::local
