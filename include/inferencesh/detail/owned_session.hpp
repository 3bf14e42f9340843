#pragma once

#include <memory>
#include <string>
#include <utility>

#include "inferencesh/task.hpp"

namespace inferencesh::detail {

class ClientCore;
class AsyncCore;

/// Asks the server to end a session whose handle is going away. Never throws; the async client
/// does not wait for the answer. Defined by each client.
void end_session_quietly(const std::shared_ptr<ClientCore>& core,
                         const std::string& session_id) noexcept;
void end_session_quietly(const std::shared_ptr<AsyncCore>& core,
                         const std::string& session_id) noexcept;

/// What a session handle owns: its client's core, the session and the result of the call that
/// opened it. Ends the session when destroyed or assigned over, unless it was ended or moved
/// from. Move-only; shared by `SessionHandle` and `AsyncSessionHandle`.
template <class Core>
class OwnedSession {
 public:
  OwnedSession(std::shared_ptr<Core> core, std::string app, Task first)
      : core_(std::move(core)), app_(std::move(app)), first_result_(std::move(first)) {}

  OwnedSession(OwnedSession&& other) noexcept
      : core_(std::move(other.core_)),
        app_(std::move(other.app_)),
        first_result_(std::move(other.first_result_)),
        ended_(std::exchange(other.ended_, true)) {}

  OwnedSession& operator=(OwnedSession&& other) noexcept {
    if (this != &other) {
      end_quietly();
      core_ = std::move(other.core_);
      app_ = std::move(other.app_);
      first_result_ = std::move(other.first_result_);
      ended_ = std::exchange(other.ended_, true);
    }
    return *this;
  }

  OwnedSession(const OwnedSession&) = delete;
  OwnedSession& operator=(const OwnedSession&) = delete;
  ~OwnedSession() { end_quietly(); }

  /// Marks the session ended. True when it was open, and the caller is to end it now.
  bool mark_ended() noexcept {
    if (ended_ || !core_) return false;
    ended_ = true;
    return true;
  }

  const std::shared_ptr<Core>& core() const noexcept { return core_; }
  const std::string& app() const noexcept { return app_; }
  /// The session's id, as the opening call's result carries it.
  const std::string& id() const noexcept { return first_result_.session_id; }
  const Task& first_result() const noexcept { return first_result_; }
  bool ended() const noexcept { return ended_; }

 private:
  void end_quietly() noexcept {
    if (mark_ended()) end_session_quietly(core_, id());
  }

  std::shared_ptr<Core> core_;
  std::string app_;
  Task first_result_;
  bool ended_ = false;
};

}  // namespace inferencesh::detail
