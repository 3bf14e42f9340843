#include "tasks/progress_report.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "infsh/local/app.hpp"

namespace infsh::local {

namespace {

bool whole(double value) {
  return std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9e15;
}

std::string number_text(double value) {
  if (whole(value)) return std::to_string(static_cast<std::int64_t>(value));
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%g", value);
  return text.data();
}

nlohmann::json number_json(double value) {
  if (whole(value)) return static_cast<std::int64_t>(value);
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

std::string progress_line(double current, double total, std::string_view message) {
  std::string line = "progress " + number_text(current) + "/" + number_text(total);
  if (!message.empty()) line.append(": ").append(message);
  return line;
}

nlohmann::json progress_json(double current, double total, std::string_view message) {
  return {{"current", number_json(current)},
          {"total", number_json(total)},
          {"message", std::string(message)}};
}

void AppContext::progress(double current, double total, std::string_view message) {
  log(progress_line(current, total, message));
}

}  // namespace infsh::local
