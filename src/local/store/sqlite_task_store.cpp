// The durable TaskStore: tasks in SQLite, written behind by the store's own thread.
//
// Every change is applied to the in-memory record at once (under the store's mutex) and the id
// is queued; the writer thread serialises the queued records and writes them in one
// transaction per batch. A record changed again before it was written is written once, so a
// task streaming many partial outputs costs a few writes, not one per change. A change is
// durable about one commit (well under a millisecond here) after the engine made it; flush()
// waits for that, and when_durable() calls back after it (group commit: every answer waiting
// for durability rides on the next batch, so many creations cost one transaction).
//
// Dirty ids are counted as they are queued (`queued_`) and as their batches end (`ended_`):
// dirty_ is first in, first out, so a change queued as number N is written once ended_ >= N.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/json_parse.hpp"
#include "store/sqlite_database.hpp"
#include "store/task_store.hpp"
#include "support/id_generator.hpp"
#include "support/logger.hpp"
#include "support/time_format.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace {

constexpr std::size_t kMaxBatch = 512;  // records per transaction

constexpr const char* kUpsert =
    "INSERT INTO tasks (id, status, app_id, session_id, created_at, updated_at, dto) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, session_id = excluded.session_id, "
    "updated_at = excluded.updated_at, dto = excluded.dto";

struct Row {
  std::string id;
  int status = 0;
  std::string app_id;
  std::string session_id;
  std::string created_at;
  std::string updated_at;
  std::string dto;
};

Row row_of(const TaskRecord& task) {
  return {task.id,
          static_cast<int>(task.status),
          task.app_ref,
          task.session_id.value_or(""),
          task.created_at,
          task.updated_at,
          common::compact_json(to_task_dto(task))};
}

void write_rows(Database& db, const std::vector<Row>& rows) {
  auto lock = db.lock();
  Transaction transaction(db);
  auto& upsert = db.statement(kUpsert);
  for (const Row& row : rows) {
    upsert.bind(1, row.id).bind(2, std::int64_t{row.status}).bind(3, row.app_id);
    if (row.session_id.empty()) {
      upsert.bind_null(4);
    } else {
      upsert.bind(4, row.session_id);
    }
    upsert.bind(5, row.created_at).bind(6, row.updated_at).bind(7, row.dto).run();
  }
  transaction.commit();
}

class SqliteTaskStore final : public TaskStore {
 public:
  SqliteTaskStore(Database& db, const Logger& log, TaskStoreLimits limits)
      : db_(db), log_(log), limits_(limits) {
    recover_interrupted();
    {
      auto lock = db_.lock();
      auto& count = db_.statement("SELECT COUNT(*) FROM tasks");
      count.step();
      count_ = static_cast<std::size_t>(count.integer(0));
      count.reset();
    }
    writer_ = std::thread([this] { write_loop(); });
  }

