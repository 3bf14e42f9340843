#include "tasks/run_request.hpp"

#include <algorithm>
#include <array>

#include "common/json_fields.hpp"
#include "http/api_envelope.hpp"
#include "http/json_body.hpp"

namespace infsh::local {

namespace common = inferencesh::common;
using Json = nlohmann::json;

namespace {

[[noreturn]] void invalid(const std::string& message) { throw ApiProblem(422, message); }

const char* type_name(const nlohmann::json& value) { return value.type_name(); }

// The value of `key` if present and not null; 422 naming the field when it is not `expected`.
const nlohmann::json* field(const nlohmann::json& body, const char* key,
                            common::JsonTypeTest is_expected, const char* expected) {
  try {
    return common::typed_field(body, key, is_expected, expected);
  } catch (const common::FieldTypeError& e) {
    invalid(e.what());
  }
}

bool valid_name(std::string_view name) {
  const auto slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '/';
  });
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

AppRef parse_app_ref(std::string_view ref) {
  AppRef parts;
  std::string_view rest = ref;
  const auto colon = rest.find(':');
  if (colon != std::string_view::npos) {
    parts.function = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (parts.function.empty()) invalid("field 'app': empty function name after ':'");
  }
  const auto at = rest.find('@');
  if (at != std::string_view::npos) {
    parts.version = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (parts.version.empty()) invalid("field 'app': empty version after '@'");
  }
  if (!valid_name(rest)) {
    invalid(R"(field 'app' must be an app reference like "namespace/name[@version]", not ")" +
            std::string(ref.substr(0, 200)) + "\"");
  }
  parts.name = std::string(rest);
  return parts;
}

RunRequest parse_run_request(std::string_view body_text, const AppRegistry& apps) {
  const nlohmann::json body = parse_json_body(body_text);
  if (!body.is_object()) {
    throw ApiProblem(400,
                     std::string("request body must be a JSON object, not ") + type_name(body));
  }

  const nlohmann::json* app = field(body, "app", &Json::is_string, "a string");
  if (app == nullptr) {
    app = field(body, "app_id", &Json::is_string, "a string");  // the deprecated direct form
  }
  if (app == nullptr) invalid("field 'app' is required (e.g. \"infsh/echo\")");

  const nlohmann::json* function = field(body, "function", &Json::is_string, "a string");
  const nlohmann::json* setup = common::find_field(body, "setup");
  const nlohmann::json* input = common::find_field(body, "input");

  const nlohmann::json* session = field(body, "session", &Json::is_string, "a string");
  if (session != nullptr && session->get_ref<const std::string&>().empty()) {
    invalid("field 'session' must be \"new\" or a session id, not empty");
  }
  for (const char* unsupported : {"stream", "wait"}) {
    const nlohmann::json* flag = common::find_field(body, unsupported);
    if (flag != nullptr && flag->is_boolean() && flag->get<bool>()) {
      invalid(std::string("field '") + unsupported +
              "': true is not supported; follow the task with GET /tasks/{id}/stream");
    }
  }

  RunRequest request;
  request.size = body_text.size();
  const auto ref = parse_app_ref(app->get_ref<const std::string&>());
  request.app = apps.find(ref.name);
  if (!request.app) {
    throw ApiProblem(404,
                     "app '" + ref.name + "' not found (available: " + join(apps.names()) + ")");
  }
  request.app_name = ref.name;
  request.version = ref.version;
  request.app_ref = ref.version.empty() ? ref.name : ref.name + "@" + ref.version;

  const auto functions = request.app->functions();
  request.function = function != nullptr ? function->get<std::string>() : ref.function;
  if (request.function.empty()) request.function = functions.empty() ? "run" : functions.front();
  if (std::find(functions.begin(), functions.end(), request.function) == functions.end()) {
    throw ApiProblem(404, "app '" + ref.name + "' has no function '" + request.function +
                              "' (functions: " + join(functions) + ")");
  }

  // A missing or null input is {}: JS callers of tasks.run(params) send none.
  request.input = input != nullptr ? *input : nlohmann::json::object();
  request.setup = setup != nullptr ? *setup : nlohmann::json();

  struct TypedField {
    const char* key;
    common::JsonTypeTest is_expected;
    const char* expected;
  };
  static constexpr std::array<TypedField, 6> kTyped{{
      {"infra", &Json::is_string, "a string"},
      {"webhook", &Json::is_string, "a string"},
      {"run_at", &Json::is_string, "a string"},
      {"workers", &Json::is_array, "an array"},
      {"metadata", &Json::is_object, "an object"},
      {"session_timeout", &Json::is_number_integer, "an integer"},
  }};
  for (const auto& typed : kTyped) {
    const nlohmann::json* value = field(body, typed.key, typed.is_expected, typed.expected);
    if (value != nullptr) request.extras[typed.key] = *value;
  }

  if (session != nullptr) request.session = session->get<std::string>();
  if (const nlohmann::json* timeout = common::find_field(body, "session_timeout");
      timeout != nullptr) {
    if (request.session != "new") {
      invalid("field 'session_timeout' applies only when a session starts (session: \"new\")");
    }
    const bool in_range = timeout->is_number_unsigned()
                              ? timeout->get<std::uint64_t>() <= kMaxSessionTimeout &&
                                    timeout->get<std::uint64_t>() >= 1
                              : timeout->get<std::int64_t>() >= 1 &&
                                    timeout->get<std::int64_t>() <= kMaxSessionTimeout;
    if (!in_range) {
      invalid("field 'session_timeout' must be between 1 and " +
              std::to_string(kMaxSessionTimeout) + " seconds, not " + timeout->dump());
    }
    request.session_timeout = timeout->get<int>();
  }

  // Before the app's own checks: nothing a client names as a local file gets near an app.
  try {
    check_client_files(request.input, "input", request.app->input_files(request.function));
    check_client_files(request.setup, "setup", request.app->setup_files());
  } catch (const TaskFileError& e) {
    throw ApiProblem(400, e.what());
  }
  try {
    request.app->validate(request.function, request.input, request.setup);
  } catch (const InvalidInputError& e) {
    invalid(e.what());
  }
  return request;
}

}  // namespace infsh::local
