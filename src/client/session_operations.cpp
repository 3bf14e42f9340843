#include "session_operations.hpp"

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

std::string session_path(const std::string& id, const char* suffix = "") {
  if (id.empty()) throw InvalidArgumentError("session id must not be empty");
  return "/sessions/" + encode_path_segment(id) + suffix;
}

}  // namespace

ApiCall get_session_call(const std::string& session_id) {
  ApiCall call;
  call.path = session_path(session_id);
  return call;
}

ApiCall list_sessions_call() {
  ApiCall call;
  call.path = "/sessions";
  return call;
}

ApiCall keepalive_session_call(const std::string& session_id) {
  ApiCall call;
  call.method = "POST";
  call.path = session_path(session_id, "/keepalive");
  return call;
}

ApiCall end_session_call(const std::string& session_id) {
  ApiCall call;
  call.method = "DELETE";
  call.path = session_path(session_id);
  return call;
}

Session session_from_payload(const nlohmann::json& data, const std::string& what) {
  if (!data.is_object()) throw DecodeError(what + ": expected a session object");
  return Session::from_json(data);
}

std::vector<Session> sessions_from_payload(const nlohmann::json& data) {
  std::vector<Session> sessions;
  if (data.is_null()) return sessions;
  if (!data.is_array()) throw DecodeError("GET /sessions: expected a list of sessions");
  for (const auto& entry : data) sessions.push_back(Session::from_json(entry));
  return sessions;
}

nlohmann::json open_session_params(const std::string& app, const SessionOptions& options) {
  nlohmann::json params = {{"app", app}, {"input", options.input}, {"session", "new"}};
  if (!options.function.empty()) params["function"] = options.function;
  if (options.setup) params["setup"] = *options.setup;
  if (options.session_timeout) params["session_timeout"] = *options.session_timeout;
  return params;
}

nlohmann::json session_call_params(const std::string& app, const std::string& session_id,
                                   const nlohmann::json& input, const std::string& function) {
  nlohmann::json params = {{"app", app}, {"input", input}, {"session", session_id}};
  if (!function.empty()) params["function"] = function;
  return params;
}

void require_session_started(const Task& first, const std::string& app) {
  if (first.session_id.empty() || first.session_id == "new") {
    throw Error("sessions.open: the server started no session for " + app +
                " (the task carries no session_id)");
  }
}

}  // namespace inferencesh::detail
