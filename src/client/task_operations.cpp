#include "task_operations.hpp"

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {

nlohmann::json prepare_run_body(const nlohmann::json& params) {
  if (!params.is_object()) {
    throw InvalidArgumentError("run params must be a JSON object, got " +
                               std::string(params.type_name()));
  }
  nlohmann::json body = params;
  const auto app = body.find("app");
  const bool has_app =
      app != body.end() && app->is_string() && !app->get_ref<const std::string&>().empty();
  const bool has_app_id = body.contains("app_id") && body["app_id"].is_string();
  if (!has_app && !has_app_id) {
    throw InvalidArgumentError(
        "run params: \"app\" is required and must be a non-empty string such as "
        "\"namespace/name@version\"");
  }
  const auto input = body.find("input");
  if (input == body.end() || input->is_null()) {
    body["input"] = nlohmann::json::object();
  }
  const auto timeout = body.find("session_timeout");
  if (timeout != body.end() && !timeout->is_null()) {
    if (!timeout->is_number_integer()) {
      throw InvalidArgumentError(
          "run params: session_timeout must be an integer number of seconds");
    }
    const auto seconds = timeout->get<long long>();
    if (seconds < 1 || seconds > 3600) {
      throw InvalidArgumentError(
          "run params: session_timeout must be between 1 and 3600 seconds, got " +
          std::to_string(seconds));
    }
    const auto session = body.find("session");
    if (session == body.end() || !session->is_string() || session->get<std::string>() != "new") {
      throw InvalidArgumentError(
          "run params: session_timeout is only valid together with session: \"new\"");
    }
  }
  return body;
}

void require_task_id(std::string_view task_id) {
  if (task_id.empty()) throw InvalidArgumentError("task id must not be empty");
}

ApiCall run_task_call(nlohmann::json body, std::string idempotency_key) {
  ApiCall call;
  call.method = "POST";
  call.path = "/apps/run";
  call.body = std::move(body);
  call.idempotency_key = std::move(idempotency_key);
  return call;
}

ApiCall get_task_call(std::string_view task_id) {
  require_task_id(task_id);
  ApiCall call;
  call.path = "/tasks/" + encode_path_segment(task_id);
  return call;
}

ApiCall cancel_task_call(std::string_view task_id) {
  require_task_id(task_id);
  ApiCall call;
  call.method = "POST";
  call.path = "/tasks/" + encode_path_segment(task_id) + "/cancel";
  return call;
}

ApiCall task_status_call(std::string_view task_id) {
  require_task_id(task_id);
  ApiCall call;
  call.path = "/tasks/" + encode_path_segment(task_id) + "/status";
  return call;
}

std::string task_stream_path(std::string_view task_id) {
  require_task_id(task_id);
  return "/tasks/" + encode_path_segment(task_id) + "/stream";
}

Task task_from_payload(const nlohmann::json& data, std::string_view what) {
  if (!data.is_object()) {
    throw DecodeError(std::string(what) + ": expected a task object, got " + data.type_name());
  }
  Task task = Task::from_json(data);
  if (task.id.empty()) throw DecodeError(std::string(what) + ": the task has no id");
  return task;
}

bool merge_task_event(nlohmann::json& task, const StreamEvent& event) {
  switch (event.kind) {
    case StreamEvent::Kind::heartbeat:
    case StreamEvent::Kind::invalid:
      return false;
    case StreamEvent::Kind::typed:
      if (event.event == "delta" || !event.data.is_object()) return false;
      break;
    case StreamEvent::Kind::object:
    case StreamEvent::Kind::partial:
      if (!event.data.is_object()) return false;
      break;
  }
  if (!task.is_object()) task = nlohmann::json::object();
  bool changed = false;
  for (const auto& [key, value] : event.data.items()) {
    auto& slot = task[key];
    if (slot != value) {
      slot = value;
      changed = true;
    }
  }
  return changed;
}

TimeoutError run_deadline_error(std::chrono::milliseconds deadline, const char* when) {
  return {"run: the deadline of " + std::to_string(deadline.count()) +
              " ms (WaitOptions::deadline) passed " + when,
          true};
}

}  // namespace inferencesh::detail
