#pragma once

// The task endpoint group: POST /apps/run, GET /tasks/{id}, GET /tasks/{id}/status,
// GET /tasks/{id}/stream, POST /tasks/{id}/cancel. A creation and an accepted cancel are
// answered once they are on disk (TaskEngine::when_durable), so what a client was told survives
// a crash of the runtime (PendingAnswer).

#include <chrono>
#include <functional>

#include "http/router.hpp"
#include "infsh/local/app.hpp"
#include "tasks/task_engine.hpp"

namespace infsh::local {

struct TaskApiSettings {
  std::chrono::milliseconds heartbeat_interval{15000};
  /// Checks of a run request beyond its own fields (the webhook's target), before its task is
  /// created; throws ApiProblem.
  std::function<void(const RunRequest&)> admit;
};

void register_task_routes(Router& router, TaskEngine& engine, const AppRegistry& apps,
                          const TaskApiSettings& settings);

}  // namespace infsh::local
