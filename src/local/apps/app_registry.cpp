#include <algorithm>
#include <map>
#include <mutex>

#include "infsh/local/app.hpp"

namespace infsh::local {

struct AppRegistry::State {
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<App>> apps;
};

AppRegistry::AppRegistry() : state_(std::make_unique<State>()) {}
AppRegistry::~AppRegistry() = default;

void AppRegistry::add(const std::string& name, std::shared_ptr<App> app) {
  if (!app) throw std::invalid_argument("AppRegistry::add: app '" + name + "' is null");
  std::lock_guard lock(state_->mutex);
  state_->apps.insert_or_assign(name, std::move(app));
}

std::shared_ptr<App> AppRegistry::find(const std::string& name) const {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->apps.find(name);
  return it == state_->apps.end() ? nullptr : it->second;
}

std::vector<std::string> AppRegistry::names() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> names;
  names.reserve(state_->apps.size());
  for (const auto& [name, app] : state_->apps) names.push_back(name);
  return names;
}

}  // namespace infsh::local
