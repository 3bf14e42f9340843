#pragma once

// The runtime's own URL ("http://127.0.0.1:8080"), known once it listens, for the URLs it hands
// out (file uris, upload URLs). Thread-safe.

#include <mutex>
#include <string>

namespace infsh::local {

class BaseUrl {
 public:
  void set(std::string url) {
    std::lock_guard lock(mutex_);
    url_ = std::move(url);
  }
  std::string get() const {
    std::lock_guard lock(mutex_);
    return url_;
  }

 private:
  mutable std::mutex mutex_;
  std::string url_;
};

}  // namespace infsh::local
