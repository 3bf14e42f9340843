#include "task_record.hpp"

namespace infsh::local {

std::string_view status_name(TaskStatus status) noexcept {
  switch (status) {
    case TaskStatus::unknown: return "unknown";
    case TaskStatus::received: return "received";
    case TaskStatus::queued: return "queued";
    case TaskStatus::dispatched: return "dispatched";
    case TaskStatus::preparing: return "preparing";
    case TaskStatus::serving: return "serving";
    case TaskStatus::setting_up: return "setting_up";
    case TaskStatus::running: return "running";
    case TaskStatus::cancelling: return "cancelling";
    case TaskStatus::uploading: return "uploading";
    case TaskStatus::completed: return "completed";
    case TaskStatus::failed: return "failed";
    case TaskStatus::cancelled: return "cancelled";
  }
  return "unknown";
}

namespace {

nlohmann::json extra_or(const TaskRecord& task, const char* key, nlohmann::json fallback) {
  const auto it = task.request_extras.find(key);
  return it == task.request_extras.end() ? std::move(fallback) : *it;
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

nlohmann::json to_status_dto(const TaskRecord& task) {
  return {{"id", task.id}, {"status", static_cast<int>(task.status)},
          {"updated_at", task.updated_at}};
}

}  // namespace infsh::local
