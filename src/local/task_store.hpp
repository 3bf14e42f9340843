#pragma once

// Where task records live: in memory, or in SQLite under the data directory. Callers serialise
// access (the TaskEngine holds its lock around calls), so implementations need not be
// thread-safe beyond that (the SQLite store has its own writer thread and locks for it).

#include <cstddef>
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
  /// Tasks changed but not yet stored durably (0 in memory).
  virtual std::size_t pending_writes() const { return 0; }
};

/// Keeps every task in a hash map.
std::unique_ptr<TaskStore> make_memory_task_store();

class Database;
class Logger;

/// Keeps tasks in the database's `tasks` table. Changes are applied in memory at once and
/// written behind, by a thread of the store's own, in batches (one transaction each), so
/// neither the engine lock nor the event loop waits for SQLite. Unfinished tasks and the most
/// recently finished ones stay in memory; older ones are read back on demand.
///
/// On opening, tasks a previous runtime left unfinished (it crashed or was killed) are marked
/// failed with kRestartedError.
std::unique_ptr<TaskStore> make_sqlite_task_store(Database& db, const Logger& log);

/// The error of tasks that were running when their runtime went away.
inline constexpr const char* kRestartedError =
    "the runtime restarted while the task was running; run it again";

}  // namespace infsh::local
