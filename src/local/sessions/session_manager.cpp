#include "sessions/session_manager.hpp"

#include <algorithm>
#include <utility>

#include "common/json_fields.hpp"
#include "http/api_envelope.hpp"
#include "support/id_generator.hpp"
#include "support/time_format.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

using nlohmann::json;

namespace {

json null_if_empty(const std::string& text) { return text.empty() ? json() : json(text); }

constexpr const char* kWorkerLostCode = "WORKER_LOST";

}  // namespace

SessionManager::SessionManager(Database& db, WorkerPool& workers, const Logger& log)
    : db_(db), workers_(workers), log_(log) {
  const std::string now = format_rfc3339(Clock::now());
  std::vector<Session*> interrupted;
  std::unique_lock lock = db_.lock();
  auto& select = db_.statement("SELECT seq, dto FROM sessions ORDER BY seq");
  while (select.step()) {
    const auto seq = select.integer(0);
    try {
      auto session = std::make_unique<Session>(from_dto(json::parse(select.text(1)), seq));
      if (session->status == "active") interrupted.push_back(session.get());
      next_seq_ = std::max(next_seq_, seq + 1);
      std::string id = session->id;
      sessions_.emplace(std::move(id), std::move(session));
    } catch (const std::exception& e) {
      log_.error(std::string("a stored session cannot be read: ") + e.what());
    }
  }
  lock.unlock();  // persist_locked takes it again
  // Their instances went away with the previous runtime.
  for (Session* session : interrupted) {
    session->status = "expired";
    session->ended_at = now;
    session->updated_at = now;
    persist_locked(*session);
  }
  if (!interrupted.empty()) {
    log_.info("marked " + std::to_string(interrupted.size()) +
              " session(s) of the previous runtime expired");
  }
}

SessionManager::~SessionManager() { stop(); }

void SessionManager::start(std::unique_ptr<LoopTimer> timer) {
  std::lock_guard lock(mutex_);
  timer_ = std::move(timer);
  schedule_locked();
}

void SessionManager::stop() {
  std::unique_ptr<LoopTimer> timer;
  std::vector<std::unique_ptr<AppInstance>> instances;
  {
    std::lock_guard lock(mutex_);
    timer = std::move(timer_);
    for (auto& [id, session] : sessions_) {
      if (session->instance) instances.push_back(std::move(session->instance));
    }
  }
  if (timer) timer->cancel();
  instances.clear();  // the workers have stopped: destroy them here
}

// ---- DTO and storage ------------------------------------------------------------------------

json SessionManager::to_dto(const Session& session) {
  return {
      {"id", session.id},
      {"short_id", session.id.substr(session.id.size() > 8 ? session.id.size() - 8 : 0)},
      {"created_at", session.created_at},
      {"updated_at", session.updated_at},
      {"deleted_at", nullptr},
      {"user_id", "local"},
      {"team_id", "local"},
      {"visibility", "private"},
      {"worker_id", session.worker_id},
      {"app_id", session.app_ref},
      {"app_version_id", session.version},
      {"status", session.status},
      {"expires_at", session.expires_at},
      {"ended_at", null_if_empty(session.ended_at)},
      {"task_id", null_if_empty(session.task_id)},
      {"call_count", session.call_count},
      {"last_call_at", null_if_empty(session.last_call_at)},
      {"idle_timeout", session.idle_timeout},
      // Not in the platform's AppSession: why a session ended without being asked to.
      {"error",
       session.lost.empty() ? json() : json{{"code", kWorkerLostCode}, {"message", session.lost}}},
  };
}

SessionManager::Session SessionManager::from_dto(const json& dto, std::int64_t seq) {
  Session session;
  session.seq = seq;
  session.id = common::string_field_or(dto, "id");
  session.app_ref = common::string_field_or(dto, "app_id");
  session.app_name = session.app_ref.substr(0, session.app_ref.find('@'));
  session.version = common::string_field_or(dto, "app_version_id");
  session.worker_id = common::string_field_or(dto, "worker_id");
  session.status = common::string_field_or(dto, "status");
  session.idle_timeout = dto.value("idle_timeout", kDefaultSessionTimeout);
  session.call_count = dto.value("call_count", std::int64_t{0});
  session.task_id = common::string_field_or(dto, "task_id");
  session.created_at = common::string_field_or(dto, "created_at");
  session.updated_at = common::string_field_or(dto, "updated_at");
  session.expires_at = common::string_field_or(dto, "expires_at");
  session.ended_at = common::string_field_or(dto, "ended_at");
  session.last_call_at = common::string_field_or(dto, "last_call_at");
  if (const auto error = dto.find("error");
      error != dto.end() && error->is_object() &&
      common::string_field_or(*error, "code") == kWorkerLostCode) {
    session.lost = common::string_field_or(*error, "message");
  }
  return session;
}

