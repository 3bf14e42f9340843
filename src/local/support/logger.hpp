#pragma once

// The runtime's log: a level filter in front of a sink. Thread-safe; never given secrets.

#include <string>
#include <string_view>

#include "infsh/local/runtime.hpp"

namespace infsh::local {

class Logger {
 public:
  Logger(LogLevel level, LogSink sink);

  bool enabled(LogLevel level) const noexcept { return level != LogLevel::off && level >= level_; }
  void write(LogLevel level, std::string_view message) const;

  void debug(std::string_view message) const { write(LogLevel::debug, message); }
  void info(std::string_view message) const { write(LogLevel::info, message); }
  void warning(std::string_view message) const { write(LogLevel::warning, message); }
  void error(std::string_view message) const { write(LogLevel::error, message); }

 private:
  LogLevel level_;
  LogSink sink_;
};

}  // namespace infsh::local
