#include "inferencesh/task_status.hpp"

#include <array>
#include <cctype>
#include <ostream>

#include <nlohmann/json.hpp>

namespace inferencesh {
namespace {

constexpr std::array<std::string_view, 13> kNames = {
    "unknown", "received",   "queued",    "dispatched", "preparing", "serving",  "setting_up",
    "running", "cancelling", "uploading", "completed",  "failed",    "cancelled"};

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto ca = static_cast<unsigned char>(a[i]);
    const auto cb = static_cast<unsigned char>(b[i]);
    if (std::tolower(ca) != std::tolower(cb)) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(TaskStatus status) noexcept {
  const auto index = static_cast<std::size_t>(status);
  return index < kNames.size() ? kNames[index] : kNames[0];
}

TaskStatus task_status_from_int(long long value) noexcept {
  if (value < 0 || value >= static_cast<long long>(kNames.size())) return TaskStatus::unknown;
  return static_cast<TaskStatus>(value);
}

TaskStatus task_status_from_string(std::string_view text) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (equals_ignoring_case(text, kNames[i])) return static_cast<TaskStatus>(i);
  }
  // The status was named SCHEDULED before it became DISPATCHED.
  if (equals_ignoring_case(text, "scheduled")) return TaskStatus::dispatched;
  return TaskStatus::unknown;
}

TaskStatus parse_task_status(const nlohmann::json& value) noexcept {
  if (value.is_number_integer()) return task_status_from_int(value.get<long long>());
  if (value.is_number_float()) {
    const double number = value.get<double>();
    const auto whole = static_cast<long long>(number);
    if (static_cast<double>(whole) == number) return task_status_from_int(whole);
    return TaskStatus::unknown;
  }
  if (value.is_string()) return task_status_from_string(value.get_ref<const std::string&>());
  return TaskStatus::unknown;
}

std::ostream& operator<<(std::ostream& out, TaskStatus status) { return out << to_string(status); }

}  // namespace inferencesh
