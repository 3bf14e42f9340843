#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/async_agents.hpp"
#include "inferencesh/async_task_stream.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/detail/owned_session.hpp"
#include "inferencesh/files.hpp"
#include "inferencesh/future.hpp"
#include "inferencesh/sessions.hpp"
#include "inferencesh/task.hpp"
#include "inferencesh/tasks.hpp"

namespace inferencesh {

namespace detail {
class AsyncCore;
}

/// How the async client's event loop runs.
struct AsyncOptions {
  /// true (default): the client starts one thread that runs its event loop until the client is
  /// shut down. false: the program drives the loop from its own (descriptor(), timeout(),
  /// run_once() of AsyncClient), and nothing happens between its calls.
  bool own_thread = true;
  /// The most requests the loop has on the network at once, waiting for their answer: a call's
  /// request until its response is in, a stream's until its head is in. An open stream no
  /// longer counts, so thousands of streams can stay open and a cancel or a get still goes out
  /// at once. Further requests wait in the loop (no socket, no handle) and start as earlier
  /// ones are answered: streams of calls under way first, then the rest in order. Waiting
  /// counts towards a call's deadline, not towards request_timeout or the idle timeout. The
  /// bound keeps a burst (10,000 runs submitted at once) from opening 10,000 connections at
  /// once, which costs more than it gains (docs/benchmarks.md). 0: no limit.
  std::size_t max_requests_in_flight = 64;
};

/// The Tasks API of the async client: the calls of `Tasks`, each returning a future at once.
/// Callbacks in the options (on_update, on_partial_update, on_delta) and continuations attached
/// with then() run on the loop thread, in the order of the task's updates; keep them short.
/// Reached as `async_client.tasks`.
class AsyncTasks {
 public:
  /// Runs an app: the created task with `{.wait = false}`, else the task once completed
  /// (TaskFailedError / CancelledError otherwise), followed by stream or poll as in Tasks::run.
  ///
  ///     client.tasks.run({{"app", "infsh/echo"}, {"input", {{"x", 1}}}})
  ///         .then([](inf::Task done) { std::cout << done.output << "\n"; });
  future<Task> run(const nlohmann::json& params, const RunOptions& options) const;
  // Overloads rather than default arguments: GCC 12 destroys a default argument's temporary
  // twice when the call is the operand of co_await.
  future<Task> run(const nlohmann::json& params) const;

  /// The task's current state.
  future<Task> get(const std::string& task_id) const;

  /// Asks the server to cancel the task.
  future<void> cancel(const std::string& task_id) const;

  /// Follows an existing task; the future holds it once completed (TaskFailedError /
  /// CancelledError otherwise). Updates reach the callbacks of `options` as they come.
  future<Task> wait_for_completion(const std::string& task_id, const WaitOptions& options) const;
  future<Task> wait_for_completion(const std::string& task_id) const;

  /// Runs an app and returns its updates as an AsyncTaskStream at once: creating the task and
  /// following it happen on the loop, and a failure of either reaches next().
  ///
  ///     auto updates = client.tasks.run(params, inf::stream);
  ///     while (auto update = co_await updates.next()) show(update->status);
  AsyncTaskStream run(const nlohmann::json& params, stream_t, const WaitOptions& options) const;
  AsyncTaskStream run(const nlohmann::json& params, stream_t) const;

  /// Follows an existing task as an AsyncTaskStream; `result()` holds the final task.
  AsyncTaskStream stream(const std::string& task_id, const WaitOptions& options) const;
  AsyncTaskStream stream(const std::string& task_id) const;

