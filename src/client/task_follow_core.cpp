#include "task_follow_core.hpp"

#include <algorithm>

#include "inferencesh/errors.hpp"
#include "reconnect_backoff.hpp"
#include "retry_policy.hpp"
#include "task_operations.hpp"

namespace inferencesh::detail {

namespace {

// Refused payloads logged per connection; a server that sends nothing else would flood the log.
constexpr int kLoggedSkipsPerConnection = 10;

}  // namespace

TaskFollowCore::TaskFollowCore(std::shared_ptr<const ClientCore> core, std::string task_id,
                               std::optional<Task> created, const WaitOptions& options,
                               Clock::time_point started)
    : core_(std::move(core)),
      task_id_(std::move(task_id)),
      mode_(options.mode.value_or(core_->options().wait.mode)),
      poll_interval_(options.poll_interval.value_or(core_->options().wait.poll_interval)),
      backoff_(core_->options().wait,
               options.max_reconnects.value_or(core_->options().wait.max_reconnects)),
      on_update_(options.on_update),
      on_partial_update_(options.on_partial_update),
      on_delta_(options.on_delta),
      cancel_(options.cancel) {
  require_task_id(task_id_);
  if (options.deadline) {
    deadline_length_ = *options.deadline;
    deadline_ = started + *options.deadline;
  }
  if (created) {
    state_ = created->raw.is_object() ? created->raw : nlohmann::json::object();
    current_ = std::move(*created);
  } else {
    state_["id"] = task_id_;
    current_ = Task::from_json(state_);
  }
}

// --- cancellation and deadline ----------------------------------------------------------------

bool TaskFollowCore::deadline_passed() const { return deadline_ && Clock::now() >= *deadline_; }

void TaskFollowCore::throw_deadline() const {
  throw TimeoutError("task " + task_id_ + " did not reach a final status within the deadline of " +
                         std::to_string(deadline_length_.count()) +
                         " ms (WaitOptions::deadline); the task keeps running on the server",
                     true);
}

void TaskFollowCore::check_cancel_and_deadline() const {
  if (cancel_.is_cancelled()) throw CancelledError("the call was cancelled");
  if (deadline_passed()) throw_deadline();
}

std::chrono::milliseconds TaskFollowCore::clamp_to_deadline(std::chrono::milliseconds delay) const {
  if (!deadline_) return delay;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - Clock::now());
  return std::clamp(left, std::chrono::milliseconds(0), delay);
}

ApiCall TaskFollowCore::within_deadline(ApiCall call) const {
  call.deadline = deadline_;
  return call;
}

void TaskFollowCore::rethrow_call_failure(const std::exception_ptr& failure) const {
  try {
    std::rethrow_exception(failure);
  } catch (const CancelledError&) {
    throw;
  } catch (const ConnectionError&) {
    if (deadline_passed()) throw_deadline();
    throw;
  }
}

// --- updates ------------------------------------------------------------------------------------

const Task* TaskFollowCore::publish(const std::vector<std::string>* fields) {
  current_ = Task::from_json(state_);
  if (on_update_) on_update_(current_);
  if (fields != nullptr && on_partial_update_) on_partial_update_(current_, *fields);
  if (!current_.is_terminal()) return &current_;
  finished_ = true;
  if (current_.status == TaskStatus::failed) throw TaskFailedError(current_);
  if (current_.status == TaskStatus::cancelled) throw CancelledError("task cancelled", current_);
  return &current_;
}

const Task* TaskFollowCore::apply(StreamEvent&& event) {
  if (event.kind == StreamEvent::Kind::heartbeat) return nullptr;
  if (event.kind == StreamEvent::Kind::invalid) {
    // One bad payload (a proxy's garbage, a cut line) must not end the wait: it is skipped, as
    // the Python SDK does, and the state is confirmed if the stream ends without a final status.
    ++skipped_payloads_;
    if (skipped_payloads_ <= kLoggedSkipsPerConnection && core_->logging()) {
      core_->log(LogLevel::warning, "task " + task_id_ +
                                        ": skipped a stream payload: " + event.error +
                                        (skipped_payloads_ == kLoggedSkipsPerConnection
                                             ? " (further ones on this connection not logged)"
                                             : ""));
    }
    return nullptr;
  }
  if (event.kind == StreamEvent::Kind::typed && event.event == "delta") {
    if (on_delta_ && event.data.is_object()) {
      TaskDelta delta;
      if (auto it = event.data.find("delta"); it != event.data.end()) delta.delta = *it;
      if (auto it = event.data.find("seq"); it != event.data.end() && it->is_number_integer()) {
        delta.seq = it->get<std::int64_t>();
      }
      if (auto it = event.data.find("resource_id"); it != event.data.end() && it->is_string()) {
        delta.resource_id = it->get<std::string>();
      }
      on_delta_(delta);
    }
    return nullptr;
  }
  if (!merge_task_event(state_, event)) {
    // Nothing new, unless the state already is final (e.g. a task created as completed).
    const auto status = state_.find("status");
    if (status == state_.end() || !is_terminal(parse_task_status(*status))) return nullptr;
  } else {
    backoff_.progress();  // the state changed: the connection made progress
  }
  const bool partial = event.kind == StreamEvent::Kind::partial;
  return publish(partial ? &event.fields : nullptr);
}

