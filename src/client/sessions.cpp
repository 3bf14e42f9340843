#include "inferencesh/sessions.hpp"

#include "api_request.hpp"
#include "client_core.hpp"
#include "common/json_fields.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh {
namespace {

std::string session_path(const std::string& id, const char* suffix = "") {
  if (id.empty()) throw InvalidArgumentError("session id must not be empty");
  return "/sessions/" + detail::encode_path_segment(id) + suffix;
}

Session session_from(const detail::ApiResult& result, const std::string& what) {
  if (!result.data.is_object()) throw DecodeError(what + ": expected a session object");
  return Session::from_json(result.data);
}

}  // namespace

Session Session::from_json(const nlohmann::json& object) {
  Session session;
  if (!object.is_object()) return session;
  session.raw = object;
  session.id = common::string_field_or(object, "id");
  session.status = common::string_field_or(object, "status");
  session.app_id = common::string_field_or(object, "app_id");
  session.call_count = common::integer_field_or(object, "call_count");
  session.expires_at = common::string_field_or(object, "expires_at");
  session.last_call_at = common::string_field_or(object, "last_call_at");
  session.ended_at = common::string_field_or(object, "ended_at");
  session.idle_timeout = common::integer_field_or(object, "idle_timeout");
  return session;
}

Session Sessions::get(const std::string& session_id) const {
  detail::ApiCall call;
  call.path = session_path(session_id);
  return session_from(core_->call(call), "GET /sessions/" + session_id);
}

std::vector<Session> Sessions::list() const {
  detail::ApiCall call;
  call.path = "/sessions";
  const auto result = core_->call(call);
  std::vector<Session> sessions;
  if (result.data.is_null()) return sessions;
  if (!result.data.is_array()) throw DecodeError("GET /sessions: expected a list of sessions");
  for (const auto& entry : result.data) sessions.push_back(Session::from_json(entry));
  return sessions;
}

Session Sessions::keepalive(const std::string& session_id) const {
  detail::ApiCall call;
  call.method = "POST";
  call.path = session_path(session_id, "/keepalive");
  return session_from(core_->call(call), "POST /sessions/" + session_id + "/keepalive");
}

void Sessions::end(const std::string& session_id) const {
  detail::ApiCall call;
  call.method = "DELETE";
  call.path = session_path(session_id);
  core_->call(call);
}

SessionHandle Sessions::open(const std::string& app, const SessionOptions& options) const {
  nlohmann::json params = {{"app", app}, {"input", options.input}, {"session", "new"}};
  if (!options.function.empty()) params["function"] = options.function;
  if (options.setup) params["setup"] = *options.setup;
  if (options.session_timeout) params["session_timeout"] = *options.session_timeout;
  Task first = Tasks(core_).run(params, options.run);
  if (first.session_id.empty() || first.session_id == "new") {
    throw Error("sessions.open: the server started no session for " + app +
                " (the task carries no session_id)");
  }
  return {core_, app, std::move(first)};
}

SessionHandle::SessionHandle(std::shared_ptr<detail::ClientCore> core, std::string app, Task first)
    : core_(std::move(core)),
      app_(std::move(app)),
      id_(first.session_id),
      first_result_(std::move(first)) {}

SessionHandle::SessionHandle(SessionHandle&& other) noexcept
    : core_(std::move(other.core_)),
      app_(std::move(other.app_)),
      id_(std::move(other.id_)),
      first_result_(std::move(other.first_result_)),
      ended_(other.ended_) {
  other.ended_ = true;
}

SessionHandle& SessionHandle::operator=(SessionHandle&& other) noexcept {
  if (this != &other) {
    if (!ended_ && core_) {
      try {
        end();
      } catch (...) {  // NOLINT(bugprone-empty-catch): a move must not throw
      }
    }
    core_ = std::move(other.core_);
    app_ = std::move(other.app_);
    id_ = std::move(other.id_);
    first_result_ = std::move(other.first_result_);
    ended_ = other.ended_;
    other.ended_ = true;
  }
  return *this;
}

SessionHandle::~SessionHandle() {
  if (ended_ || !core_) return;
  try {
    end();
  } catch (...) {  // NOLINT(bugprone-empty-catch): destructors must not throw; end() reports
  }
}

Task SessionHandle::call(const nlohmann::json& input, const std::string& function,
                         const RunOptions& options) const {
  if (ended_) throw InvalidArgumentError("session " + id_ + " was ended");
  nlohmann::json params = {{"app", app_}, {"input", input}, {"session", id_}};
  if (!function.empty()) params["function"] = function;
  return Tasks(core_).run(params, options);
}

Session SessionHandle::info() const { return Sessions(core_).get(id_); }

Session SessionHandle::keepalive() const { return Sessions(core_).keepalive(id_); }

void SessionHandle::end() {
  if (ended_ || !core_) return;
  ended_ = true;
  Sessions(core_).end(id_);
}

}  // namespace inferencesh
