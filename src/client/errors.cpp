#include "inferencesh/errors.hpp"

#include <string>

namespace inferencesh {
namespace {

std::string path_of(const std::string& url) {
  // "scheme://host[:port]/path?query" -> "/path?query", enough to say which call failed
  // without repeating the host on every message.
  const auto scheme = url.find("://");
  const auto start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return start == std::string::npos ? url : url.substr(start);
}

std::string describe(const ApiError::Details& details) {
  std::string message = "HTTP " + std::to_string(details.status) + ": " +
                        (details.detail.empty() ? std::string("request failed") : details.detail);
  std::string context;
  if (!details.method.empty()) context = details.method + " " + path_of(details.url);
  if (!details.request_id.empty()) {
    if (!context.empty()) context += ", ";
    context += "request id " + details.request_id;
  }
  if (!context.empty()) message += " [" + context + "]";
  return message;
}

}  // namespace

ApiError::ApiError(Details details)
    : Error(describe(details)), details_(std::make_shared<const Details>(std::move(details))) {}

TaskFailedError::TaskFailedError(Task task)
    : Error(task.error.empty() ? std::string("task failed") : task.error),
      task_(std::make_shared<const Task>(std::move(task))) {}

}  // namespace inferencesh
