#include "tasks/task_api.hpp"

#include "http/api_envelope.hpp"
#include "http/event_stream.hpp"
#include "tasks/run_request.hpp"

namespace infsh::local {

namespace {

[[noreturn]] void task_not_found(const std::string& id) {
  throw ApiProblem(404, "task '" + id + "' not found");
}

Response answer_later(std::shared_ptr<PendingAnswer> pending) {
  Response response;
  response.pending = std::move(pending);
  return response;
}

// The answer when a change was made in memory but could not be written.
Response not_stored(const nlohmann::json& task) {
  const std::string id = task.is_object() ? task.value("id", std::string()) : "";
  return api_error(500, (id.empty() ? std::string("the change") : "task " + id) +
                            " was made but could not be written to the database (see the "
                            "runtime's log); it will not survive a restart");
}

// The task update stream (GET /tasks/{id}/stream) of a task known to exist: the full task first
// on every connect, then the full task after every change, heartbeats while idle, and the final
// state as the last line before the response ends.
Response task_stream_response(TaskEngine& engine, const std::string& task_id, StreamFormat format,
                              std::chrono::milliseconds heartbeat_interval) {
  return event_stream_response(
      format, heartbeat_interval,
      [&engine, task_id, format](const std::shared_ptr<StreamSink>& sink) {
        // The observer runs under the engine lock; the sink only queues, so it never blocks.
        return engine.subscribe(task_id,
                                [sink, format](const std::string& task_json, bool terminal) {
                                  sink->send(frame_event(format, task_json));
                                  if (terminal) sink->finish();
                                });
      },
      [&engine, task_id](std::uint64_t id) { engine.unsubscribe(task_id, id); });
}

}  // namespace

void register_task_routes(Router& router, TaskEngine& engine, const AppRegistry& apps,
                          const TaskApiSettings& settings) {
  // A creation and a cancel are answered once committed: one transaction carries every answer
  // waiting at that moment, and the event loop goes on meanwhile.
  router.add("POST", "/apps/run", [&engine, &apps, settings](Request& request, const PathParams&) {
    RunRequest run = parse_run_request(request.body, apps);
    if (settings.admit) settings.admit(run);
    auto pending = std::make_shared<PendingAnswer>();
    engine.create(std::move(run), [version = api_version(request), pending](
                                      const nlohmann::json& task, bool stored) {
      pending->give(stored ? api_success(version, task) : not_stored(task));
    });
    return answer_later(std::move(pending));
  });

  router.add("GET", "/tasks/{id}", [&engine](Request& request, const PathParams& params) {
    const auto& id = params.get("id");
    auto task = engine.task(id);
    if (!task) task_not_found(id);
    return api_success(request, *task);
  });

  router.add("GET", "/tasks/{id}/status", [&engine](Request& request, const PathParams& params) {
    const auto& id = params.get("id");
    auto status = engine.status(id);
    if (!status) task_not_found(id);
    return api_success(request, *status);
  });

  router.add("GET", "/tasks/{id}/stream",
             [&engine, settings](Request& request, const PathParams& params) {
               const auto& id = params.get("id");
               if (!engine.status(id)) task_not_found(id);
               return task_stream_response(engine, id, negotiate_stream_format(request),
                                           settings.heartbeat_interval);
             });

  router.add("POST", "/tasks/{id}/cancel", [&engine](Request& request, const PathParams& params) {
    const auto& id = params.get("id");
    if (!engine.cancel(id)) task_not_found(id);
    auto pending = std::make_shared<PendingAnswer>();
    engine.when_durable([version = api_version(request), pending](bool stored) {
      pending->give(stored ? api_success(version, nullptr) : not_stored(nullptr));
    });
    return answer_later(std::move(pending));
  });
}

}  // namespace infsh::local
