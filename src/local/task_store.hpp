#pragma once

// Where task records live. In memory for now; a SQLite store under --data-dir implements the
// same interface later. Callers serialise access (the TaskEngine holds its lock around calls),
// so implementations need not be thread-safe beyond that.

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
};

/// Keeps every task in a hash map.
std::unique_ptr<TaskStore> make_memory_task_store();

}  // namespace infsh::local
