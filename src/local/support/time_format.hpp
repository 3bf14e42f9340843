#pragma once

#include <chrono>
#include <string>

namespace infsh::local {

/// "2026-01-02T03:04:05.678Z": RFC 3339 in UTC with milliseconds, as the API sends timestamps.
std::string format_rfc3339(std::chrono::system_clock::time_point time);

/// The current time as format_rfc3339 writes it.
std::string rfc3339_now();

}  // namespace infsh::local
