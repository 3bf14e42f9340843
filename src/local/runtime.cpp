// Wires the runtime together: store, warm instances, workers, engine, routes and the server,
// and runs the graceful shutdown in the right order.

#include "infsh/local/runtime.hpp"

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "apps/builtin/builtin_apps.hpp"
#include "apps/instance_pool.hpp"
#include "apps/program_app.hpp"
#include "apps/worker_pool.hpp"
#include "chats/agent_api.hpp"
#include "chats/agent_catalog.hpp"
#include "chats/agent_config.hpp"
#include "chats/chat_api.hpp"
#include "chats/chat_engine.hpp"
#include "chats/chat_store.hpp"
#include "chats/tool_requests.hpp"
#include "files/file_api.hpp"
#include "files/file_store.hpp"
#include "http/api_envelope.hpp"
#include "http/base_url.hpp"
#include "http/http_server.hpp"
#include "http/router.hpp"
#include "sessions/session_api.hpp"
#include "sessions/session_manager.hpp"
#include "store/data_directory.hpp"
#include "store/sqlite_database.hpp"
#include "store/task_store.hpp"
#include "support/logger.hpp"
#include "support/secrets.hpp"
#include "support/serial_executor.hpp"
#include "tasks/task_api.hpp"
#include "tasks/task_engine.hpp"
#include "tasks/task_files.hpp"
#include "tasks/webhook_deliverer.hpp"
#include "tasks/webhook_url.hpp"

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
  server.allowed_hosts = options.allowed_hosts;
  server.max_buffered_body_bytes = options.max_buffered_body_bytes;
  server.min_body_rate = options.min_body_rate;
  server.max_total_stream_backlog_bytes = options.max_total_stream_backlog_bytes;
  return server;
}

WebhookSettings webhook_settings(const RuntimeOptions& options) {
  WebhookSettings settings;
  settings.attempt_timeout = options.webhook_timeout;
  settings.max_attempts = std::max(1, options.webhook_attempts);
  settings.first_retry_delay = options.webhook_retry_delay;
  return settings;
}

// The program of an --app, as an absolute path to an executable file; throws naming it.
std::string checked_program_path(const AppProgram& program) {
  const std::string what = "app program '" + program.name + "' (" + program.path + "): ";
  check_app_name(program.name);
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path path = fs::absolute(program.path, error);
  if (error || !fs::exists(path, error)) throw std::runtime_error(what + "no such file");
  if (!fs::is_regular_file(path, error)) throw std::runtime_error(what + "not a regular file");
  if (::access(path.c_str(), X_OK) != 0) {
    throw std::runtime_error(what + "not executable (chmod +x?)");
  }
  return path.lexically_normal().string();
}

ChatEngineOptions chat_options(const RuntimeOptions& options,
                               const std::shared_ptr<const Secrets>& secrets) {
  ChatEngineOptions chats;
  chats.secret = [secrets](const std::string& name) { return secrets->find(name); };
  chats.max_steps = std::max(1, options.agent_max_steps);
  chats.max_depth = std::max(0, options.agent_max_depth);
  chats.stream_grace = options.agent_stream_grace;
  return chats;
}

// The AgentConfig in an --agent file; throws naming the file and what is wrong.
nlohmann::json agent_template_config(const AgentTemplate& spec) {
  const std::string what = "agent template '" + spec.name + "' (" + spec.path + "): ";
  std::ifstream in(spec.path);
  if (!in) throw std::runtime_error(what + "cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return checked_agent_config(nlohmann::json::parse(text.str()), "agent", true);
  } catch (const ApiProblem& e) {
    throw std::runtime_error(what + e.what());
  } catch (const std::exception& e) {
    throw std::runtime_error(what + "not JSON: " + e.what());
  }
}

}  // namespace

