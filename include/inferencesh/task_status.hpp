#pragma once

#include <iosfwd>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace inferencesh {

/// Lifecycle status of a task, with the numbers the API uses on the wire today.
/// 10, 11 and 12 are terminal. (Older documents number COMPLETED as 9; the wire is what counts.)
enum class TaskStatus : int {
  unknown = 0,
  received = 1,
  queued = 2,
  dispatched = 3,
  preparing = 4,
  serving = 5,
  setting_up = 6,
  running = 7,
  cancelling = 8,
  uploading = 9,
  completed = 10,
  failed = 11,
  cancelled = 12,
};

/// The wire string form: "completed", "setting_up", ...
std::string_view to_string(TaskStatus status) noexcept;

/// Maps a status number to a TaskStatus; numbers outside 0..12 give `unknown`.
TaskStatus task_status_from_int(long long value) noexcept;

/// Parses the string form, case-insensitively; unrecognised text gives `unknown`.
TaskStatus task_status_from_string(std::string_view text) noexcept;

/// Parses a status as the API sends it: a number, a string, or null (→ `unknown`).
TaskStatus parse_task_status(const nlohmann::json& value) noexcept;

/// True for completed, failed and cancelled: no further updates follow.
constexpr bool is_terminal(TaskStatus status) noexcept {
  return status == TaskStatus::completed || status == TaskStatus::failed ||
         status == TaskStatus::cancelled;
}

std::ostream& operator<<(std::ostream& out, TaskStatus status);

}  // namespace inferencesh
