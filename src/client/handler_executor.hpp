#pragma once

// Threads for the async client's work that may block: client tool handlers of the blocking kind
// and approval callbacks, so the loop thread never waits for them.
//
// Threads start on demand, up to a limit, and wait for work between pieces. They are detached
// and hold only the pool's shared state, never its owner: destroying the owner stops idle
// threads at once and lets a busy one finish its piece of work (which holds what it uses
// itself), so destruction never waits for a handler and no thread touches freed memory.

#include <cstddef>
#include <functional>
#include <memory>

namespace inferencesh::detail {

class HandlerExecutor {
 public:
  explicit HandlerExecutor(std::size_t max_threads);
  ~HandlerExecutor();
  HandlerExecutor(const HandlerExecutor&) = delete;
  HandlerExecutor& operator=(const HandlerExecutor&) = delete;

  /// Runs `work` on one of the threads, in the order posted; an exception it throws is dropped
  /// (the work reports its own outcome). Any thread.
  void post(std::function<void()> work);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace inferencesh::detail
