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

namespace detail {
void end_session_quietly(const std::shared_ptr<AsyncCore>& core,
                         const std::string& session_id) noexcept {
  try {
    AsyncSessions(core).end(session_id);  // not waited for: its outcome goes with the future
  } catch (...) {  // NOLINT(bugprone-empty-catch): a handle going away; end() reports errors
  }
}
}  // namespace detail

future<Task> AsyncSessionHandle::call(const nlohmann::json& input, const std::string& function,
                                      const RunOptions& options) const {
  if (ended()) {
    return make_exceptional_future<Task>(
        std::make_exception_ptr(InvalidArgumentError("session " + id() + " was ended")));
  }
  return AsyncTasks(session_.core())
      .run(detail::session_call_params(app(), id(), input, function), options);
}

future<Task> AsyncSessionHandle::call(const nlohmann::json& input,
                                      const std::string& function) const {
  return call(input, function, RunOptions{});
}

future<Task> AsyncSessionHandle::call(const nlohmann::json& input) const {
  return call(input, std::string(), RunOptions{});
}

future<Session> AsyncSessionHandle::info() const {
  return AsyncSessions(session_.core()).get(id());
}

future<Session> AsyncSessionHandle::keepalive() const {
  return AsyncSessions(session_.core()).keepalive(id());
}

future<void> AsyncSessionHandle::end() {
  if (!session_.mark_ended()) return make_ready_future();
  return AsyncSessions(session_.core()).end(id());
}

}  // namespace inferencesh
