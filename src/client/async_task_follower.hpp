#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "async_loop.hpp"
#include "client_core.hpp"
#include "inferencesh/future.hpp"
#include "inferencesh/tasks.hpp"

namespace inferencesh::detail {

/// Follows one task to its final status on the async loop and completes `result` with it
/// (TaskFailedError, CancelledError, StreamError, TimeoutError, ... otherwise). The rules are
/// TaskFollowCore's, as for the blocking TaskFollower; this drives them with the loop's
/// streams, calls and timers. Updates reach the callbacks of `options` on the loop thread.
/// May be called from any thread.
void follow_task_async(const std::shared_ptr<AsyncLoop>& loop,
                       const std::shared_ptr<const ClientCore>& core, std::string task_id,
                       std::optional<Task> created, const WaitOptions& options,
                       std::chrono::steady_clock::time_point started, promise<Task> result);

}  // namespace inferencesh::detail
