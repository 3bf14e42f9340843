#include "apps/worker_messages.hpp"

#include <string.h>  // NOLINT(modernize-deprecated-headers): sigdescr_np(), strsignal()
#include <sys/wait.h>

#include <algorithm>
#include <stdexcept>

#include "common/json_fields.hpp"
#include "common/json_parse.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

using nlohmann::json;

namespace {

std::vector<std::string> string_list(const json& value) {
  std::vector<std::string> list;
  if (!value.is_array()) return list;
  for (const auto& item : value) {
    if (item.is_string()) list.push_back(item.get<std::string>());
  }
  return list;
}

json task_id_value(const std::string& task_id) {
  return task_id.empty() ? json(nullptr) : json(task_id);
}

std::string signal_name(int number) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* description = ::sigdescr_np(number);  // thread-safe, unlike strsignal()
  return description != nullptr ? description : "unknown signal";
#else
  return ::strsignal(number);
#endif
}

}  // namespace

WorkerReady parse_ready(const json& message) {
  if (!message.is_object() || common::string_field_or(message, "type") != "ready") {
    throw std::runtime_error("its first message was not 'ready': " +
                             common::compact_json(message).substr(0, 200));
  }
  const auto protocol = message.find("protocol");
  if (protocol == message.end() || !protocol->is_number_integer()) {
    throw std::runtime_error("its 'ready' message has no protocol version");
  }
  if (protocol->get<std::int64_t>() != kWorkerProtocol) {
    throw std::runtime_error("it speaks worker protocol " + protocol->dump() +
                             "; this runtime speaks version " + std::to_string(kWorkerProtocol));
  }
  WorkerReady ready;
  ready.app = common::string_field_or(message, "app");
  const auto functions = message.find("functions");
  if (functions == message.end() || !functions->is_object() || functions->empty()) {
    throw std::runtime_error("its 'ready' message lists no functions");
  }
  ready.default_function = common::string_field_or(message, "default_function");
  if (ready.default_function.empty() || !functions->contains(ready.default_function)) {
    ready.default_function = functions->begin().key();
  }
  ready.functions.push_back(ready.default_function);
  for (const auto& [name, function] : functions->items()) {
    if (name != ready.default_function) ready.functions.push_back(name);
    ready.input_files[name] = function.is_object()
                                  ? string_list(function.value("input_files", json::array()))
                                  : std::vector<std::string>{};
  }
  ready.setup_files = string_list(message.value("setup_files", json::array()));
  return ready;
}

json setup_request(const std::string& task_id, const json& setup) {
  return {{"type", "setup"}, {"task_id", task_id_value(task_id)}, {"setup", setup}};
}

json run_request(const std::string& task_id, const std::string& function, const json& input,
                 const json& metadata) {
  return {{"type", "run"},
          {"task_id", task_id},
          {"function", function},
          {"input", input},
          {"metadata", metadata}};
}

json cancel_request(const std::string& task_id) {
  return {{"type", "cancel"}, {"task_id", task_id}};
}

json shutdown_request() { return {{"type", "shutdown"}}; }

std::string message_task_id(const json& message) {
  return common::string_field_or(message, "task_id");
}

std::string log_line(const json& message) {
  const std::string level = common::string_field_or(message, "level");
  std::string text = common::string_field_or(message, "message");
  if (level.empty() || level == "info") return text;
  return "[" + level + "] " + text;
}

std::string error_text(const json& message) {
  std::string text = common::string_field_or(message, "message");
  if (text.empty()) text = common::string_field_or(message, "kind");
  if (text.empty()) text = "the app failed without saying why";
  if (const auto issues = message.find("issues"); issues != message.end() && issues->is_array()) {
    for (const auto& issue : *issues) {
      if (!issue.is_object()) continue;
      const std::string path = common::string_field_or(issue, "path");
      const std::string what = common::string_field_or(issue, "message");
      std::string line = path;
      if (!line.empty()) line += ": ";
      line += what;
      if (!line.empty() && text.find(line) == std::string::npos) text += "; " + line;
    }
  }
  return text;
}

std::string describe_exit(int wait_status) {
  if (WIFEXITED(wait_status))
    return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int number = WTERMSIG(wait_status);
    return "was killed by signal " + std::to_string(number) + " (" + signal_name(number) + ")";
  }
  return "ended (wait status " + std::to_string(wait_status) + ")";
}

}  // namespace infsh::local
