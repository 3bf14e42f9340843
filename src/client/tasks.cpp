#include "inferencesh/tasks.hpp"

#include <chrono>
#include <optional>
#include <string>

#include "client_core.hpp"
#include "inferencesh/errors.hpp"
#include "input_files.hpp"
#include "task_follower.hpp"
#include "task_operations.hpp"

namespace inferencesh {
namespace {

using Clock = std::chrono::steady_clock;

Task drain(detail::TaskFollower& follower) {
  while (follower.next() != nullptr) {
  }
  return follower.current();
}

// POST /apps/run within the call's deadline, which counts from `started`: the task is not
// created once the deadline passed (uploading input files may have used it up).
Task create_task(const detail::ClientCore& core, nlohmann::json body, std::string idempotency_key,
                 const CancellationToken& cancel,
                 const std::optional<std::chrono::milliseconds>& deadline,
                 Clock::time_point started) {
  auto call = detail::run_task_call(std::move(body), std::move(idempotency_key));
  const auto passed = [&] { return deadline && Clock::now() >= started + *deadline; };
  const auto timeout = [&](const char* when) {
    return detail::run_deadline_error(*deadline, when);
  };
  if (passed()) throw timeout("before the task was created");
  if (deadline) call.deadline = started + *deadline;
  try {
    const auto result = core.call(call, cancel);
    return detail::task_from_payload(result.data, "POST /apps/run");
  } catch (const CancelledError&) {
    throw;
  } catch (const ConnectionError&) {
    if (passed()) throw timeout("while the task was being created (it may have been)");
    throw;
  }
}

}  // namespace

WaitOptions RunOptions::waiting() const {
  WaitOptions options;
  options.mode = mode;
  options.poll_interval = poll_interval;
  options.max_reconnects = max_reconnects;
  options.deadline = deadline;
  options.on_update = on_update;
  options.on_partial_update = on_partial_update;
  options.on_delta = on_delta;
  options.cancel = cancel;
  return options;
}

Task Tasks::run(const nlohmann::json& params, const RunOptions& options) const {
  const auto started = Clock::now();
  auto body = detail::prepare_run_body(params);
  detail::upload_input_files(*core_, body["input"], core_->options().upload_file_like_strings,
                             options.cancel);
  Task created = create_task(*core_, std::move(body), options.idempotency_key, options.cancel,
                             options.deadline, started);
  if (!options.wait) return created;
  std::string id = created.id;
  detail::TaskFollower follower(core_, std::move(id), std::move(created), options.waiting(),
                                started);
  return drain(follower);
}

TaskStream Tasks::run(const nlohmann::json& params, stream_t, const WaitOptions& options) const {
  const auto started = Clock::now();
  auto body = detail::prepare_run_body(params);
  detail::upload_input_files(*core_, body["input"], core_->options().upload_file_like_strings,
                             options.cancel);
  Task created =
      create_task(*core_, std::move(body), {}, options.cancel, options.deadline, started);
  std::string id = created.id;
  return TaskStream(std::make_unique<detail::TaskFollower>(core_, std::move(id), std::move(created),
                                                           options, started));
}

Task Tasks::get(const std::string& task_id) const {
  const auto result = core_->call(detail::get_task_call(task_id));
  return detail::task_from_payload(result.data, "GET /tasks/" + task_id);
}

void Tasks::cancel(const std::string& task_id) const {
  core_->call(detail::cancel_task_call(task_id));
}

Task Tasks::wait_for_completion(const std::string& task_id, const WaitOptions& options) const {
  detail::TaskFollower follower(core_, task_id, std::nullopt, options);
  return drain(follower);
}

TaskStream Tasks::stream(const std::string& task_id, const WaitOptions& options) const {
  return TaskStream(std::make_unique<detail::TaskFollower>(core_, task_id, std::nullopt, options));
}

}  // namespace inferencesh