AgentTemplate parse_agent_template(std::string_view spec) {
  const auto equals = spec.find('=');
  const std::string text(spec.substr(0, 200));
  if (equals == std::string_view::npos || equals == 0 || equals + 1 == spec.size()) {
    throw std::invalid_argument("'" + text + "': expected NAMESPACE/NAME=FILE.json");
  }
  AgentTemplate parsed{std::string(spec.substr(0, equals)), std::string(spec.substr(equals + 1))};
  if (!split_agent_ref(parsed.name) || parsed.name.find('@') != std::string::npos) {
    throw std::invalid_argument("'" + text + "': the name must be NAMESPACE/NAME");
  }
  return parsed;
}

// Members are destroyed in reverse order: the server (and its connections) first, then the
// engine, the sessions and the workers, the stores, and the database and its directory last.
struct Runtime::Impl {
  explicit Impl(RuntimeOptions options_)
      : options(std::move(options_)),
        log(options.log_level, options.log_sink),
        secrets(std::make_shared<const Secrets>(options.secrets)),
        data(options.data_dir),
        db(data.database_path()),
        store(make_sqlite_task_store(db, log, {options.finished_task_cache_bytes})),
        files(db, data.files_dir(), data.uploads_dir()),
        io(log),
        task_files(files, base_url, data.work_dir()),
        instances(std::max<std::size_t>(16, options.workers * 2)),
        workers(std::max<std::size_t>(1, options.workers), log),
        sessions(db, workers, log),
        webhooks(webhook_settings(options), inferencesh::make_curl_transport(), log),
        engine(*store, instances, workers, sessions, task_files, log,
               {options.max_unfinished_input_bytes}),
        chat_store(db),
        agents(chat_store),
        tool_requests(inferencesh::make_curl_transport(), 4, options.tool_request_timeout, log),
        chats(chat_store, agents, engine, apps, tool_requests, base_url, log,
              chat_options(options, secrets)),
        router(log, options.api_key) {
    if (options.demo_apps) add_demo_apps(apps);
    if (options.demo_apps) apps.add("infsh/openai-chat", apps::make_openai_chat_app(secrets));
    add_program_apps();
    engine.on_final([this](const TaskRecord& task) { deliver_webhook(task); });
    register_task_routes(router, engine, apps,
                         {options.heartbeat_interval, [this](const RunRequest& run) {
                            // Routes run once the server listens: its port is known.
                            check_webhook_field(run.extras, {options.host, server->port()});
                          }});
    register_file_routes(router, files, io, base_url, log,
                         {options.max_file_bytes, options.api_key});
    register_session_routes(router, sessions);
    add_agent_templates();
    register_chat_routes(router, chats, agents, apps, {options.heartbeat_interval});
    register_agent_routes(router, agents);
    // `pending_writes`: task changes not yet in the database (written within a commit).
    router.add(
        "GET", "/health",
        [this](Request& request, const PathParams&) {
          return api_success(request,
                             {{"status", "ok"}, {"pending_writes", engine.pending_writes()}});
        },
        RouteOptions{.authenticated = false});
  }

  // Checks, starts once (probe) and registers every --app.
  void add_program_apps() {
    std::set<std::string> names;
    for (const auto& program : options.app_programs) {
      std::string path;
      try {
        path = checked_program_path(program);
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error("app program '" + program.name + "=" + program.path +
                                 "': " + e.what());
      }
      if (!names.insert(program.name).second) {
        throw std::runtime_error("app program '" + program.name + "' is given twice");
      }
      ProgramAppOptions app;
      app.name = program.name;
      app.program = path;
      app.start_timeout = options.worker_start_timeout;
      app.cancel_grace = options.cancel_grace;
      app.task_timeout = options.task_timeout;
      app.file_cache_dir = data.root() / "file-cache";
      auto hosted = std::make_shared<ProgramApp>(std::move(app), log);
      hosted->probe();
      programs.push_back(hosted);
      apps.add(program.name, std::move(hosted));
      log.info("hosting app program " + program.name + " (" + path + ")");
    }
  }

