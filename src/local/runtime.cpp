// Wires the runtime together: store, warm instances, workers, engine, routes and the server,
// and runs the graceful shutdown in the right order.

#include "infsh/local/runtime.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "api_envelope.hpp"
#include "http_server.hpp"
#include "instance_pool.hpp"
#include "logger.hpp"
#include "router.hpp"
#include "task_api.hpp"
#include "task_engine.hpp"
#include "task_store.hpp"
#include "worker_pool.hpp"

namespace infsh::local {

namespace {

HttpServerOptions server_options(const RuntimeOptions& options) {
  HttpServerOptions server;
  server.host = options.host;
  server.port = options.port;
  server.max_body_bytes = options.max_body_bytes;
  server.max_header_bytes = options.max_header_bytes;
  server.max_connections = options.max_connections;
  server.request_timeout = options.request_timeout;
  server.write_timeout = options.write_timeout;
  server.max_stream_backlog_bytes = options.max_stream_backlog_bytes;
  return server;
}

}  // namespace

// Members are destroyed in reverse order: the server (and its connections) first, the engine
// and the workers after it.
struct Runtime::Impl {
  explicit Impl(RuntimeOptions options_)
      : options(std::move(options_)),
        log(options.log_level, options.log_sink),
        store(make_memory_task_store()),
        instances(std::max<std::size_t>(16, options.workers * 2)),
        workers(std::max<std::size_t>(1, options.workers), log),
        engine(*store, instances, workers, log),
        router(log, options.api_key) {
    if (options.demo_apps) add_demo_apps(apps);
    register_task_routes(router, engine, apps, {options.heartbeat_interval});
    router.add(
        "GET", "/health",
        [](Request& request, const PathParams&) {
          return api_success(request, {{"status", "ok"}});
        },
        RouteOptions{.authenticated = false});
  }

  RuntimeOptions options;
  Logger log;
  AppRegistry apps;
  std::unique_ptr<TaskStore> store;
  InstancePool instances;
  WorkerPool workers;
  TaskEngine engine;
  Router router;
  std::optional<HttpServer> server;

  std::mutex state_mutex;
  std::condition_variable state_changed;
  bool started = false;
  bool stopping = false;
  bool stopped = false;
};

Runtime::Runtime(RuntimeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Runtime::~Runtime() {
  try {
    stop();
  } catch (const std::exception& e) {
    impl_->log.error(std::string("runtime shutdown failed: ") + e.what());
  }
}

AppRegistry& Runtime::apps() noexcept { return impl_->apps; }

void Runtime::start() {
  Impl& s = *impl_;
  std::lock_guard lock(s.state_mutex);
  if (s.started) throw std::logic_error("Runtime::start called twice");
  s.server.emplace(
      server_options(s.options), [&s](Request& request) { return s.router.handle(request); },
      [](int status, const std::string& message) { return api_error(status, message); }, s.log);
  s.server->start();
  s.started = true;
  s.log.info("listening on " + url() + (s.options.api_key.empty() ? "" : " (API key required)"));
}

std::string Runtime::url() const {
  const std::string& host = impl_->options.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port());
}

std::uint16_t Runtime::port() const {
  return impl_->server ? impl_->server->port() : impl_->options.port;
}

void Runtime::stop() {
  Impl& s = *impl_;
  {
    std::unique_lock lock(s.state_mutex);
    if (s.stopping) {
      s.state_changed.wait(lock, [&] { return s.stopped; });
      return;
    }
    s.stopping = true;
  }
  if (s.server) {
    s.server->stop_accepting();
    s.engine.begin_shutdown();
    if (!s.engine.wait_idle(s.options.shutdown_grace)) {
      s.log.warning("some tasks did not honour their cancellation in time; waiting for them");
    }
  }
  s.workers.stop();  // runs what is queued (all cancelled), joins the threads
  if (s.server) {
    if (!s.server->wait_for_streams_closed(s.options.shutdown_grace)) {
      s.log.warning("some streams did not take their final line in time; closing them");
    }
    s.server->stop();
  }
  s.instances.clear();
  {
    std::lock_guard lock(s.state_mutex);
    s.stopped = true;
  }
  s.state_changed.notify_all();
}

void Runtime::wait() {
  Impl& s = *impl_;
  std::unique_lock lock(s.state_mutex);
  s.state_changed.wait(lock, [&] { return s.stopped; });
}

void Runtime::drop_streams() {
  if (impl_->server) impl_->server->drop_streams();
}

RuntimeStats Runtime::stats() const {
  const Impl& s = *impl_;
  RuntimeStats stats;
  if (s.server) {
    const auto http = s.server->stats();
    stats.open_connections = http.open_connections;
    stats.open_streams = http.open_streams;
    stats.streams_opened = http.streams_opened;
    stats.requests = http.requests;
  }
  stats.tasks = s.engine.task_count();
  stats.active_tasks = s.engine.active_count();
  stats.warm_instances = s.instances.idle();
  return stats;
}

}  // namespace infsh::local
