#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace inferencesh {

/// Severity of a log line, shared by the client (`ClientOptions::log`), the app library
/// (`infsh::Context::log`) and the local runtime (`RuntimeOptions::log_level`). Ordered:
/// a filter at `warning` passes `warning` and `error`. `off` is a threshold only (nothing is
/// logged at it): a filter set to `off` passes nothing.
enum class LogLevel { debug, info, warning, error, off };

/// "debug", "info", "warning", "error", "off".
constexpr std::string_view to_string(LogLevel level) noexcept {
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

/// Parses "debug", "info", "warning" (or "warn"), "error", "off" (or "none"); throws
/// std::invalid_argument naming the text otherwise.
inline LogLevel parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warning" || text == "warn") return LogLevel::warning;
  if (text == "error") return LogLevel::error;
  if (text == "off" || text == "none") return LogLevel::off;
  throw std::invalid_argument("unknown log level '" + std::string(text) +
                              "' (expected debug, info, warning, error or off)");
}

}  // namespace inferencesh
