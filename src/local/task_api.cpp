#include "task_api.hpp"

#include "api_envelope.hpp"
#include "event_stream.hpp"
#include "run_request.hpp"

namespace infsh::local {

namespace {

[[noreturn]] void task_not_found(const std::string& id) {
  throw ApiProblem(404, "task '" + id + "' not found");
}

}  // namespace

void register_task_routes(Router& router, TaskEngine& engine, const AppRegistry& apps,
                          TaskApiSettings settings) {
  router.add("POST", "/apps/run", [&engine, &apps, settings](Request& request, const PathParams&) {
    RunRequest run = parse_run_request(request.body, apps);
    if (settings.admit) settings.admit(run);
    return api_success(request, engine.create(std::move(run)));
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
    return api_void(request);
  });
}

}  // namespace infsh::local
