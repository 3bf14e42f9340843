#pragma once

// Where task records live: in memory, or in SQLite under the data directory. Callers serialise
// access (the TaskEngine holds its lock around calls), so implementations need not be
// thread-safe beyond that (the SQLite store has its own writer thread and locks for it).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "task_record.hpp"

namespace infsh::local {

class TaskStore {
 public:
  virtual ~TaskStore() = default;

  virtual void insert(TaskRecord task) = 0;
  virtual std::optional<TaskRecord> find(const std::string& id) const = 0;
  /// Applies `change` to the stored task; false when there is no such task.
  virtual bool update(const std::string& id, const std::function<void(TaskRecord&)>& change) = 0;
  /// Calls `visit` with the task without copying it; false when there is no such task.
  virtual bool read(const std::string& id,
                    const std::function<void(const TaskRecord&)>& visit) const = 0;
  virtual std::size_t size() const = 0;
  /// Returns once every change made so far is stored durably (at once in memory).
  virtual void flush() {}
  /// Calls `done` once every change made so far is stored durably: done(true), or done(false)
  /// when writing them failed. Without blocking: in memory at once, else later from the store's
  /// writer thread, after the commit of the batch holding the last of them. `done` must be
  /// quick and must not call into the store.
  virtual void when_durable(std::function<void(bool stored)> done) {
    const auto now = std::move(done);
    now(true);
  }
  /// Tasks changed but not yet stored durably (0 in memory).
  virtual std::size_t pending_writes() const { return 0; }

  /// The finished tasks held in memory besides the unfinished ones, and their size as stored.
  struct CacheUse {
    std::size_t tasks = 0;
    std::uint64_t bytes = 0;
  };
  virtual CacheUse finished_cache() const { return {}; }
};

/// What the SQLite store keeps in memory besides the unfinished tasks.
struct TaskStoreLimits {
  /// Finished tasks kept for quick reads, in total, counted as the size of their stored JSON;
  /// older ones are read back from the database when asked for.
  std::uint64_t max_finished_bytes = std::uint64_t{64} << 20;
  /// ... and at most this many of them.
  std::size_t max_finished_count = 1024;
};

/// Keeps every task in a hash map.
std::unique_ptr<TaskStore> make_memory_task_store();

class Database;
class Logger;

/// Keeps tasks in the database's `tasks` table. Changes are applied in memory at once and
/// written behind, by a thread of the store's own, in batches (one transaction each), so
/// neither the engine lock nor the event loop waits for SQLite; when_durable() tells when a
/// change is committed (group commit: one transaction for whatever is pending). Unfinished tasks
/// and the most recently finished ones (within `limits`) stay in memory; older ones are read
/// back on demand.
///
/// On opening, tasks a previous runtime left unfinished (it crashed or was killed) are marked
/// failed with kRestartedError.
std::unique_ptr<TaskStore> make_sqlite_task_store(Database& db, const Logger& log,
                                                  TaskStoreLimits limits = {});

/// The error of tasks that were running when their runtime went away.
inline constexpr const char* kRestartedError =
    "the runtime restarted while the task was running; run it again";

}  // namespace infsh::local
