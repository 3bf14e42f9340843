#pragma once

// API calls and waits on the async loop, with the blocking client's rules: the retry rule of
// ClientCore::call (judge_attempt) and cancellable, deadline-bounded waits. Loop thread only.

#include <chrono>
#include <exception>
#include <functional>
#include <memory>

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
