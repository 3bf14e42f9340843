#include "support/logger.hpp"

#include <cstdio>
#include <mutex>

#include "support/time_format.hpp"

namespace infsh::local {

Logger::Logger(LogLevel level, LogSink sink) : level_(level), sink_(std::move(sink)) {}

void Logger::write(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  if (sink_) {
    sink_(level, message);
    return;
  }
  // One fprintf per line keeps lines from different threads whole.
  static std::mutex stderr_mutex;
  const std::string stamp = rfc3339_now();
  std::lock_guard lock(stderr_mutex);
  std::fprintf(stderr, "%s %-7s %.*s\n", stamp.c_str(), std::string(to_string(level)).c_str(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace infsh::local