// --- stream mode --------------------------------------------------------------------------------

HttpRequest TaskFollowCore::stream_request() const {
  HttpRequest request =
      build_stream_request(core_->options(), task_stream_path(task_id_), "application/x-ndjson");
  request.deadline = deadline_;
  return request;
}

std::string TaskFollowCore::open_failed(const std::exception_ptr& failure) const {
  try {
    std::rethrow_exception(failure);
  } catch (const ApiError& e) {
    // Server-side trouble may pass; a refused request (401, 404, ...) will not.
    if (!is_retryable_status(e.status())) throw;
    return std::string("could not be opened (") + e.what() + ")";
  } catch (const CancelledError&) {
    throw;
  } catch (const ConnectionError& e) {
    if (deadline_passed()) throw_deadline();
    return std::string("could not be opened (") + e.what() + ")";
  }
}

std::string TaskFollowCore::read_failed(const std::exception_ptr& failure) const {
  try {
    std::rethrow_exception(failure);
  } catch (const CancelledError&) {
    throw;
  } catch (const ConnectionError& e) {
    if (deadline_passed()) throw_deadline();
    return std::string("broke (") + e.what() + ")";
  }
}

bool TaskFollowCore::needs_confirmation(const std::string& reason) {
  if (skipped_payloads_ == 0) return false;
  skipped_payloads_ = 0;
  core_->log(LogLevel::info,
             "task " + task_id_ + ": the update stream " + reason +
                 " after a skipped payload; fetching the task to confirm its state");
  return true;
}

ApiCall TaskFollowCore::confirmation_call() const {
  return within_deadline(get_task_call(task_id_));
}

const Task* TaskFollowCore::confirmed(ApiResult full) {
  task_from_payload(full.data, "GET /tasks/" + task_id_);
  StreamEvent event;
  event.kind = StreamEvent::Kind::object;
  event.data = std::move(full.data);
  return apply(std::move(event));
}

void TaskFollowCore::confirmation_failed(const std::exception_ptr& failure) const {
  try {
    rethrow_call_failure(failure);
  } catch (const ApiError& e) {
    if (!is_retryable_status(e.status())) throw;
    core_->log(LogLevel::warning, "task " + task_id_ + ": fetching the task failed (" + e.what() +
                                      "); reconnecting to the stream instead");
  } catch (const ConnectionError& e) {
    if (deadline_passed()) throw;
    core_->log(LogLevel::warning, "task " + task_id_ + ": fetching the task failed (" + e.what() +
                                      "); reconnecting to the stream instead");
  }
}

std::chrono::milliseconds TaskFollowCore::reconnect_delay(const std::string& reason) {
  const auto delay = backoff_.next_delay();
  if (!delay) {
    throw StreamError("the update stream of task " + task_id_ + " " + reason + " " +
                      std::to_string(backoff_.failures()) +
                      " time(s) in a row before a final status");
  }
  core_->log(LogLevel::warning, "task " + task_id_ + ": update stream " + reason +
                                    "; reconnecting in " + std::to_string(delay->count()) +
                                    " ms (attempt " + std::to_string(backoff_.failures()) + " of " +
                                    std::to_string(backoff_.max_reconnects()) + ")");
  return *delay;
}

// --- poll mode ----------------------------------------------------------------------------------

std::chrono::milliseconds TaskFollowCore::next_poll_delay() {
  if (first_poll_) {
    first_poll_ = false;
    return std::chrono::milliseconds(0);
  }
  return poll_interval_;
}

bool TaskFollowCore::status_changed(const ApiResult& status) {
  TaskStatus polled = TaskStatus::unknown;
  if (status.data.is_object()) {
    if (auto it = status.data.find("status"); it != status.data.end()) {
      polled = parse_task_status(*it);
    }
  }
  if (last_polled_ && *last_polled_ == polled) return false;
  last_polled_ = polled;
  return true;
}

const Task* TaskFollowCore::polled(const ApiResult& full) {
  task_from_payload(full.data, "GET /tasks/" + task_id_);
  StreamEvent event;
  event.kind = StreamEvent::Kind::object;
  event.data = full.data;
  merge_task_event(state_, event);
  return publish(nullptr);
}

}  // namespace inferencesh::detail
