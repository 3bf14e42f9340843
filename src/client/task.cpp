#include "inferencesh/task.hpp"

namespace inferencesh {
namespace {

std::string string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

nlohmann::json json_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it == object.end() ? nlohmann::json() : *it;
}

std::vector<TaskLog> parse_logs(const nlohmann::json& value) {
  std::vector<TaskLog> logs;
  if (!value.is_array()) return logs;
  logs.reserve(value.size());
  for (const auto& entry : value) {
    TaskLog log;
    if (entry.is_string()) {
      log.content = entry.get<std::string>();
    } else if (entry.is_object()) {
      log.content = string_field(entry, "content");
      const auto type = entry.find("log_type");
      if (type != entry.end() && type->is_number_integer()) log.log_type = type->get<int>();
      log.created_at = string_field(entry, "created_at");
    } else {
      continue;
    }
    logs.push_back(std::move(log));
  }
  return logs;
}

}  // namespace

Task Task::from_json(const nlohmann::json& object) {
  Task task;
  if (!object.is_object()) return task;
  task.raw = object;
  task.id = string_field(object, "id");
  task.status = parse_task_status(json_field(object, "status"));
  task.input = json_field(object, "input");
  task.output = json_field(object, "output");
  task.setup = json_field(object, "setup");
  task.error = string_field(object, "error");
  task.session_id = string_field(object, "session_id");
  task.app = string_field(object, "app_id");
  task.function = string_field(object, "function");
  task.logs = parse_logs(json_field(object, "logs"));
  task.created_at = string_field(object, "created_at");
  task.updated_at = string_field(object, "updated_at");
  return task;
}

}  // namespace inferencesh
