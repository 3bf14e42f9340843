#include "tasks/task_record.hpp"

#include <cstdint>
#include <stdexcept>

namespace infsh::local {

std::string_view status_name(TaskStatus status) noexcept {
  switch (status) {
    case TaskStatus::unknown:
      return "unknown";
    case TaskStatus::received:
      return "received";
    case TaskStatus::queued:
      return "queued";
    case TaskStatus::dispatched:
      return "dispatched";
    case TaskStatus::preparing:
      return "preparing";
    case TaskStatus::serving:
      return "serving";
    case TaskStatus::setting_up:
      return "setting_up";
    case TaskStatus::running:
      return "running";
    case TaskStatus::cancelling:
      return "cancelling";
    case TaskStatus::uploading:
      return "uploading";
    case TaskStatus::completed:
      return "completed";
    case TaskStatus::failed:
      return "failed";
    case TaskStatus::cancelled:
      return "cancelled";
  }
  return "unknown";
}

namespace {

nlohmann::json extra_or(const TaskRecord& task, const char* key, nlohmann::json fallback) {
  const auto it = task.request_extras.find(key);
  if (it == task.request_extras.end()) return fallback;
  return *it;
}

}  // namespace

nlohmann::json to_task_dto(const TaskRecord& task) {
  nlohmann::json logs = nlohmann::json::array();
  for (const auto& log : task.logs) {
    logs.push_back({{"id", log.id},
                    {"created_at", log.created_at},
                    {"updated_at", log.created_at},
                    {"task_id", task.id},
                    {"log_type", static_cast<int>(log.type)},
                    {"content", log.content}});
  }
  nlohmann::json events = nlohmann::json::array();
  for (const auto& event : task.events) {
    events.push_back({{"id", event.id},
                      {"created_at", event.created_at},
                      {"event_time", event.created_at},
                      {"task_id", task.id},
                      {"status", static_cast<int>(event.status)}});
  }
  nlohmann::json session_id = nullptr;
  if (task.session_id) session_id = *task.session_id;
  nlohmann::json error = nullptr;
  if (!task.error.empty()) error = task.error;
  return {
      {"id", task.id},
      {"short_id", task.id.substr(task.id.size() > 8 ? task.id.size() - 8 : 0)},
      {"created_at", task.created_at},
      {"updated_at", task.updated_at},
      {"deleted_at", nullptr},
      {"user_id", "local"},
      {"team_id", "local"},
      {"visibility", "private"},
      {"is_featured", false},
      {"status", static_cast<int>(task.status)},
      {"app_id", task.app_ref},
      {"app_version_id", task.version},
      {"app_variant", ""},
      {"function", task.function},
      {"infra", extra_or(task, "infra", "private")},
      {"workers", extra_or(task, "workers", nlohmann::json::array())},
      {"webhook", extra_or(task, "webhook", nullptr)},
      {"run_at", extra_or(task, "run_at", nullptr)},
      {"metadata", extra_or(task, "metadata", nullptr)},
      {"session_timeout", extra_or(task, "session_timeout", nullptr)},
      {"setup", task.setup},
      {"input", task.input},
      {"output", task.output},
      {"error", error},
      {"rating", "unrated"},
      {"logs", std::move(logs)},
      {"events", std::move(events)},
      {"usage_events", nlohmann::json::array()},
      {"session_id", session_id},
  };
}

namespace {

std::string text_of(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

TaskStatus status_of(const nlohmann::json& object) {
  const auto it = object.find("status");
  if (it == object.end() || !it->is_number_integer()) return TaskStatus::unknown;
  const auto value = it->get<std::int64_t>();
  return value >= 0 && value <= static_cast<int>(TaskStatus::cancelled)
             ? static_cast<TaskStatus>(value)
             : TaskStatus::unknown;
}

}  // namespace

TaskRecord task_record_from_dto(const nlohmann::json& dto) {
  if (!dto.is_object() || !dto.contains("id")) {
    throw std::invalid_argument("a stored task is not a TaskDTO object");
  }
  TaskRecord task;
  task.id = text_of(dto, "id");
  task.app_ref = text_of(dto, "app_id");
  task.app_name = task.app_ref.substr(0, task.app_ref.find('@'));
  task.version = text_of(dto, "app_version_id");
  task.function = text_of(dto, "function");
  task.status = status_of(dto);
  task.input = dto.value("input", nlohmann::json::object());
  task.output = dto.value("output", nlohmann::json());
  task.setup = dto.value("setup", nlohmann::json());
  task.error = text_of(dto, "error");
  if (const auto logs = dto.find("logs"); logs != dto.end() && logs->is_array()) {
    for (const auto& log : *logs) {
      if (!log.is_object()) continue;
      task.logs.push_back({text_of(log, "id"), text_of(log, "created_at"),
                           static_cast<LogType>(log.value("log_type", 4)),
                           text_of(log, "content")});
    }
  }
  if (const auto events = dto.find("events"); events != dto.end() && events->is_array()) {
    for (const auto& event : *events) {
      if (!event.is_object()) continue;
      task.events.push_back({text_of(event, "id"), text_of(event, "created_at"), status_of(event)});
    }
  }
  if (const auto session = dto.find("session_id"); session != dto.end() && session->is_string()) {
    task.session_id = session->get<std::string>();
  }
  for (const char* key : {"infra", "workers", "webhook", "run_at", "metadata", "session_timeout"}) {
    if (const auto it = dto.find(key); it != dto.end()) task.request_extras[key] = *it;
  }
  task.created_at = text_of(dto, "created_at");
  task.updated_at = text_of(dto, "updated_at");
  return task;
}

nlohmann::json to_status_dto(const TaskRecord& task) {
  return {
      {"id", task.id}, {"status", static_cast<int>(task.status)}, {"updated_at", task.updated_at}};
}

}  // namespace infsh::local
