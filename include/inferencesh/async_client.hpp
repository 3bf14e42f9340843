#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "inferencesh/async_agents.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/future.hpp"
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

 private:
  friend class AsyncClient;
  explicit AsyncTasks(std::shared_ptr<detail::AsyncCore> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::AsyncCore> core_;
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
  explicit AsyncClient(ClientOptions options = {}, AsyncOptions async = {});

  AsyncTasks tasks;    ///< run apps and follow their tasks
  AsyncAgents agents;  ///< agents and their conversations

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
};

/// Creates an async client, as `async_inference(api_key=...)` does in the Python SDK.
inline AsyncClient async_inference(ClientOptions options = {}, AsyncOptions async = {}) {
  return AsyncClient(std::move(options), async);
}

}  // namespace inferencesh
