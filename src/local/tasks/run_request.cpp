#include "tasks/run_request.hpp"

#include <algorithm>
#include <array>

#include "http/api_envelope.hpp"
#include "http/json_body.hpp"

namespace infsh::local {

namespace {

[[noreturn]] void invalid(const std::string& message) { throw ApiProblem(422, message); }

const char* type_name(const nlohmann::json& value) { return value.type_name(); }

// The value of `key` if present and not null.
const nlohmann::json* field(const nlohmann::json& body, const char* key) {
  const auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

void require_type(const nlohmann::json* value, const char* key, bool ok, const char* expected) {
  if (value != nullptr && !ok) {
    invalid(std::string("field '") + key + "' must be " + expected + ", not " + type_name(*value));
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

  const nlohmann::json* app = field(body, "app");
  const char* app_key = "app";
  if (app == nullptr) {
    app = field(body, "app_id");  // the deprecated direct form
    app_key = "app_id";
  }
  if (app == nullptr) invalid("field 'app' is required (e.g. \"infsh/echo\")");
  require_type(app, app_key, app->is_string(), "a string");

  const nlohmann::json* function = field(body, "function");
  require_type(function, "function", function == nullptr || function->is_string(), "a string");
  const nlohmann::json* setup = field(body, "setup");
  const nlohmann::json* input = field(body, "input");

  const nlohmann::json* session = field(body, "session");
  require_type(session, "session", session == nullptr || session->is_string(), "a string");
  if (session != nullptr && session->get_ref<const std::string&>().empty()) {
    invalid("field 'session' must be \"new\" or a session id, not empty");
  }
  for (const char* unsupported : {"stream", "wait"}) {
    const nlohmann::json* flag = field(body, unsupported);
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
    bool (*ok)(const nlohmann::json&);
    const char* expected;
  };
  static constexpr std::array<TypedField, 6> kTyped{{
      {"infra", [](const nlohmann::json& v) { return v.is_string(); }, "a string"},
      {"webhook", [](const nlohmann::json& v) { return v.is_string(); }, "a string"},
      {"run_at", [](const nlohmann::json& v) { return v.is_string(); }, "a string"},
      {"workers", [](const nlohmann::json& v) { return v.is_array(); }, "an array"},
      {"metadata", [](const nlohmann::json& v) { return v.is_object(); }, "an object"},
      {"session_timeout", [](const nlohmann::json& v) { return v.is_number_integer(); },
       "an integer"},
  }};
  for (const auto& typed : kTyped) {
    const nlohmann::json* value = field(body, typed.key);
    if (value == nullptr) continue;
    require_type(value, typed.key, typed.ok(*value), typed.expected);
    request.extras[typed.key] = *value;
  }

  if (session != nullptr) request.session = session->get<std::string>();
  if (const nlohmann::json* timeout = field(body, "session_timeout"); timeout != nullptr) {
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
