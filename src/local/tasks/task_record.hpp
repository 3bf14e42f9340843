#pragma once

// A task as the runtime keeps it, and its wire forms (TaskDTO, ResourceStatusDTO).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/task_status.hpp"

namespace infsh::local {

/// Task status numbers and names: the client library's, so the runtime and the client can never
/// disagree on what a number means (protocol-tasks-files.md 4.2).
using TaskStatus = inferencesh::TaskStatus;
using inferencesh::is_terminal;

/// TaskLog.log_type values.
enum class LogType : int { build = 0, run = 1, serve = 2, setup = 3, task = 4 };

struct TaskLogEntry {
  std::string id;
  std::string created_at;
  LogType type = LogType::task;
  std::string content;
};

struct TaskEventEntry {
  std::string id;
  std::string created_at;
  TaskStatus status = TaskStatus::unknown;
};

struct TaskRecord {
  std::string id;
  std::string app_name;  ///< "infsh/echo"
  std::string app_ref;   ///< as requested, without ":function", e.g. "infsh/echo@v1" (app_id)
  std::string version;   ///< the part after '@', possibly empty
  std::string function;  ///< e.g. "run"
  TaskStatus status = TaskStatus::received;
  nlohmann::json input = nlohmann::json::object();
  nlohmann::json output;  ///< null until a (partial) output exists
  nlohmann::json setup;   ///< null without setup
  std::string error;      ///< the failure text; empty unless failed
  std::vector<TaskLogEntry> logs;
  std::vector<TaskEventEntry> events;
  std::optional<std::string> session_id;
  /// Request fields kept as sent and echoed in the DTO: infra, workers, webhook, run_at,
  /// metadata, session_timeout.
  nlohmann::json request_extras = nlohmann::json::object();
  std::string created_at;
  std::string updated_at;
};

/// The TaskDTO: every field the references list, with defaults for what the runtime lacks.
nlohmann::json to_task_dto(const TaskRecord& task);

/// A task rebuilt from its TaskDTO, as the durable store keeps it; to_task_dto() of the result
/// gives the same DTO. Throws std::invalid_argument when `dto` is not a TaskDTO object.
TaskRecord task_record_from_dto(const nlohmann::json& dto);

/// The ResourceStatusDTO of GET /tasks/{id}/status: {id, status, updated_at}.
nlohmann::json to_status_dto(const TaskRecord& task);

}  // namespace infsh::local
