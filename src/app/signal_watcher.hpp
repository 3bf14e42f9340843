#pragma once

// SIGINT/SIGTERM in one-shot runs: the first one cancels the run (on a watcher thread, where
// the app's on_cancel() may run), a second one exits at once with status 130. The watcher thread
// is named "infsh-signals" and blocks every signal: the handler runs on the program's other
// threads.

#include <functional>
#include <thread>

namespace infsh::detail {

class SignalWatcher {
 public:
  /// Installs the handlers; `on_signal` runs on the watcher thread after the first signal.
  explicit SignalWatcher(std::function<void()> on_signal);
  /// Stops the thread and restores the previous handlers.
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::function<void()> on_signal_;
  std::thread thread_;
};

}  // namespace infsh::detail
