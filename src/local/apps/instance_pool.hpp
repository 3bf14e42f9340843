#pragma once

// Warm app instances kept between tasks, keyed by app and setup value: a task whose app and
// setup equal an earlier one's reuses that instance and skips setup. Sessions (later) take an
// instance out and hold it for the session's life instead of giving it back.

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "infsh/local/app.hpp"

namespace infsh::local {

class InstancePool {
 public:
  /// Keeps at most `max_idle` idle instances; the least recently used go first.
  explicit InstancePool(std::size_t max_idle);

  /// The identity of a warm instance: the App object and the canonical setup JSON.
  static std::string key_of(const App& app, const nlohmann::json& setup);

  /// Takes an idle instance with this key, or returns nullptr.
  std::unique_ptr<AppInstance> take(const std::string& key);

  /// Returns an instance for reuse.
  void give_back(const std::string& key, std::unique_ptr<AppInstance> instance);

  std::size_t idle() const;
  void clear();

 private:
  struct Idle {
    std::string key;
    std::unique_ptr<AppInstance> instance;
  };
  mutable std::mutex mutex_;
  std::list<Idle> idle_;  // front: most recently returned
  std::size_t max_idle_;
};

}  // namespace infsh::local
