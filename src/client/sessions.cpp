#include "inferencesh/sessions.hpp"

#include "client_core.hpp"
#include "common/json_fields.hpp"
#include "inferencesh/errors.hpp"
#include "session_operations.hpp"

namespace inferencesh {

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
  return detail::session_from_payload(core_->call(detail::get_session_call(session_id)).data,
                                      "GET /sessions/" + session_id);
}

std::vector<Session> Sessions::list() const {
  return detail::sessions_from_payload(core_->call(detail::list_sessions_call()).data);
}

Session Sessions::keepalive(const std::string& session_id) const {
  return detail::session_from_payload(core_->call(detail::keepalive_session_call(session_id)).data,
                                      "POST /sessions/" + session_id + "/keepalive");
}

void Sessions::end(const std::string& session_id) const {
  core_->call(detail::end_session_call(session_id));
}

SessionHandle Sessions::open(const std::string& app, const SessionOptions& options) const {
  Task first = Tasks(core_).run(detail::open_session_params(app, options), options.run);
  detail::require_session_started(first, app);
  return {core_, app, std::move(first)};
}

namespace detail {
void end_session_quietly(const std::shared_ptr<ClientCore>& core,
                         const std::string& session_id) noexcept {
  try {
    Sessions(core).end(session_id);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a handle going away; end() reports errors
  }
}
}  // namespace detail

Task SessionHandle::call(const nlohmann::json& input, const std::string& function,
                         const RunOptions& options) const {
  if (ended()) throw InvalidArgumentError("session " + id() + " was ended");
  return Tasks(session_.core())
      .run(detail::session_call_params(app(), id(), input, function), options);
}

Session SessionHandle::info() const { return Sessions(session_.core()).get(id()); }

Session SessionHandle::keepalive() const { return Sessions(session_.core()).keepalive(id()); }

void SessionHandle::end() {
  if (session_.mark_ended()) Sessions(session_.core()).end(id());
}

}  // namespace inferencesh
