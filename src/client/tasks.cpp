#include "inferencesh/tasks.hpp"

#include "client_core.hpp"
#include "inferencesh/errors.hpp"
#include "input_files.hpp"
#include "task_follower.hpp"
#include "task_operations.hpp"

namespace inferencesh {
namespace {

Task drain(detail::TaskFollower& follower) {
  while (follower.next() != nullptr) {
  }
  return follower.current();
}

}  // namespace

WaitOptions RunOptions::waiting() const {
  WaitOptions options;
  options.mode = mode;
  options.poll_interval = poll_interval;
  options.max_reconnects = max_reconnects;
  options.on_update = on_update;
  options.on_partial_update = on_partial_update;
  options.on_delta = on_delta;
  options.cancel = cancel;
  return options;
}

Task Tasks::run(const nlohmann::json& params, const RunOptions& options) const {
  auto body = detail::prepare_run_body(params);
  detail::upload_input_files(*core_, body["input"], core_->options().upload_file_like_strings,
                             options.cancel);
  const auto result =
      core_->call(detail::run_task_call(std::move(body), options.idempotency_key), options.cancel);
  Task created = detail::task_from_payload(result.data, "POST /apps/run");
  if (!options.wait) return created;
  std::string id = created.id;
  detail::TaskFollower follower(core_, std::move(id), std::move(created), options.waiting());
  return drain(follower);
}

TaskStream Tasks::run(const nlohmann::json& params, stream_t, const WaitOptions& options) const {
  auto body = detail::prepare_run_body(params);
  detail::upload_input_files(*core_, body["input"], core_->options().upload_file_like_strings,
                             options.cancel);
  const auto result = core_->call(detail::run_task_call(std::move(body), {}), options.cancel);
  Task created = detail::task_from_payload(result.data, "POST /apps/run");
  std::string id = created.id;
  return TaskStream(
      std::make_unique<detail::TaskFollower>(core_, std::move(id), std::move(created), options));
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