  ~SqliteTaskStore() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();  // writes what is queued first
  }

  void insert(TaskRecord task) override {
    std::lock_guard lock(mutex_);
    std::string id = task.id;
    auto [it, inserted] = hot_.insert_or_assign(std::move(id), Entry{std::move(task)});
    if (inserted) ++count_;
    mark_dirty_locked(it->first, it->second);
  }

  std::optional<TaskRecord> find(const std::string& id) const override {
    std::optional<TaskRecord> found;
    read(id, [&](const TaskRecord& task) { found = task; });
    return found;
  }

  bool update(const std::string& id, const std::function<void(TaskRecord&)>& change) override {
    std::unique_lock lock(mutex_);
    auto it = hot_.find(id);
    if (it == hot_.end()) {
      lock.unlock();
      auto loaded = load(id);
      if (!loaded) return false;
      lock.lock();
      it = hot_.try_emplace(id, Entry{std::move(*loaded)}).first;
    }
    change(it->second.record);
    mark_dirty_locked(it->first, it->second);
    return true;
  }

  bool read(const std::string& id,
            const std::function<void(const TaskRecord&)>& visit) const override {
    {
      std::lock_guard lock(mutex_);
      const auto it = hot_.find(id);
      if (it != hot_.end()) {
        visit(it->second.record);
        return true;
      }
    }
    // Not in memory: finished and written a while ago.
    const auto loaded = load(id);
    if (!loaded) return false;
    visit(*loaded);
    return true;
  }

  std::size_t size() const override {
    std::lock_guard lock(mutex_);
    return count_;
  }

  CacheUse finished_cache() const override {
    std::lock_guard lock(mutex_);
    return {finished_.size(), finished_bytes_};
  }

  std::size_t pending_writes() const override {
    std::lock_guard lock(mutex_);
    return dirty_.size() + in_flight_;
  }

  void flush() override {
    std::unique_lock lock(mutex_);
    wake_.notify_all();
    flushed_.wait(lock, [this] { return dirty_.empty() && !writing_; });
  }

  void when_durable(std::function<void(bool stored)> done) override {
    {
      std::lock_guard lock(mutex_);
      if (ended_ < queued_) {
        waiters_.push_back({queued_, false, std::move(done)});
        return;
      }
    }
    done(true);  // nothing is waiting to be written
  }

 private:
  struct Entry {
    TaskRecord record;
    bool dirty = false;
    bool finished_listed = false;  // in finished_, waiting to be evicted
    std::uint64_t bytes = 0;       // of its last written JSON, while finished_listed
  };

  struct Waiter {
    std::uint64_t target = 0;  // durable once ended_ reaches it
    bool failed = false;       // a batch it needed was not written
    std::function<void(bool)> done;
  };

  void mark_dirty_locked(const std::string& id, Entry& entry) {
    if (entry.dirty) return;
    entry.dirty = true;
    dirty_.push_back(id);
    ++queued_;
    wake_.notify_one();
  }

  // The waiters whose changes have all had their batch; called without the lock.
  std::vector<std::pair<std::function<void(bool)>, bool>> take_due_waiters_locked() {
    std::vector<std::pair<std::function<void(bool)>, bool>> due;
    while (!waiters_.empty() && waiters_.front().target <= ended_) {
      due.emplace_back(std::move(waiters_.front().done), !waiters_.front().failed);
      waiters_.pop_front();
    }
    return due;
  }

  static void call(std::vector<std::pair<std::function<void(bool)>, bool>>& due) noexcept {
    for (auto& [done, stored] : due) {
      try {
        done(stored);
      } catch (...) {  // NOLINT(bugprone-empty-catch): a waiter's failure is its own
      }
    }
    due.clear();
  }

  std::optional<TaskRecord> load(const std::string& id) const {
    std::string text;
    {
      auto lock = db_.lock();
      auto& select = db_.statement("SELECT dto FROM tasks WHERE id = ?1");
      select.bind(1, id);
      if (!select.step()) return std::nullopt;
      text = select.text(0);
      select.reset();
    }
    try {
      return task_record_from_dto(nlohmann::json::parse(text));
    } catch (const std::exception& e) {
      log_.error("the stored task " + id + " cannot be read: " + e.what());
      return std::nullopt;
    }
  }

  void write_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !dirty_.empty(); });
      if (dirty_.empty()) break;  // stopping, and everything is written
      const std::size_t take = std::min(dirty_.size(), kMaxBatch);
      const std::uint64_t batch_end = ended_ + take;
      std::vector<Row> rows;
      rows.reserve(take);
      for (std::size_t i = 0; i < take; ++i) {
        const auto it = hot_.find(dirty_[i]);
        if (it == hot_.end()) continue;
        it->second.dirty = false;
        rows.push_back(row_of(it->second.record));
      }
      dirty_.erase(dirty_.begin(), dirty_.begin() + static_cast<std::ptrdiff_t>(take));
      writing_ = true;
      in_flight_ = rows.size();
      lock.unlock();

      bool written = true;
      try {
        write_rows(db_, rows);
      } catch (const std::exception& e) {
        // The tasks stay in memory (never evicted unwritten); the next change retries them.
        written = false;
        log_.error("writing " + std::to_string(rows.size()) + " task(s) to " + db_.path() +
                   " failed: " + e.what());
      }

      lock.lock();
      writing_ = false;
      in_flight_ = 0;
      ended_ = batch_end;
      if (!written) {
        for (auto& waiter : waiters_) waiter.failed = true;  // each needed this batch
      }
      auto due = take_due_waiters_locked();
      if (written) evict_finished_locked(rows);
      flushed_.notify_all();
      if (!due.empty()) {
        lock.unlock();
        call(due);
        lock.lock();
      }
    }
    writing_ = false;
    auto due = take_due_waiters_locked();
    flushed_.notify_all();
    lock.unlock();
    call(due);
  }

  void evict_finished_locked(const std::vector<Row>& rows) {
    for (const Row& row : rows) {
      const auto it = hot_.find(row.id);
      if (it == hot_.end() || !is_terminal(static_cast<TaskStatus>(row.status))) continue;
      Entry& entry = it->second;
      if (entry.finished_listed) {
        finished_bytes_ -= entry.bytes;  // written again: counted at its new size
      } else {
        entry.finished_listed = true;
        finished_.push_back(row.id);
      }
      entry.bytes = row.dto.size();
      finished_bytes_ += entry.bytes;
    }
    while (!finished_.empty() && (finished_.size() > limits_.max_finished_count ||
                                  finished_bytes_ > limits_.max_finished_bytes)) {
      const auto it = hot_.find(finished_.front());
      finished_.pop_front();
      if (it == hot_.end() || !it->second.finished_listed) continue;
      Entry& entry = it->second;
      finished_bytes_ -= entry.bytes;
      entry.finished_listed = false;
      entry.bytes = 0;
      // A task changed again since stays until its next write lists it again.
      if (!entry.dirty && is_terminal(entry.record.status)) hot_.erase(it);
    }
  }

  // Tasks a previous runtime left unfinished can never finish: they fail, saying why.
  void recover_interrupted() {
    auto lock = db_.lock();
    std::vector<std::pair<std::string, std::string>> stored;
    auto& select = db_.statement("SELECT id, dto FROM tasks WHERE status NOT IN (10, 11, 12)");
    while (select.step()) stored.emplace_back(select.text(0), select.text(1));
    if (stored.empty()) return;
    std::vector<Row> rows;
    for (const auto& [id, text] : stored) {
      try {
        TaskRecord task = task_record_from_dto(nlohmann::json::parse(text));
        task.updated_at = rfc3339_now();
        task.status = TaskStatus::failed;
        task.error = kRestartedError;
        task.events.push_back({new_id("tev"), task.updated_at, TaskStatus::failed});
        rows.push_back(row_of(task));
      } catch (const std::exception& e) {
        log_.error("the stored task " + id + " cannot be read: " + e.what());
      }
    }
    lock.unlock();
    write_rows(db_, rows);
    log_.warning("marked " + std::to_string(rows.size()) +
                 " task(s) failed that were unfinished when the previous runtime stopped");
  }

  Database& db_;
  const Logger& log_;
  const TaskStoreLimits limits_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::unordered_map<std::string, Entry> hot_;
  std::vector<std::string> dirty_;    // ids changed since their last write, oldest first
  std::deque<std::string> finished_;  // written finished tasks, oldest first
  std::uint64_t finished_bytes_ = 0;  // of those in finished_
  std::deque<Waiter> waiters_;        // by target, oldest first
  std::uint64_t queued_ = 0;          // ids ever added to dirty_
  std::uint64_t ended_ = 0;           // of those, the ones whose batch has ended
  std::size_t count_ = 0;
  std::size_t in_flight_ = 0;  // rows of the batch being written
  bool writing_ = false;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace

std::unique_ptr<TaskStore> make_sqlite_task_store(Database& db, const Logger& log,
                                                  TaskStoreLimits limits) {
  return std::make_unique<SqliteTaskStore>(db, log, limits);
}

}  // namespace infsh::local
