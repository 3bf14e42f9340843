#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferencesh/detail/owned_session.hpp"
#include "inferencesh/task.hpp"
#include "inferencesh/tasks.hpp"

namespace inferencesh {

namespace detail {
class ClientCore;
}

/// A session: a warm app instance kept for a series of calls. `raw` keeps every field sent.
struct Session {
  std::string id;
  std::string status;  ///< "active", "ended" or "expired"
  std::string app_id;
  std::int64_t call_count = 0;
  std::string expires_at;
  std::string last_call_at;
  std::string ended_at;
  std::int64_t idle_timeout = 0;  ///< seconds; 0 when the server did not say
  nlohmann::json raw = nlohmann::json::object();

  bool is_active() const noexcept { return status == "active"; }
  static Session from_json(const nlohmann::json& object);
};

/// Options of sessions.open().
struct SessionOptions {
  nlohmann::json input = nlohmann::json::object();  ///< input of the first call
  std::string function;                             ///< function of the first call
  std::optional<nlohmann::json> setup;
  std::optional<int> session_timeout;  ///< idle timeout in seconds, 1..3600 (server default 60)
  RunOptions run;                      ///< how the first call is followed
};

class Sessions;

/// An open session: calls run on the same warm instance. Ended when the handle is destroyed
/// (errors while ending are swallowed there; call end() to see them). Move-only.
///
///     auto session = client.sessions.open("my-org/chat-app", {.input = {{"prompt", "hi"}}});
///     inf::Task next = session.call({{"prompt", "remember me?"}});
class SessionHandle {
 public:
  const std::string& id() const noexcept { return session_.id(); }
  const std::string& app() const noexcept { return session_.app(); }
  /// The result of the call that opened the session.
  const Task& first_result() const noexcept { return session_.first_result(); }

  /// Runs `input` in this session and waits for the result.
  Task call(const nlohmann::json& input, const std::string& function = {},
            const RunOptions& options = {}) const;
  /// The session as the server sees it now.
  Session info() const;
  /// Resets the idle timer.
  Session keepalive() const;
  /// Ends the session now. Idempotent.
  void end();
  bool ended() const noexcept { return session_.ended(); }

 private:
  friend class Sessions;
  SessionHandle(std::shared_ptr<detail::ClientCore> core, std::string app, Task first)
      : session_(std::move(core), std::move(app), std::move(first)) {}

  detail::OwnedSession<detail::ClientCore> session_;
};

/// The Sessions API. Reached as `client.sessions`. Sessions are started by running a task with
/// `session: "new"` (see tasks.run) or with open().
class Sessions {
 public:
  /// Starts a session with a first call of `app` and returns a handle that ends it on scope exit.
  SessionHandle open(const std::string& app, const SessionOptions& options = {}) const;

  Session get(const std::string& session_id) const;
  std::vector<Session> list() const;
  /// Resets the session's idle timer; SessionExpiredError / SessionEndedError when too late.
  Session keepalive(const std::string& session_id) const;
  /// Ends the session.
  void end(const std::string& session_id) const;

 private:
  friend class Client;
  friend class SessionHandle;
  friend void detail::end_session_quietly(const std::shared_ptr<detail::ClientCore>& core,
                                          const std::string& session_id) noexcept;
  explicit Sessions(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace inferencesh
