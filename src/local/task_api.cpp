#include "task_api.hpp"

#include "api_envelope.hpp"
#include "event_stream.hpp"
#include "run_request.hpp"

namespace infsh::local {

namespace {

[[noreturn]] void task_not_found(const std::string& id) {
  throw ApiProblem(404, "task '" + id + "' not found");
}

// Answers with `payload` once the engine's changes so far are committed: one transaction
// carries every answer waiting at that moment, and the event loop goes on meanwhile.
void answer_when_durable(TaskEngine& engine, ApiVersion version, nlohmann::json payload,
                         std::function<void(Response)> respond) {
  engine.when_durable(
      [version, payload = std::move(payload), respond = std::move(respond)](bool stored) {
        if (stored) {
          respond(api_success(version, payload));
          return;
        }
        const std::string id = payload.is_object() ? payload.value("id", std::string()) : "";
        respond(api_error(500, (id.empty() ? std::string("the change") : "task " + id) +
                                   " was made but could not be written to the database (see the "
                                   "runtime's log); it will not survive a restart"));
      });
}

}  // namespace

void register_task_routes(Router& router, TaskEngine& engine, const AppRegistry& apps,
                          TaskApiSettings settings) {
  router.add_deferred(
      "POST", "/apps/run",
      [&engine, &apps](Request& request, const PathParams&, std::function<void(Response)> respond) {
        nlohmann::json task = engine.create(parse_run_request(request.body, apps));
        answer_when_durable(engine, api_version(request), std::move(task), std::move(respond));
      },
      settings.max_body_bytes);

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

  router.add_deferred(
      "POST", "/tasks/{id}/cancel",
      [&engine](Request& request, const PathParams& params, std::function<void(Response)> respond) {
        const auto& id = params.get("id");
        if (!engine.cancel(id)) task_not_found(id);
        answer_when_durable(engine, api_version(request), nullptr, std::move(respond));
      },
      settings.max_body_bytes);
}

}  // namespace infsh::local
