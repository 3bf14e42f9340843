#include "apps/instance_pool.hpp"
#include "common/json_parse.hpp"

#include <array>
#include <cstdio>

namespace infsh::local {

namespace common = inferencesh::common;

InstancePool::InstancePool(std::size_t max_idle) : max_idle_(max_idle) {}

std::string InstancePool::key_of(const App& app, const nlohmann::json& setup) {
  // Object keys are sorted, so equal setups give equal text.
  std::array<char, 32> address{};
  std::snprintf(address.data(), address.size(), "%p", static_cast<const void*>(&app));
  const nlohmann::json& canonical = setup.is_null() ? nlohmann::json::object() : setup;
  return std::string(address.data()) + '\n' + common::compact_json(canonical);
}

std::unique_ptr<AppInstance> InstancePool::take(const std::string& key) {
  std::lock_guard lock(mutex_);
  for (auto it = idle_.begin(); it != idle_.end(); ++it) {
    if (it->key == key) {
      auto instance = std::move(it->instance);
      idle_.erase(it);
      return instance;
    }
  }
  return nullptr;
}

void InstancePool::give_back(const std::string& key, std::unique_ptr<AppInstance> instance) {
  if (!instance || max_idle_ == 0) return;
  std::unique_ptr<AppInstance> evicted;  // destroyed outside the lock
  std::lock_guard lock(mutex_);
  idle_.push_front({key, std::move(instance)});
  if (idle_.size() > max_idle_) {
    evicted = std::move(idle_.back().instance);
    idle_.pop_back();
  }
}

std::size_t InstancePool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

void InstancePool::clear() {
  std::list<Idle> gone;
  {
    std::lock_guard lock(mutex_);
    gone.swap(idle_);
  }
}

}  // namespace infsh::local
