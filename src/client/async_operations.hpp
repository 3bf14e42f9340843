#pragma once

// API calls and waits on the async loop, with the blocking client's rules: the retry rule of
// ClientCore::call (judge_attempt) and cancellable, deadline-bounded waits. Loop thread only.

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "async_core.hpp"
#include "async_loop.hpp"
#include "client_core.hpp"
#include "inferencesh/future.hpp"

namespace inferencesh::detail {

using AsyncCallDone = std::function<void(std::exception_ptr error, ApiResult result)>;

/// Sends `call` through the loop, retrying as ClientCore::call does; `done` runs once, on the
/// loop thread, with the payload or the exception the call ends with.
void async_call(const std::shared_ptr<AsyncLoop>& loop,
                const std::shared_ptr<const ClientCore>& core, const ApiCall& call,
                const CancellationToken& cancel, AsyncCallDone done);

/// Fails `result` with `error` from the loop's queue, once the callback running now has returned
/// (with every handler and copy of the error on its stack): the loop thread then holds no
/// reference to the exception when the future's consumer takes it and reads it (see
/// docs/design.md, "Exceptions across threads").
template <typename T>
void fail_from_queue(AsyncLoop& loop, promise<T> result, std::exception_ptr error) {
  loop.post([result = std::move(result), error = std::move(error)]() mutable {
    result.set_exception(std::move(error));
  });
}

/// The done-callback of a loop operation that yields a `T`: completes `result` with the value,
/// or fails it with the error from the loop's queue (fail_from_queue()).
template <typename T>
auto settle_on_loop(std::shared_ptr<AsyncLoop> loop, promise<T> result) {
  return [loop = std::move(loop), result = std::move(result)](std::exception_ptr error,
                                                              T value) mutable {
    if (error) {
      fail_from_queue(*loop, std::move(result), std::move(error));
    } else {
      result.set_value(std::move(value));
    }
  };
}

/// Runs an API call on the loop from any thread; `decode` turns its payload into the value of
/// the future (an exception it throws fails the future).
template <typename T, typename Decode>
future<T> call_on_loop(const std::shared_ptr<AsyncCore>& core, ApiCall call,
                       CancellationToken cancel, Decode decode) {
  promise<T> result;
  auto future = result.get_future();
  const auto& loop = core->loop();
  loop->post([loop, client = core->client(), call = std::move(call), cancel = std::move(cancel),
              decode = std::move(decode), result]() mutable {
    async_call(loop, client, call, cancel,
               [loop, result, decode = std::move(decode)](std::exception_ptr error,
                                                          ApiResult payload) mutable {
                 if (error) {
                   fail_from_queue(*loop, std::move(result), std::move(error));
                   return;
                 }
                 // decode's exception has no other holder: it can fail the future here.
                 complete_with(result, [&] { return decode(std::move(payload)); });
               });
  });
  return future;
}

/// async_call() from any thread: posted to the loop; the future holds the payload (completed on
/// the loop thread) or the call's exception.
future<ApiResult> async_call_future(const std::shared_ptr<AsyncLoop>& loop,
                                    const std::shared_ptr<const ClientCore>& core, ApiCall call,
                                    CancellationToken cancel);

/// Calls `done` after `delay` on the loop thread: with nullptr, or with CancelledError as soon
/// as `cancel` fires or the loop shuts down.
void async_sleep(const std::shared_ptr<AsyncLoop>& loop, std::chrono::milliseconds delay,
                 const CancellationToken& cancel, std::function<void(std::exception_ptr)> done);

}  // namespace inferencesh::detail
