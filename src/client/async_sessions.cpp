// AsyncSessions and AsyncSessionHandle: the calls of Sessions on the async loop.

#include <utility>

#include "async_core.hpp"
#include "async_operations.hpp"
#include "inferencesh/async_client.hpp"
#include "inferencesh/errors.hpp"
#include "session_operations.hpp"

namespace inferencesh {

future<Session> AsyncSessions::get(const std::string& session_id) const {
  try {
    return detail::call_on_loop<Session>(core_, detail::get_session_call(session_id), {},
                                         [session_id](const detail::ApiResult& payload) {
                                           return detail::session_from_payload(
                                               payload.data, "GET /sessions/" + session_id);
                                         });
  } catch (...) {
    return make_exceptional_future<Session>(std::current_exception());
  }
}

future<std::vector<Session>> AsyncSessions::list() const {
  return detail::call_on_loop<std::vector<Session>>(
      core_, detail::list_sessions_call(), {},
      [](const detail::ApiResult& payload) { return detail::sessions_from_payload(payload.data); });
}

future<Session> AsyncSessions::keepalive(const std::string& session_id) const {
  try {
    return detail::call_on_loop<Session>(core_, detail::keepalive_session_call(session_id), {},
                                         [session_id](const detail::ApiResult& payload) {
                                           return detail::session_from_payload(
                                               payload.data,
                                               "POST /sessions/" + session_id + "/keepalive");
                                         });
  } catch (...) {
    return make_exceptional_future<Session>(std::current_exception());
  }
}

future<void> AsyncSessions::end(const std::string& session_id) const {
  try {
    return detail::call_on_loop<void>(core_, detail::end_session_call(session_id), {},
                                      [](const detail::ApiResult&) {});
  } catch (...) {
    return make_exceptional_future<void>(std::current_exception());
  }
}

future<AsyncSessionHandle> AsyncSessions::open(const std::string& app,
                                               const SessionOptions& options) const {
  nlohmann::json params;
  try {
    params = detail::open_session_params(app, options);
  } catch (...) {
    return make_exceptional_future<AsyncSessionHandle>(std::current_exception());
  }
  // A weak reference: the call in flight must not keep the client (and its loop) alive.
  std::weak_ptr<detail::AsyncCore> weak = core_;
  return AsyncTasks(core_).run(params, options.run).then([weak, app](Task first) {
    detail::require_session_started(first, app);
    auto core = weak.lock();
    if (!core) throw CancelledError("the call was cancelled: the async client was shut down");
    return AsyncSessionHandle(std::move(core), app, std::move(first));
  });
}

future<AsyncSessionHandle> AsyncSessions::open(const std::string& app) const {
  return open(app, SessionOptions{});
}

AsyncSessionHandle::AsyncSessionHandle(std::shared_ptr<detail::AsyncCore> core, std::string app,
                                       Task first)
    : core_(std::move(core)),
      app_(std::move(app)),
      id_(first.session_id),
      first_result_(std::move(first)) {}

AsyncSessionHandle::AsyncSessionHandle(AsyncSessionHandle&& other) noexcept
    : core_(std::move(other.core_)),
      app_(std::move(other.app_)),
      id_(std::move(other.id_)),
      first_result_(std::move(other.first_result_)),
      ended_(other.ended_) {
  other.ended_ = true;
}

AsyncSessionHandle& AsyncSessionHandle::operator=(AsyncSessionHandle&& other) noexcept {
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

AsyncSessionHandle::~AsyncSessionHandle() {
  if (ended_ || !core_) return;
  try {
    end();         // not waited for: its outcome goes with the future
  } catch (...) {  // NOLINT(bugprone-empty-catch): destructors must not throw; end() reports
  }
}

future<Task> AsyncSessionHandle::call(const nlohmann::json& input, const std::string& function,
                                      const RunOptions& options) const {
  if (ended_) {
    return make_exceptional_future<Task>(
        std::make_exception_ptr(InvalidArgumentError("session " + id_ + " was ended")));
  }
  return AsyncTasks(core_).run(detail::session_call_params(app_, id_, input, function), options);
}

future<Task> AsyncSessionHandle::call(const nlohmann::json& input,
                                      const std::string& function) const {
  return call(input, function, RunOptions{});
}

future<Task> AsyncSessionHandle::call(const nlohmann::json& input) const {
  return call(input, std::string(), RunOptions{});
}

future<Session> AsyncSessionHandle::info() const { return AsyncSessions(core_).get(id_); }

future<Session> AsyncSessionHandle::keepalive() const {
  return AsyncSessions(core_).keepalive(id_);
}

future<void> AsyncSessionHandle::end() {
  if (ended_ || !core_) return make_ready_future();
  ended_ = true;
  return AsyncSessions(core_).end(id_);
}

}  // namespace inferencesh
