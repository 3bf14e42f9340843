#include "worker_protocol.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <utility>

#include "common/json_fields.hpp"
#include "common/json_parse.hpp"
#include "infsh/version.hpp"

namespace infsh::detail::protocol {
namespace {

// Whole numbers go out as integers (3, not 3.0): progress is mostly counted in steps.
nlohmann::ordered_json number_value(double value) {
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9e15) {
    return static_cast<std::int64_t>(value);
  }
  return value;
}

nlohmann::ordered_json task_id_value(const std::string& task_id) {
  return task_id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(task_id);
}

nlohmann::ordered_json issues_json(const std::vector<ValidationIssue>& issues) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& issue : issues)
    list.push_back({{"path", issue.path}, {"message", issue.message}});
  return list;
}

// The string at `key`, empty when absent or null.
std::string optional_string(const nlohmann::json& message, const char* key) {
  try {
    return inferencesh::common::optional_string_field(message, key).value_or(std::string());
  } catch (const inferencesh::common::FieldTypeError& e) {
    throw ProtocolError("'" + e.field() + "' must be " + e.expected());
  }
}

}  // namespace

Request parse_request(std::string_view line) {
  inferencesh::common::JsonParseError error;
  auto parsed = inferencesh::common::parse_untrusted_json(line, &error);
  if (!parsed) throw ProtocolError("malformed JSON: " + error.message);
  const nlohmann::json message = std::move(*parsed);
  if (!message.is_object()) throw ProtocolError("a message must be a JSON object");
  const std::string type = optional_string(message, "type");
  Request request;
  request.task_id = optional_string(message, "task_id");
  if (type == "setup") {
    request.type = Request::Type::setup;
    if (const auto found = message.find("setup"); found != message.end()) request.setup = *found;
    if (!request.setup.is_null() && !request.setup.is_object()) {
      throw ProtocolError("'setup' must be an object or null");
    }
  } else if (type == "run") {
    request.type = Request::Type::run;
    if (request.task_id.empty()) throw ProtocolError("a run needs a 'task_id'");
    request.function = optional_string(message, "function");
    if (const auto found = message.find("input"); found != message.end()) request.input = *found;
    if (const auto found = message.find("metadata"); found != message.end() && !found->is_null()) {
      if (!found->is_object()) throw ProtocolError("'metadata' must be an object");
      request.metadata = *found;
    }
  } else if (type == "cancel") {
    request.type = Request::Type::cancel;
  } else if (type == "shutdown") {
    request.type = Request::Type::shutdown;
  } else if (type.empty()) {
    throw ProtocolError("a message needs a 'type'");
  } else {
    throw ProtocolError("unknown message type '" + type + "'");
  }
  return request;
}

nlohmann::ordered_json ready_message(const AppDefinition& app, const std::string& name) {
  nlohmann::ordered_json functions = nlohmann::ordered_json::object();
  for (const auto& function : app.functions) {
    functions[function.name] = {{"description", function.description},
                                {"input_schema", function.input_schema},
                                {"output_schema", function.output_schema},
                                {"input_files", function.input_files}};
  }
  nlohmann::ordered_json message = {
      {"type", "ready"},
      {"protocol", kVersion},
      {"app", name},
      {"sdk", std::string("inferencesh-cpp/") + infsh::kVersion},
      {"pid", static_cast<long long>(::getpid())},
      {"default_function", app.default_function},
      {"functions", std::move(functions)},
  };
  message["setup_schema"] = app.setup_schema ? *app.setup_schema : nlohmann::ordered_json(nullptr);
  message["setup_files"] = app.setup_files;
  return message;
}

nlohmann::ordered_json setup_message(const std::string& task_id, const RunOutcome& outcome) {
  if (outcome.ok()) return {{"type", "setup_done"}, {"task_id", task_id_value(task_id)}};
  return {{"type", "setup_error"},
          {"task_id", task_id_value(task_id)},
          {"kind", outcome.error_kind},
          {"message", outcome.error},
          {"issues", issues_json(outcome.issues)}};
}

nlohmann::ordered_json run_message(const std::string& task_id, const RunOutcome& outcome) {
  if (outcome.ok()) {
    return {{"type", "result"},
            {"task_id", task_id_value(task_id)},
            {"output", outcome.output.json},
            {"files", outcome.output.files}};
  }
  return {{"type", "error"},
          {"task_id", task_id_value(task_id)},
          {"kind", outcome.error_kind},
          {"message", outcome.error},
          {"issues", issues_json(outcome.issues)}};
}

nlohmann::ordered_json log_message(const std::string& task_id, LogLevel level,
                                   const std::string& message) {
  return {{"type", "log"},
          {"task_id", task_id_value(task_id)},
          {"level", to_string(level)},
          {"message", message}};
}

nlohmann::ordered_json progress_message(const std::string& task_id, double current, double total,
                                        const std::string& message) {
  return {{"type", "progress"},
          {"task_id", task_id_value(task_id)},
          {"current", number_value(current)},
          {"total", number_value(total)},
          {"message", message}};
}

nlohmann::ordered_json partial_message(const std::string& task_id, const EncodedOutput& output) {
  return {{"type", "partial"},
          {"task_id", task_id_value(task_id)},
          {"output", output.json},
          {"files", output.files}};
}

nlohmann::ordered_json error_message(const std::string& task_id, const std::string& kind,
                                     const std::string& message) {
  return {{"type", "error"},
          {"task_id", task_id_value(task_id)},
          {"kind", kind},
          {"message", message},
          {"issues", nlohmann::ordered_json::array()}};
}

std::string to_line(const nlohmann::ordered_json& message) {
  std::string line = message.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line += '\n';
  return line;
}

}  // namespace infsh::detail::protocol
