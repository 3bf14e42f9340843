#pragma once

// Progress an app reports (AppContext::progress): the log line it adds to the task and the
// object the task's `metadata.progress` shows.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// "progress 3/10: denoising" (whole numbers without decimals; no ": " without a message).
std::string progress_line(double current, double total, std::string_view message);

/// {"current": 3, "total": 10, "message": "denoising"} (whole numbers as integers).
nlohmann::json progress_json(double current, double total, std::string_view message);

}  // namespace infsh::local
