#pragma once

// Sessions: a warm app instance leased to a series of calls (protocol-tasks-files.md 2.8).
//
// `session: "new"` on POST /apps/run opens one; calls with `session: "<id>"` run on its
// instance, one at a time in the order they came (the others wait, status queued). A session
// expires after `idle_timeout` seconds without a call (1..3600, default 60); a successful call
// counts in `call_count`, and every finished call or keepalive slides `expires_at`. A session
// never expires while a call is queued or running. Ending or expiring a session releases its
// instance (destroyed on a worker thread: its state belonged to the session). Records are kept
// in the database's `sessions` table; sessions a previous runtime left active are marked
// expired when the next one opens the data directory (their instances are gone).
//
// A session whose instance turns out not reusable after a call (its worker process died or was
// killed) is lost: it ends with an `error` {code WORKER_LOST, message} in its DTO, the calls
// waiting for it fail with that message, and new calls and keepalives get a 500 WORKER_LOST.
//
// Thread-safe. Expiry runs on the event loop through a LoopTimer given at start().

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/worker_pool.hpp"
#include "http/http_server.hpp"
#include "infsh/local/app.hpp"
#include "store/sqlite_database.hpp"
#include "support/logger.hpp"

namespace infsh::local {

inline constexpr int kDefaultSessionTimeout = 60;
inline constexpr int kMaxSessionTimeout = 3600;

class SessionManager {
 public:
  /// Loads the sessions kept in `db`; those left active are marked expired.
  SessionManager(Database& db, WorkerPool& workers, const Logger& log);
  ~SessionManager();
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  /// Starts expiring idle sessions with `timer` (a timer on the event loop).
  void start(std::unique_ptr<LoopTimer> timer);
  /// Stops the timer and releases every leased instance (sessions keep their status). Call
  /// before the event loop goes away.
  void stop();

  /// Opens a session for `app_name` (ref and version as requested) whose first call is
  /// `task_id`; returns its id ("sess_...").
  std::string open(const std::string& app_name, const std::string& app_ref,
                   const std::string& version, int idle_timeout, const std::string& task_id);

  /// Throws ApiProblem unless a call of `app_name` can join session `id`: 404
  /// SESSION_NOT_FOUND, 410 SESSION_ENDED / SESSION_EXPIRED, 500 WORKER_LOST, 422 for another
  /// app's session.
  void check_usable(const std::string& id, const std::string& app_name) const;

  /// Runs `start` (which queues the call on the worker pool) now if the session is idle, or
  /// after the calls before it. A session that is no longer active runs it at once (the call
  /// then fails in SessionCall::begin()). Every call submitted is ended by a SessionCall, which
  /// starts the next one.
  void submit(const std::string& id, std::function<void()> start);

  /// The AppSession DTO; 404 SESSION_NOT_FOUND when unknown.
  nlohmann::json get(const std::string& id) const;
  /// Every session, newest first.
  nlohmann::json list() const;
  /// Slides the expiry of an active session; 404, 410 SESSION_ENDED / SESSION_EXPIRED, or 500
  /// WORKER_LOST.
  nlohmann::json keepalive(const std::string& id);
  /// Ends a session (idempotent for ended and expired ones); 404 when unknown. Calls waiting
  /// for it fail; a running call finishes first, then the instance is released.
  void end(const std::string& id);

  std::size_t active_count() const;

 private:
  friend class SessionCall;
  using Clock = std::chrono::system_clock;

  struct Session {
    std::int64_t seq = 0;
    std::string id;
    std::string app_name;
    std::string app_ref;
    std::string version;
    std::string worker_id;
    std::string status = "active";  // active, ended, expired
    int idle_timeout = kDefaultSessionTimeout;
    std::int64_t call_count = 0;
    std::string task_id;
    std::string created_at;
    std::string updated_at;
    std::string expires_at;
    std::string ended_at;
    std::string last_call_at;
    Clock::time_point expires;
    std::string lost;  // the WORKER_LOST message once its instance was lost (status ended)

    std::unique_ptr<AppInstance> instance;
    bool busy = false;  // a call was started and has not ended
    std::deque<std::function<void()>> waiting;
  };

  // A call's start (see SessionCall::begin): the session's instance, or why it cannot run.
  struct Lease {
    bool active = false;
    std::string error;
    std::unique_ptr<AppInstance> instance;
  };
  Lease begin_call(const std::string& id);
  // A call's end (see SessionCall::end): returns what starts the next queued call, if any.
  std::function<void()> end_call(const std::string& id, std::unique_ptr<AppInstance> instance,
                                 bool succeeded);

  static nlohmann::json to_dto(const Session& session);
  static Session from_dto(const nlohmann::json& dto, std::int64_t seq);
  void persist_locked(const Session& session);
  void slide_locked(Session& session, Clock::time_point now);
  // Arms the timer for the earliest expiry of an idle active session.
  void schedule_locked();
  void expire_due();
  // Releases instances off the loop and off the lock (their destructors are app code).
  void release(std::vector<std::unique_ptr<AppInstance>> instances);
  [[noreturn]] void throw_unusable(const Session& session) const;
  const Session& find_or_throw(const std::string& id) const;
  Session& find_or_throw(const std::string& id);

  Database& db_;
  WorkerPool& workers_;
  const Logger& log_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;
  std::int64_t next_seq_ = 1;
  std::unique_ptr<LoopTimer> timer_;
};

/// One submitted call of a session, on its worker thread: ends the call exactly once however
/// the scope is left (a return, an exception), so a session is never left busy with its next
/// calls waiting for ever. Made for an empty id (a task in no session) it does nothing.
///
///   SessionCall call(sessions, id);     // first thing in the job, even for a cancelled task
///   if (!call.begin()) fail the task with call.error(), return;
///   run on call.instance() ...
///   call.end(succeeded);                // before the task reports its result
///   report the task's result;           // the next queued call starts at the scope's end
class SessionCall {
 public:
  SessionCall(SessionManager& sessions, std::string id);
  /// Ends the call if end() was not reached (not a success; a begun call gives its instance
  /// back), then starts the next queued call. Never throws: what fails is logged.
  ~SessionCall();
  SessionCall(const SessionCall&) = delete;
  SessionCall& operator=(const SessionCall&) = delete;

  bool in_session() const noexcept { return !id_.empty(); }

  /// Takes the session's instance out while the call runs (instance(); null before the
  /// session's first setup). False when the session ended meanwhile; error() says why.
  bool begin();
  const std::string& error() const noexcept { return error_; }
  /// The session's instance while the call runs: set it after a setup, run on it.
  std::unique_ptr<AppInstance>& instance() noexcept { return instance_; }

  /// Ends the call, before the task reports its result (so whoever sees it completed sees the
  /// session's count): gives the instance back (or releases it when the session ended), counts
  /// a success and slides the expiry. An instance that is not reusable any more is released
  /// and the session is lost. The next queued call starts when this object goes away.
  void end(bool succeeded);

 private:
  SessionManager& sessions_;
  std::string id_;
  std::string error_;
  std::unique_ptr<AppInstance> instance_;
  bool ended_ = false;
  std::function<void()> next_;
};

}  // namespace infsh::local
