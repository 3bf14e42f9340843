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
  return Tasks(core_).run(detail::session_call_params(app_, id_, input, function), options);
}

Session SessionHandle::info() const { return Sessions(core_).get(id_); }

Session SessionHandle::keepalive() const { return Sessions(core_).keepalive(id_); }

void SessionHandle::end() {
  if (ended_ || !core_) return;
  ended_ = true;
  Sessions(core_).end(id_);
}

}  // namespace inferencesh
