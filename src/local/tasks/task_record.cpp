#include "tasks/task_record.hpp"

#include <cstdint>
#include <stdexcept>

#include "common/json_fields.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

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

TaskStatus status_of(const nlohmann::json& object) {
  const auto it = object.find("status");
  if (it == object.end() || !it->is_number_integer()) return TaskStatus::unknown;
  return inferencesh::task_status_from_int(it->get<std::int64_t>());
}

}  // namespace

TaskRecord task_record_from_dto(const nlohmann::json& dto) {
  if (!dto.is_object() || !dto.contains("id")) {
    throw std::invalid_argument("a stored task is not a TaskDTO object");
  }
  TaskRecord task;
  task.id = common::string_field_or(dto, "id");
  task.app_ref = common::string_field_or(dto, "app_id");
  task.app_name = task.app_ref.substr(0, task.app_ref.find('@'));
  task.version = common::string_field_or(dto, "app_version_id");
  task.function = common::string_field_or(dto, "function");
  task.status = status_of(dto);
  task.input = dto.value("input", nlohmann::json::object());
  task.output = dto.value("output", nlohmann::json());
  task.setup = dto.value("setup", nlohmann::json());
  task.error = common::string_field_or(dto, "error");
  if (const auto logs = dto.find("logs"); logs != dto.end() && logs->is_array()) {
    for (const auto& log : *logs) {
      if (!log.is_object()) continue;
      task.logs.push_back({common::string_field_or(log, "id"),
                           common::string_field_or(log, "created_at"),
                           static_cast<LogType>(log.value("log_type", 4)),
                           common::string_field_or(log, "content")});
    }
  }
  if (const auto events = dto.find("events"); events != dto.end() && events->is_array()) {
    for (const auto& event : *events) {
      if (!event.is_object()) continue;
      task.events.push_back({common::string_field_or(event, "id"),
                             common::string_field_or(event, "created_at"), status_of(event)});
    }
  }
  if (const auto session = dto.find("session_id"); session != dto.end() && session->is_string()) {
    task.session_id = session->get<std::string>();
  }
  for (const char* key : {"infra", "workers", "webhook", "run_at", "metadata", "session_timeout"}) {
    if (const auto it = dto.find(key); it != dto.end()) task.request_extras[key] = *it;
  }
  task.created_at = common::string_field_or(dto, "created_at");
  task.updated_at = common::string_field_or(dto, "updated_at");
  return task;
}

nlohmann::json to_status_dto(const TaskRecord& task) {
  return {
      {"id", task.id}, {"status", static_cast<int>(task.status)}, {"updated_at", task.updated_at}};
}

}  // namespace infsh::local
