#pragma once

// The local runtime: the inference.sh task API served over HTTP on loopback, running apps on
// worker threads. Embed it in a program or a test, or run it as the `infsh-local` program.
//
//   infsh::local::Runtime runtime({.port = 0});
//   runtime.start();
//   auto client = inferencesh::inference({.api_key = "k", .base_url = runtime.url()});
//   ...
//   runtime.stop();   // or let the destructor do it

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "inferencesh/log_level.hpp"
#include "infsh/local/app.hpp"
#include "infsh/local/app_program.hpp"

namespace infsh::local {

using LogLevel = inferencesh::LogLevel;  // debug, info, warning, error, off
using inferencesh::parse_log_level;
using inferencesh::to_string;

/// Receives the runtime's log lines. Called from the event loop and worker threads, possibly at
/// the same time. Never given the API key.
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

/// An agent template to serve (`infsh-local --agent NS/NAME=FILE.json`): clients run it as
/// "NS/NAME@anything". The file holds an AgentConfig (core_app, system_prompt, tools,
/// internal_tools, output_schema, ...).
struct AgentTemplate {
  std::string name;  ///< "namespace/name"
  std::string path;  ///< the JSON file
};

/// Splits "ns/name=path/to/agent.json" (the value of --agent) into an AgentTemplate. Throws
/// std::invalid_argument naming `spec` when it has no '=', an empty side or a name without
/// exactly one '/'. The file is read when the Runtime is built.
AgentTemplate parse_agent_template(std::string_view spec);

/// Configuration of a Runtime. Aggregate: set what you need.
struct RuntimeOptions {
  std::string host = "127.0.0.1";  ///< address to bind; loopback by default
  std::uint16_t port = 0;          ///< 0 picks a free port (see Runtime::port())
  /// When set, API requests must carry `Authorization: Bearer <api_key>` or get 401.
  std::string api_key;
  std::size_t workers = 4;  ///< worker threads running app code (at least 1)
  /// Idle interval after which a task stream gets a heartbeat line.
  std::chrono::milliseconds heartbeat_interval{15000};

  LogLevel log_level = LogLevel::warning;
  /// Where log lines go; stderr when empty.
  LogSink log_sink;

  /// Host names accepted besides the loopback ones (localhost, *.localhost, 127.0.0.0/8,
  /// [::1]) in the Host header when `host` is a loopback address: other names are refused
  /// with 403, so that a web page cannot reach the runtime through DNS rebinding.
  std::vector<std::string> allowed_hosts;

  std::size_t max_body_bytes = std::size_t{8} * 1024 * 1024;  ///< larger request bodies get 413
  /// Larger request heads get 431; chunk extensions and trailers together have the same limit.
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::size_t max_connections = 20000;  ///< connections beyond it are closed at once
  /// Request bodies held in memory at once, all connections together (whole bodies being read,
  /// upload bytes not yet written to disk). A body that would go beyond gets 503; an upload
  /// waits.
  std::size_t max_buffered_body_bytes = std::size_t{64} * 1024 * 1024;
  /// A request head, and a whole (non-upload) body after it, that does not arrive within this
  /// time closes the connection (408 for a body); it is also how long an idle keep-alive
  /// connection is kept.
  std::chrono::milliseconds request_timeout{30000};
  /// An upload body must bring at least this many bytes per second, on average over each
  /// request_timeout; a slower one is cut off with 408.
  std::size_t min_body_rate = 1024;
  /// A stream whose client has not taken its bytes for this long (or lets more than
  /// max_stream_backlog_bytes pile up) is closed; the client can reconnect.
  std::chrono::milliseconds write_timeout{30000};
  std::size_t max_stream_backlog_bytes = std::size_t{4} * 1024 * 1024;
  /// Unsent bytes of all streams together (counted from the moment a task's update is made):
  /// beyond it, a stream holding more than its share (this over the open streams) is closed.
  std::size_t max_total_stream_backlog_bytes = std::size_t{64} * 1024 * 1024;
  /// How long stop() waits for running tasks to honour their cancellation and for streams to
  /// flush their final line.
  std::chrono::milliseconds shutdown_grace{5000};

  /// Where tasks, files and sessions are kept (SQLite) and file bytes stored: a directory
  /// (created when missing; kept, so a runtime started on it later serves what this one
  /// stored), empty for a fresh temporary directory removed by stop(), or ":memory:" for the
  /// database in memory (file bytes in a temporary directory; nothing survives). One runtime
  /// at a time may use a directory.
  std::string data_dir;
  /// Larger uploads (declared or sent) are refused with 413.
  std::uint64_t max_file_bytes = std::uint64_t{64} << 30;
  /// Finished tasks kept in memory for quick reads, in total (counted as the size of their
  /// stored JSON; at most 1,024 of them); older ones are read back from the database.
  std::uint64_t finished_task_cache_bytes = std::uint64_t{64} << 20;
  /// Input and setup of unfinished tasks held in memory, in total (counted as the size of
  /// their request bodies): a task beyond it is refused with 503 until some have finished.
  std::uint64_t max_unfinished_input_bytes = std::uint64_t{1} << 30;

  /// Registers the built-in apps (infsh/echo, infsh/progress, infsh/fail, infsh/setup-counter,
  /// infsh/counter, infsh/file-info, infsh/text-templating, infsh/session-test) and the cores
  /// for agents (infsh/scripted-llm, infsh/openai-chat).
  bool demo_apps = true;