void SessionManager::persist_locked(const Session& session) {
  // The database lock is taken inside ours (never the other way round).
  try {
    auto lock = db_.lock();
    auto& upsert = db_.statement(
        "INSERT INTO sessions (seq, id, status, dto) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status, dto = excluded.dto");
    upsert.bind(1, session.seq).bind(2, session.id).bind(3, session.status);
    upsert.bind(4, to_dto(session).dump()).run();
  } catch (const std::exception& e) {
    log_.error("storing session " + session.id + " failed: " + e.what());
  }
}

void SessionManager::slide_locked(Session& session, Clock::time_point now) {
  session.expires = now + std::chrono::seconds(session.idle_timeout);
  session.expires_at = format_rfc3339(session.expires);
  session.updated_at = format_rfc3339(now);
}

// ---- opening and checking ---------------------------------------------------------------------

std::string SessionManager::open(const std::string& app_name, const std::string& app_ref,
                                 const std::string& version, int idle_timeout,
                                 const std::string& task_id) {
  auto session = std::make_unique<Session>();
  session->id = new_id("sess");
  session->app_name = app_name;
  session->app_ref = app_ref;
  session->version = version;
  session->worker_id = new_id("worker");
  session->idle_timeout = idle_timeout;
  session->task_id = task_id;
  const auto now = Clock::now();
  session->created_at = format_rfc3339(now);
  slide_locked(*session, now);
  std::lock_guard lock(mutex_);
  session->seq = next_seq_++;
  persist_locked(*session);
  std::string id = session->id;
  sessions_.emplace(id, std::move(session));
  log_.debug("session " + id + " (" + app_ref + ", idle timeout " + std::to_string(idle_timeout) +
             " s) opened");
  return id;
}

SessionManager::Session& SessionManager::find_or_throw(const std::string& id) {
  return const_cast<Session&>(std::as_const(*this).find_or_throw(id));
}

const SessionManager::Session& SessionManager::find_or_throw(const std::string& id) const {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    throw ApiProblem(404, "session '" + id.substr(0, 100) + "' not found", "SESSION_NOT_FOUND");
  }
  return *it->second;
}

void SessionManager::throw_unusable(const Session& session) const {
  if (!session.lost.empty()) throw ApiProblem(500, session.lost, kWorkerLostCode);
  if (session.status == "ended") {
    throw ApiProblem(410, "session '" + session.id + "' was ended at " + session.ended_at,
                     "SESSION_ENDED");
  }
  throw ApiProblem(410,
                   "session '" + session.id + "' expired at " + session.ended_at + " (idle for " +
                       std::to_string(session.idle_timeout) + " s, or its runtime restarted)",
                   "SESSION_EXPIRED");
}

void SessionManager::check_usable(const std::string& id, const std::string& app_name) const {
  std::lock_guard lock(mutex_);
  const Session& session = find_or_throw(id);
  if (session.status != "active") throw_unusable(session);
  if (session.app_name != app_name) {
    throw ApiProblem(422, "field 'session': session '" + id + "' belongs to app '" +
                              session.app_name + "', not '" + app_name + "'");
  }
}

// ---- calls
// ----------------------------------------------------------------------------------------

void SessionManager::submit(const std::string& id, std::function<void()> start) {
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(id);
    if (it != sessions_.end() && it->second->status == "active") {
      Session& session = *it->second;
      if (session.busy) {
        session.waiting.push_back(std::move(start));
        return;
      }
      session.busy = true;
    }
  }
  start();
}

SessionManager::Lease SessionManager::begin_call(const std::string& id) {
  std::lock_guard lock(mutex_);
  Lease lease;
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    lease.error = "session '" + id + "' is gone";
    return lease;
  }
  Session& session = *it->second;
  if (session.status != "active") {
    lease.error = !session.lost.empty()
                      ? session.lost
                      : "session '" + id + "' " +
                            (session.status == "ended" ? "was ended" : "expired") +
                            " before this call could run";
    return lease;
  }
  lease.active = true;
  lease.instance = std::move(session.instance);
  return lease;
}

std::function<void()> SessionManager::end_call(const std::string& id,
                                               std::unique_ptr<AppInstance> instance,
                                               bool succeeded) {
  // Asked outside the lock: it is app code, which may throw like any other.
  std::string lost_reason;
  if (instance && !instance->reusable()) {
    try {
      lost_reason = instance->lost_reason();
    } catch (const std::exception& e) {
      log_.warning("session " + id + ": its instance could not say why it was lost: " + e.what());
    } catch (...) {
      log_.warning("session " + id + ": its instance could not say why it was lost");
    }
    if (lost_reason.empty()) lost_reason = "it cannot be reused";
  }
  std::function<void()> next;
  std::vector<std::unique_ptr<AppInstance>> released;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(id);
    if (it == sessions_.end()) return {};
    Session& session = *it->second;
    if (session.status == "active") {
      const auto now = Clock::now();
      if (succeeded) {
        ++session.call_count;
        session.last_call_at = format_rfc3339(now);
      }
      if (!lost_reason.empty()) {
        // Its state went with the instance: the session ends, and the calls waiting fail.
        session.status = "ended";
        session.ended_at = format_rfc3339(now);
        session.updated_at = session.ended_at;
        session.lost = "the worker process of session '" + id + "' was lost (" + lost_reason +
                       "), and the app's state with it; start a new session";
        released.push_back(std::move(instance));
        log_.warning("session " + id + " ended: its worker process was lost (" + lost_reason + ")");
      } else {
        if (instance) session.instance = std::move(instance);
        slide_locked(session, now);
      }
      persist_locked(session);
    } else if (instance) {
      released.push_back(std::move(instance));
    }
    if (!session.waiting.empty()) {
      next = std::move(session.waiting.front());
      session.waiting.pop_front();
    } else {
      session.busy = false;
    }
    schedule_locked();
  }
  released.clear();  // on this worker thread, outside the lock
  return next;
}

