// The durable TaskStore: tasks in SQLite, written behind by the store's own thread.
//
// Every change is applied to the in-memory record at once (under the store's mutex) and the id
// is queued; the writer thread serialises the queued records and writes them in one
// transaction per batch. A record changed again before it was written is written once, so a
// task streaming many partial outputs costs a few writes, not one per change. A change is
// durable about one commit (well under a millisecond here) after the engine made it; flush()
// waits for that.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "id_generator.hpp"
#include "logger.hpp"
#include "sqlite_database.hpp"
#include "task_store.hpp"
#include "time_format.hpp"

namespace infsh::local {

namespace {

constexpr std::size_t kRecentFinished = 1024;  // finished tasks kept in memory after writing
constexpr std::size_t kMaxBatch = 512;         // records per transaction

constexpr const char* kUpsert =
    "INSERT INTO tasks (id, status, app_id, session_id, created_at, updated_at, dto) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, session_id = excluded.session_id, "
    "updated_at = excluded.updated_at, dto = excluded.dto";

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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
          dump(to_task_dto(task))};
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
  SqliteTaskStore(Database& db, const Logger& log) : db_(db), log_(log) {
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

  std::size_t pending_writes() const override {
    std::lock_guard lock(mutex_);
    return dirty_.size() + in_flight_;
  }

  void flush() override {
    std::unique_lock lock(mutex_);
    wake_.notify_all();
    flushed_.wait(lock, [this] { return dirty_.empty() && !writing_; });
  }

 private:
  struct Entry {
    TaskRecord record;
    bool dirty = false;
    bool finished_listed = false;  // in finished_, waiting to be evicted
  };

  void mark_dirty_locked(const std::string& id, Entry& entry) {
    if (entry.dirty) return;
    entry.dirty = true;
    dirty_.push_back(id);
    wake_.notify_one();
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
      if (written) evict_finished_locked(rows);
      flushed_.notify_all();
    }
    writing_ = false;
    flushed_.notify_all();
  }

  void evict_finished_locked(const std::vector<Row>& rows) {
    for (const Row& row : rows) {
      const auto it = hot_.find(row.id);
      if (it == hot_.end() || it->second.finished_listed ||
          !is_terminal(static_cast<TaskStatus>(row.status))) {
        continue;
      }
      it->second.finished_listed = true;
      finished_.push_back(row.id);
    }
    while (finished_.size() > kRecentFinished) {
      const auto it = hot_.find(finished_.front());
      finished_.pop_front();
      if (it != hot_.end() && !it->second.dirty && is_terminal(it->second.record.status)) {
        hot_.erase(it);
      }
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
        task.updated_at = format_rfc3339(std::chrono::system_clock::now());
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

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::unordered_map<std::string, Entry> hot_;
  std::vector<std::string> dirty_;    // ids changed since their last write, oldest first
  std::deque<std::string> finished_;  // written finished tasks, oldest first
  std::size_t count_ = 0;
  std::size_t in_flight_ = 0;  // rows of the batch being written
  bool writing_ = false;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace

std::unique_ptr<TaskStore> make_sqlite_task_store(Database& db, const Logger& log) {
  return std::make_unique<SqliteTaskStore>(db, log);
}

}  // namespace infsh::local
