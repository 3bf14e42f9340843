#include "support/logger.hpp"

#include <cstdio>
#include <mutex>
#include <stdexcept>

#include "support/time_format.hpp"

namespace infsh::local {

LogLevel parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warning" || text == "warn") return LogLevel::warning;
  if (text == "error") return LogLevel::error;
  if (text == "off" || text == "none") return LogLevel::off;
  throw std::invalid_argument("unknown log level '" + std::string(text) +
                              "' (expected debug, info, warning, error or off)");
}

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "unknown";
}

Logger::Logger(LogLevel level, LogSink sink) : level_(level), sink_(std::move(sink)) {}

void Logger::write(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  if (sink_) {
    sink_(level, message);
    return;
  }
  // One fprintf per line keeps lines from different threads whole.
  static std::mutex stderr_mutex;
  const std::string stamp = format_rfc3339(std::chrono::system_clock::now());
  std::lock_guard lock(stderr_mutex);
  std::fprintf(stderr, "%s %-7s %.*s\n", stamp.c_str(), std::string(to_string(level)).c_str(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace infsh::local
