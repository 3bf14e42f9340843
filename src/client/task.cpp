#include "inferencesh/task.hpp"

#include "common/json_fields.hpp"

namespace inferencesh {
namespace {

std::vector<TaskLog> parse_logs(const nlohmann::json& value) {
  std::vector<TaskLog> logs;
  if (!value.is_array()) return logs;
  logs.reserve(value.size());
  for (const auto& entry : value) {
    TaskLog log;
    if (entry.is_string()) {
      log.content = entry.get<std::string>();
    } else if (entry.is_object()) {
      log.content = common::string_field_or(entry, "content");
      const auto type = entry.find("log_type");
      if (type != entry.end() && type->is_number_integer()) log.log_type = type->get<int>();
      log.created_at = common::string_field_or(entry, "created_at");
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
  task.id = common::string_field_or(object, "id");
  task.status = parse_task_status(common::field_or_null(object, "status"));
  task.input = common::field_or_null(object, "input");
  task.output = common::field_or_null(object, "output");
  task.setup = common::field_or_null(object, "setup");
  task.error = common::string_field_or(object, "error");
  task.session_id = common::string_field_or(object, "session_id");
  task.app = common::string_field_or(object, "app_id");
  task.function = common::string_field_or(object, "function");
  task.logs = parse_logs(common::field_or_null(object, "logs"));
  task.created_at = common::string_field_or(object, "created_at");
  task.updated_at = common::string_field_or(object, "updated_at");
  return task;
}

}  // namespace inferencesh