// ---- SessionCall --------------------------------------------------------------------------------

SessionCall::SessionCall(SessionManager& sessions, std::string id)
    : sessions_(sessions), id_(std::move(id)) {}

SessionCall::~SessionCall() {
  if (!in_session()) return;
  try {
    if (!ended_) end(false);
    if (next_) next_();
  } catch (const std::exception& e) {
    sessions_.log_.error("session " + id_ + ": ending a call failed: " + e.what());
  } catch (...) {
    sessions_.log_.error("session " + id_ + ": ending a call failed");
  }
}

bool SessionCall::begin() {
  if (!in_session()) return true;
  auto lease = sessions_.begin_call(id_);
  error_ = std::move(lease.error);
  instance_ = std::move(lease.instance);
  return lease.active;
}

void SessionCall::end(bool succeeded) {
  if (!in_session() || ended_) return;
  ended_ = true;
  next_ = sessions_.end_call(id_, std::move(instance_), succeeded);
}

// ---- the API ------------------------------------------------------------------------------------

json SessionManager::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  return to_dto(find_or_throw(id));
}

json SessionManager::list() const {
  std::lock_guard lock(mutex_);
  std::vector<const Session*> all;
  all.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) all.push_back(session.get());
  std::sort(all.begin(), all.end(),
            [](const Session* a, const Session* b) { return a->seq > b->seq; });
  json items = json::array();
  for (const Session* session : all) items.push_back(to_dto(*session));
  return items;
}

json SessionManager::keepalive(const std::string& id) {
  std::lock_guard lock(mutex_);
  Session& session = find_or_throw(id);
  if (session.status != "active") throw_unusable(session);
  slide_locked(session, Clock::now());
  persist_locked(session);
  schedule_locked();
  return to_dto(session);
}

void SessionManager::end(const std::string& id) {
  std::deque<std::function<void()>> waiting;
  std::vector<std::unique_ptr<AppInstance>> released;
  {
    std::lock_guard lock(mutex_);
    Session& session = find_or_throw(id);
    if (session.status != "active") return;
    const auto now = format_rfc3339(Clock::now());
    session.status = "ended";
    session.ended_at = now;
    session.updated_at = now;
    persist_locked(session);
    if (session.instance) released.push_back(std::move(session.instance));
    waiting.swap(session.waiting);
    schedule_locked();
    log_.debug("session " + id + " ended after " + std::to_string(session.call_count) + " call(s)");
  }
  release(std::move(released));
  for (auto& start : waiting) start();  // each fails at once: the session has ended
}

std::size_t SessionManager::active_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(sessions_.begin(), sessions_.end(),
                    [](const auto& entry) { return entry.second->status == "active"; }));
}

// ---- expiry -------------------------------------------------------------------------------------

void SessionManager::schedule_locked() {
  if (!timer_) return;
  bool any = false;
  Clock::time_point earliest = Clock::time_point::max();
  for (const auto& [id, session] : sessions_) {
    if (session->status != "active" || session->busy) continue;
    any = true;
    earliest = std::min(earliest, session->expires);
  }
  if (!any) {
    timer_->cancel();
    return;
  }
  // The expiry is wall-clock time; the timer runs on the steady clock.
  const auto delay = std::max(Clock::duration::zero(), earliest - Clock::now());
  timer_->arm(std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay),
              [this] { expire_due(); });
}

void SessionManager::expire_due() {
  std::vector<std::unique_ptr<AppInstance>> released;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (auto& [id, session] : sessions_) {
      if (session->status != "active" || session->busy || session->expires > now) continue;
      session->status = "expired";
      session->ended_at = format_rfc3339(now);
      session->updated_at = session->ended_at;
      persist_locked(*session);
      if (session->instance) released.push_back(std::move(session->instance));
      log_.debug("session " + id + " expired after " + std::to_string(session->idle_timeout) +
                 " s idle");
    }
    schedule_locked();
  }
  release(std::move(released));
}

void SessionManager::release(std::vector<std::unique_ptr<AppInstance>> instances) {
  for (auto& instance : instances) {
    // The job is the last owner: the instance is destroyed on a worker thread. When the pool
    // refuses (shutting down), it is destroyed here.
    workers_.submit([shared = std::shared_ptr<AppInstance>(std::move(instance))] {});
  }
}

}  // namespace infsh::local
