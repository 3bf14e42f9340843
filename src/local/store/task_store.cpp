#include "store/task_store.hpp"

#include <unordered_map>

namespace infsh::local {

namespace {

class MemoryTaskStore final : public TaskStore {
 public:
  void insert(TaskRecord task) override {
    std::string id = task.id;
    tasks_.insert_or_assign(std::move(id), std::move(task));
  }

  std::optional<TaskRecord> find(const std::string& id) const override {
    const auto it = tasks_.find(id);
    if (it == tasks_.end()) return std::nullopt;
    return it->second;
  }

  bool update(const std::string& id, const std::function<void(TaskRecord&)>& change) override {
    const auto it = tasks_.find(id);
    if (it == tasks_.end()) return false;
    change(it->second);
    return true;
  }

  bool read(const std::string& id,
            const std::function<void(const TaskRecord&)>& visit) const override {
    const auto it = tasks_.find(id);
    if (it == tasks_.end()) return false;
    visit(it->second);
    return true;
  }

  std::size_t size() const override { return tasks_.size(); }

 private:
  std::unordered_map<std::string, TaskRecord> tasks_;
};

}  // namespace

std::unique_ptr<TaskStore> make_memory_task_store() { return std::make_unique<MemoryTaskStore>(); }

}  // namespace infsh::local
