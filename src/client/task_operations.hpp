#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api_request.hpp"
#include "inferencesh/errors.hpp"
#include "inferencesh/task.hpp"
#include "stream_event.hpp"

namespace inferencesh::detail {

/// Checks run params and returns the body of POST /apps/run. Refuses, with a message naming
/// the field: params that are not an object, a missing app, an input that is not an object,
/// session_timeout outside 1..3600 or without session "new". A missing input becomes {}.
nlohmann::json prepare_run_body(const nlohmann::json& params);

ApiCall run_task_call(nlohmann::json body, std::string idempotency_key);
ApiCall get_task_call(std::string_view task_id);
ApiCall cancel_task_call(std::string_view task_id);
ApiCall task_status_call(std::string_view task_id);
std::string task_stream_path(std::string_view task_id);

/// The TimeoutError of tasks.run() when its deadline (WaitOptions::deadline) passed `when`
/// ("before the task was created", "while the task was being created (it may have been)").
TimeoutError run_deadline_error(std::chrono::milliseconds deadline, const char* when);

/// Checks a task id argument (non-empty) before it goes into a path.
void require_task_id(std::string_view task_id);

/// A Task from a response payload; DecodeError when it is not an object with an id.
Task task_from_payload(const nlohmann::json& data, std::string_view what);

/// Applies one stream event to the accumulated task JSON. Full objects and partial updates are
/// merged key by key (later values win; keys not mentioned keep their value); typed events
/// named "delta" are not task state and leave it untouched. Returns true when a value changed
/// (an identical full state, as sent again on every reconnect, changes nothing).
bool merge_task_event(nlohmann::json& task, const StreamEvent& event);

}  // namespace inferencesh::detail
