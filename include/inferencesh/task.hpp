#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/task_status.hpp"

namespace inferencesh {

/// One log entry of a task. Servers send either objects (`{content, log_type, ...}`) or plain
/// strings; both arrive here with the text in `content`.
struct TaskLog {
  std::string content;
  int log_type = 0;  ///< 0 build, 1 run, 2 serve, 3 setup, 4 task
  std::string created_at;
};

/// A task as the API reports it. The modelled fields are filled from `raw`, which keeps every
/// field the server sent (merged across stream updates), including ones this type does not model.
///
///     inf::Task t = client.tasks.get(id);
///     if (t.status == inf::TaskStatus::completed) use(t.output);
struct Task {
  std::string id;
  TaskStatus status = TaskStatus::unknown;
  nlohmann::json input;
  nlohmann::json output;
  nlohmann::json setup;
  std::string error;       ///< the server's error text; empty unless the task failed
  std::string session_id;  ///< set when the task ran in a session
  std::string app;         ///< `app_id` as sent by the server
  std::string function;
  std::vector<TaskLog> logs;
  std::string created_at;
  std::string updated_at;
  nlohmann::json raw = nlohmann::json::object();

  /// Builds a Task from a task object; fields of the wrong type are left empty, never thrown on.
  static Task from_json(const nlohmann::json& object);

  /// True once the task reached completed, failed or cancelled.
  bool is_terminal() const noexcept { return inferencesh::is_terminal(status); }
};

}  // namespace inferencesh