 private:
  friend class AsyncClient;
  friend class AsyncSessions;
  friend class AsyncSessionHandle;
  explicit AsyncTasks(std::shared_ptr<detail::AsyncCore> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::AsyncCore> core_;
};

/// The Files API of the async client: the calls of `Files`, each returning a future at once.
/// The source is checked (and a data URI or base64 decoded) on the calling thread, so a bad one
/// fails the future before any request; the requests, the PUT of the content (a file read from
/// disk in pieces as it is sent, on the loop thread) and a download's body (written to disk as
/// it arrives, on the loop thread) run on the loop. on_progress runs on the loop thread. The API
/// key goes only to the API's own origin, never with the PUT. A download appears whole or not
/// at all: a failure, a cancel or a shutdown leaves no file. Reached as `async_client.files`.
///
///     client.files.upload("cat.png").then([](inf::FileRef f) { std::cout << f.uri << "\n"; });
class AsyncFiles {
 public:
  /// Uploads a local file, a `data:` URI or base64 text, as Files::upload(source) decides.
  future<FileRef> upload(const std::string& source, const UploadFileOptions& options) const;
  // Overloads rather than default arguments: see AsyncTasks::run.
  future<FileRef> upload(const std::string& source) const;
  future<FileRef> upload(const char* source, const UploadFileOptions& options) const;
  future<FileRef> upload(const char* source) const;
  /// Uploads a local file.
  future<FileRef> upload(const std::filesystem::path& path, const UploadFileOptions& options) const;
  future<FileRef> upload(const std::filesystem::path& path) const;
  /// Uploads bytes from memory (copied when the call is made).
  future<FileRef> upload(const std::vector<std::uint8_t>& bytes,
                         const UploadFileOptions& options) const;
  future<FileRef> upload(const std::vector<std::uint8_t>& bytes) const;
  future<FileRef> upload_bytes(std::string_view bytes, const UploadFileOptions& options) const;
  future<FileRef> upload_bytes(std::string_view bytes) const;

  /// Downloads a file to `destination` (a directory, or a file path) as Files::download does;
  /// the future holds the path written.
  future<std::filesystem::path> download(const std::string& uri,
                                         const std::filesystem::path& destination,
                                         const DownloadOptions& options) const;
  future<std::filesystem::path> download(const std::string& uri,
                                         const std::filesystem::path& destination) const;
  future<std::filesystem::path> download(const FileRef& file,
                                         const std::filesystem::path& destination,
                                         const DownloadOptions& options) const;
  future<std::filesystem::path> download(const FileRef& file,
                                         const std::filesystem::path& destination) const;

  /// A stored file's metadata.
  future<FileRef> get(const std::string& file_id) const;
  /// Deletes a stored file.
  future<void> remove(const std::string& file_id) const;

 private:
  friend class AsyncClient;
  explicit AsyncFiles(std::shared_ptr<detail::AsyncCore> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::AsyncCore> core_;
};

class AsyncSessions;

/// An open session of the async client: its calls run on the same warm instance. Destroying a
/// handle that was not ended asks the server to end the session, without waiting for the answer
/// (call end() to see it). Move-only.
///
///     auto session = co_await client.sessions.open("my-org/chat-app", options);
///     inf::Task next = co_await session.call(input);
class AsyncSessionHandle {
 public:
  const std::string& id() const noexcept { return session_.id(); }
  const std::string& app() const noexcept { return session_.app(); }
  /// The result of the call that opened the session.
  const Task& first_result() const noexcept { return session_.first_result(); }

  /// Runs `input` in this session; the future holds the result.
  future<Task> call(const nlohmann::json& input, const std::string& function,
                    const RunOptions& options) const;
  future<Task> call(const nlohmann::json& input, const std::string& function) const;
  future<Task> call(const nlohmann::json& input) const;
  /// The session as the server sees it now.
  future<Session> info() const;
  /// Resets the idle timer.
  future<Session> keepalive() const;
  /// Ends the session now. Idempotent: once ended, a ready future.
  future<void> end();
  bool ended() const noexcept { return session_.ended(); }

 private:
  friend class AsyncSessions;
  AsyncSessionHandle(std::shared_ptr<detail::AsyncCore> core, std::string app, Task first)
      : session_(std::move(core), std::move(app), std::move(first)) {}

  detail::OwnedSession<detail::AsyncCore> session_;
};

/// The Sessions API of the async client: the calls of `Sessions`, each returning a future at
/// once. Reached as `async_client.sessions`.
class AsyncSessions {
 public:
  /// Starts a session with a first call of `app`; the future holds a handle that ends it when
  /// destroyed.
  future<AsyncSessionHandle> open(const std::string& app, const SessionOptions& options) const;
  future<AsyncSessionHandle> open(const std::string& app) const;

  future<Session> get(const std::string& session_id) const;
  future<std::vector<Session>> list() const;
  /// Resets the session's idle timer; SessionExpiredError / SessionEndedError when too late.
  future<Session> keepalive(const std::string& session_id) const;
  /// Ends the session.
  future<void> end(const std::string& session_id) const;