  /// Secrets the built-in apps may read, by name (infsh/openai-chat's API key): `--secret
  /// NAME=VALUE`. Variables INFSH_SECRET_<NAME> of the environment are secrets too; a value
  /// given here wins over one of those. Values never appear in logs, errors or task output.
  std::map<std::string, std::string> secrets;

  /// App programs to host, each started once by the constructor to read its functions (so a
  /// program that cannot start is an error there, not at the first task).
  std::vector<AppProgram> app_programs;
  /// How long an app program's worker may take to announce itself (`ready`) after it starts.
  std::chrono::milliseconds worker_start_timeout{10000};
  /// How long a cancelled task's app program has to answer before its process is killed
  /// (SIGKILL) and the task ends cancelled.
  std::chrono::milliseconds cancel_grace{5000};
  /// A setup or run of an app program that takes longer fails and its process is killed;
  /// zero: no limit.
  std::chrono::milliseconds task_timeout{0};

  /// Task webhooks (a run request's `webhook`, POSTed the final task when it ends): the time
  /// limit of each attempt, the attempts made (the first included) while the receiver fails
  /// (connection errors, timeouts, 408, 429, 5xx), and the delay before the first retry
  /// (doubled after each, up to 30 s). At most 1,000 deliveries wait at a time.
  std::chrono::milliseconds webhook_timeout{10000};
  int webhook_attempts = 5;
  std::chrono::milliseconds webhook_retry_delay{1000};

  /// Agent templates to serve, read by the constructor (a file that is not an AgentConfig is an
  /// error there).
  std::vector<AgentTemplate> agent_templates;
  /// Core calls in one agent turn; a turn that needs more fails with a message saying so.
  int agent_max_steps = 32;
  /// How deep sub-agents (agent tools) may nest below a chat a client started.
  int agent_max_depth = 3;
  /// How long a turn of a chat that nobody streams waits for a client to open its stream
  /// before the core starts (clients that send first and then open the stream would otherwise
  /// miss a quick turn's end). Zero: no wait.
  std::chrono::milliseconds agent_stream_grace{1000};
  /// The limit on each request of an http or hook tool.
  std::chrono::milliseconds tool_request_timeout{30000};
};

/// Counters for tests, benchmarks and health output. A snapshot; values move on at once.
struct RuntimeStats {
  std::size_t open_connections = 0;
  std::size_t open_streams = 0;      ///< task streams currently attached to a client
  std::uint64_t streams_opened = 0;  ///< task streams opened since start
  std::uint64_t requests = 0;        ///< requests answered since start
  std::size_t tasks = 0;             ///< tasks held by the store
  std::size_t active_tasks = 0;      ///< tasks not yet completed, failed or cancelled
  std::size_t warm_instances = 0;    ///< idle app instances kept for reuse
  std::size_t active_sessions = 0;   ///< sessions with status active
  std::size_t app_processes = 0;     ///< worker processes of app programs alive now
  /// Task changes not yet in the database (they are written behind, within a commit).
  std::size_t pending_task_writes = 0;
  /// Finished tasks kept in memory for quick reads, and their size as stored (bounded by
  /// RuntimeOptions::finished_task_cache_bytes).
  std::size_t cached_finished_tasks = 0;
  std::uint64_t cached_finished_task_bytes = 0;
  std::size_t webhooks_pending = 0;      ///< task webhooks queued, waiting to retry or in flight
  std::uint64_t webhooks_delivered = 0;  ///< answered 2xx
  std::uint64_t webhooks_failed = 0;     ///< refused, or out of attempts
  std::uint64_t webhook_attempts = 0;    ///< POSTs made, retries included
  std::size_t busy_chats = 0;            ///< chats in a turn now
  std::size_t cached_chats = 0;          ///< chats held in memory
};

/// A running local runtime. Start it, point clients at url(), stop it (or destroy it).
/// Its methods are safe to call from any thread.
class Runtime {
 public:
  /// Opens the data directory (see RuntimeOptions::data_dir): tasks a previous runtime left
  /// unfinished are marked failed, its sessions expired. Throws std::runtime_error when the
  /// directory cannot be used (another runtime holds it, no permission, a newer schema), or
  /// when an app program is not usable (bad name, no such executable file, it does not start
  /// or does not speak the worker protocol); the message names it.
  explicit Runtime(RuntimeOptions options = {});
  /// Stops the runtime (see stop()).
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  /// The apps served. Add your own before or after start().
  AppRegistry& apps() noexcept;

  /// Binds the address and starts serving. Throws std::runtime_error when the address cannot
  /// be bound (the message says why).
  void start();

  /// "http://<host>:<port>", valid after start().
  std::string url() const;
  /// The bound port, valid after start().
  std::uint16_t port() const;

  /// Graceful shutdown: stops accepting connections, refuses new tasks, cancels running ones,
  /// lets every task stream send its final state, sends `shutdown` to every app program's
  /// worker (killing those that do not exit in time), then closes everything, writes what is
  /// left to the database and releases the data directory (another runtime may open it now).
  /// Idempotent.
  void stop();

  /// Blocks until stop() has finished (from another thread or a signal handler thread).
  void wait();

  /// Closes every open task stream abruptly, without a final line, as a network failure
  /// would. For testing how clients reconnect.
  void drop_streams();

  RuntimeStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace infsh::local
