#pragma once

#include <memory>
#include <optional>

#include "inferencesh/future.hpp"
#include "inferencesh/task.hpp"

namespace inferencesh {

namespace detail {
class AsyncTaskStreamState;
}

/// The updates of one task, read asynchronously: the async client's TaskStream. Each next()
/// gives a future of the next update, nullopt after the final status; a failed task fails it
/// with TaskFailedError and a cancelled one with CancelledError, as TaskStream's increment
/// throws. Made by `async_client.tasks.run(params, inf::stream)` or `.tasks.stream(id)`.
///
///     auto updates = client.tasks.run(params, inf::stream);
///     while (auto update = co_await updates.next()) std::cout << update->status << "\n";
///
/// Back-pressure as TaskStream's: updates are applied (and the options' callbacks run, on the
/// loop thread) when next() asks for them; while nobody asks, a few decoded events wait and
/// then the transfer pauses, so a slow consumer holds the server's socket, not memory.
///
/// Move-only, single consumer: one next() at a time (a second one while the first is pending
/// fails with StreamError). Its futures complete on the loop thread. Destroying the stream or
/// close() stops its transfer; the stream's cancellation token, a deadline and the client's
/// shutdown end it with CancelledError / TimeoutError.
class AsyncTaskStream {
 public:
  AsyncTaskStream(AsyncTaskStream&&) noexcept;
  /// Closes the stream this one held, then takes `other`'s.
  AsyncTaskStream& operator=(AsyncTaskStream&& other) noexcept;
  AsyncTaskStream(const AsyncTaskStream&) = delete;
  AsyncTaskStream& operator=(const AsyncTaskStream&) = delete;
  /// Closes the stream (see close()).
  ~AsyncTaskStream();

  /// The next update, once there is one (the task after the options' callbacks ran for it), or
  /// nullopt once the stream is over: after the final status, after close(), and after the
  /// failure that ended it was handed out once.
  future<std::optional<Task>> next();

  /// True once the stream is over: the final status was handed out, it failed, or was closed.
  bool finished() const;

  /// The final task once the task reached its final status on this stream. Throws StreamError
  /// before that, and the task's TaskFailedError or CancelledError if it ended that way.
  Task result() const;

  /// The latest state handed out (the created task, before the first update of a run).
  Task current() const;

  /// Stops following the task: the transfer is closed and a pending next() gets nullopt. The
  /// task itself keeps running (tasks.cancel(id) stops it). Idempotent; any thread.
  void close();

 private:
  friend class AsyncTasks;
  explicit AsyncTaskStream(std::shared_ptr<detail::AsyncTaskStreamState> state);
  std::shared_ptr<detail::AsyncTaskStreamState> state_;
};

}  // namespace inferencesh