 private:
  friend class AsyncClient;
  friend class AsyncSessionHandle;
  friend void detail::end_session_quietly(const std::shared_ptr<detail::AsyncCore>& core,
                                          const std::string& session_id) noexcept;
  explicit AsyncSessions(std::shared_ptr<detail::AsyncCore> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::AsyncCore> core_;
};

/// What an async client's loop holds and has read, at one moment (AsyncClient::stats()).
struct AsyncStats {
  std::size_t transfers = 0;              ///< HTTP exchanges in flight (streams included)
  std::size_t timers = 0;                 ///< backoffs, poll intervals and limits waiting
  std::size_t paused_transfers = 0;       ///< streams paused because their reader fell behind
  std::size_t waiting_transfers = 0;      ///< of `transfers`: waiting for max_requests_in_flight
  std::uint64_t body_bytes_received = 0;  ///< response body bytes read by streams, in all
};

/// The asynchronous inference.sh client: one event loop (libcurl's multi interface) carries
/// every call, so one thread can follow thousands of tasks. Cheap to copy; copies share the loop
/// and may be used from any thread. Destroying the last copy (or shutdown()) ends every call in
/// flight with CancelledError and stops the loop; it never waits for the network.
///
///     auto client = inf::async_inference({.api_key = "..."});
///     inf::future<inf::Task> done = client.tasks.run(params);
///     inf::Task t = done.get();                       // or .then(...), or co_await
///
/// Threads: the loop thread runs all I/O, the options' callbacks and then() continuations
/// (unless given an Executor). Blocking on a future (get(), wait_for()) from the loop thread
/// would stop the loop: do it from other threads only. See docs/design.md, "The async client".
class AsyncClient {
  std::shared_ptr<detail::AsyncCore> core_;

 public:
  /// Resolves the options as Client does and starts the loop (on its own thread unless
  /// `async.own_thread` is false). ClientOptions::transport is not used: the loop drives
  /// libcurl itself, with the same TLS, proxy and timeout settings as the built-in transport.
  explicit AsyncClient(const ClientOptions& options = {}, const AsyncOptions& async = {});

  AsyncTasks tasks;        ///< run apps and follow their tasks
  AsyncFiles files;        ///< upload and download files
  AsyncSessions sessions;  ///< warm app instances kept for a series of calls
  AsyncAgents agents;      ///< agents and their conversations

  /// The API base URL in use, without a trailing slash.
  const std::string& base_url() const noexcept;

  /// Ends every call in flight with CancelledError, runs what that triggers, and stops the loop
  /// (joining its thread). Later calls fail with CancelledError at once. Idempotent. Called from
  /// a callback on the loop thread, it only asks the loop to stop.
  void shutdown();

  // --- driving the loop from the program's own event loop (AsyncOptions::own_thread = false) --
  //
  //     pollfd fd{client.descriptor(), POLLIN, 0};
  //     while (running) {
  //       auto timeout = client.timeout();
  //       poll(&fd, 1, timeout ? int(timeout->count()) : -1);   // plus the program's own fds
  //       client.run_once();
  //     }
  //
  // With Asio: watch descriptor() with a posix::stream_descriptor (async_wait(wait_read)) and a
  // steady_timer set to timeout(), and call run_once() from either handler.

  /// A descriptor (epoll, Linux) that becomes readable when the loop has I/O or posted work.
  int descriptor() const noexcept;
  /// How long the loop may wait before run_once() is due even without I/O (its timers);
  /// nullopt: no timer pending; zero: work is waiting.
  std::optional<std::chrono::milliseconds> timeout() const;
  /// Waits up to `max_wait` for something to do, then does everything that is ready: network
  /// I/O, completions (callbacks and continuations run here), due timers. Call it from one
  /// thread only, and only when the loop has no thread of its own.
  void run_once(std::chrono::milliseconds max_wait = std::chrono::milliseconds(0));

  /// What the loop holds and has read now; any thread.
  AsyncStats stats() const noexcept;
};

/// Creates an async client, as `async_inference(api_key=...)` does in the Python SDK.
inline AsyncClient async_inference(const ClientOptions& options = {},
                                   const AsyncOptions& async = {}) {
  return AsyncClient(options, async);
}

}  // namespace inferencesh
