#pragma once

// The reconnect rule of every follower of an event stream (a task's updates, a chat's events,
// blocking or on the async loop): a connection that ends or breaks without progress is counted,
// the next one waits an exponential backoff with jitter, and after `max_reconnects` such
// connections in a row the follower gives up. Progress (an event) resets the count.

#include <chrono>
#include <optional>

#include "inferencesh/client_options.hpp"

namespace inferencesh::detail {

class ReconnectBackoff {
 public:
  /// `wait` gives the first delay (doubled each time) and its cap.
  ReconnectBackoff(const WaitDefaults& wait, int max_reconnects);

  /// Counts a connection that brought no progress; the delay before the next one, in
  /// [d/2, d] with d = min(cap, first * 2^(failures-1)), or nullopt once reconnects are used up.
  std::optional<std::chrono::milliseconds> next_delay();
  /// An event arrived: the count starts again.
  void progress() noexcept { failures_ = 0; }

  /// Connections in a row without progress so far.
  int failures() const noexcept { return failures_; }
  int max_reconnects() const noexcept { return max_reconnects_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds cap_;
  int max_reconnects_;
  int failures_ = 0;
};

}  // namespace inferencesh::detail