  // Reads every --agent file and serves it as a template.
  void add_agent_templates() {
    std::set<std::string> names;
    for (const auto& spec : options.agent_templates) {
      if (!names.insert(spec.name).second) {
        throw std::runtime_error("agent template '" + spec.name + "' is given twice");
      }
      const auto parts = split_agent_ref(spec.name);
      if (!parts)
        throw std::runtime_error("agent template '" + spec.name + "': not NAMESPACE/NAME");
      agents.put_template(parts->first, parts->second, agent_template_config(spec));
      log.info("serving agent template " + spec.name + " (" + spec.path + ")");
    }
  }

  // Under the engine lock: only queues.
  void deliver_webhook(const TaskRecord& task) {
    const auto it = task.request_extras.find("webhook");
    if (it == task.request_extras.end() || !it->is_string() ||
        it->get_ref<const std::string&>().empty()) {
      return;
    }
    try {
      webhooks.deliver(it->get<std::string>(),
                       webhook_payload(to_task_dto(task), inferencesh::to_string(task.status),
                                       std::chrono::system_clock::now()));
    } catch (const std::exception& e) {
      log.error(std::string("webhook of task ") + task.id + " not queued: " + e.what());
    }
  }

  RuntimeOptions options;
  Logger log;
  std::shared_ptr<const Secrets> secrets;
  AppRegistry apps;
  DataDirectory data;
  Database db;
  std::unique_ptr<TaskStore> store;
  FileStore files;
  SerialExecutor io;
  BaseUrl base_url;
  TaskFiles task_files;
  std::vector<std::shared_ptr<ProgramApp>> programs;
  InstancePool instances;
  WorkerPool workers;
  SessionManager sessions;
  WebhookDeliverer webhooks;  // outlives the engine, whose final hook feeds it
  TaskEngine engine;
  ChatStore chat_store;
  AgentCatalog agents;
  ToolRequests tool_requests;  // stopped before the chats, whose loop its threads feed
  ChatEngine chats;            // destroyed before the engine whose tasks it follows
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
      [&s](Request& head) { return s.router.plan_body(head); },
      [](int status, const std::string& message) { return api_error(status, message); }, s.log);
  s.chats.start();  // turns a previous runtime left are settled before anyone asks
  s.server->start();
  s.started = true;
  s.base_url.set(url());
  s.sessions.start(s.server->make_timer());
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
    s.chats.begin_shutdown();  // turns under way stay so: the next runtime fails them
    s.engine.begin_shutdown();
    if (!s.engine.wait_idle(s.options.shutdown_grace)) {
      s.log.warning("some tasks did not honour their cancellation in time; waiting for them");
    }
  }
  s.workers.stop();  // runs what is queued (all cancelled), joins the threads
  s.tool_requests.stop();
  s.chats.stop();
  s.webhooks.stop(s.options.shutdown_grace);  // every task has ended: their webhooks are queued
  // All at once rather than one instance after the other: `shutdown`, a short wait, SIGKILL.
  for (const auto& program : s.programs) program->stop_workers(s.options.shutdown_grace);
  s.sessions.stop();  // its timer lives on the event loop
  if (s.server) {
    if (!s.server->wait_for_streams_closed(s.options.shutdown_grace)) {
      s.log.warning("some streams did not take their final line in time; closing them");
    }
    s.server->stop();
  }
  s.io.stop();  // ends half-done uploads (their part files are removed)
  s.instances.clear();
  s.store->flush();
  s.data.release();
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
  stats.active_sessions = s.sessions.active_count();
  for (const auto& program : s.programs) stats.app_processes += program->process_count();
  stats.pending_task_writes = s.engine.pending_writes();
  const auto cache = s.engine.finished_cache();
  stats.cached_finished_tasks = cache.tasks;
  stats.cached_finished_task_bytes = cache.bytes;
  const auto webhooks = s.webhooks.stats();
  stats.webhooks_pending = webhooks.pending;
  stats.webhooks_delivered = webhooks.delivered;
  stats.webhooks_failed = webhooks.failed;
  stats.webhook_attempts = webhooks.attempts;
  stats.busy_chats = s.chats.busy_count();
  stats.cached_chats = s.chats.cached_count();
  return stats;
}

}  // namespace infsh::local
