#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "common/cancellation.hpp"
#include "inferencesh/cancellation.hpp"

namespace inf = inferencesh;
using namespace std::chrono_literals;

TEST_CASE("cancelling any copy of a token cancels them all", "[cancellation]") {
  inf::CancellationToken token;
  const inf::CancellationToken copy = token;
  CHECK_FALSE(token.is_cancelled());
  copy.cancel();
  CHECK(token.is_cancelled());
  copy.cancel();  // idempotent
  CHECK(copy.is_cancelled());
}

TEST_CASE("cancellation callbacks run once, and not after their registration is gone",
          "[cancellation]") {
  inf::CancellationToken token;
  int kept = 0;
  int dropped = 0;
  auto registration = token.on_cancel([&] { ++kept; });
  {
    auto gone = token.on_cancel([&] { ++dropped; });
  }
  token.cancel();
  token.cancel();
  CHECK(kept == 1);
  CHECK(dropped == 0);
  int late = 0;
  auto after = token.on_cancel([&] { ++late; });
  CHECK(late == 1);  // already cancelled: runs at once
}

TEST_CASE("wait_for returns early when another thread cancels", "[cancellation]") {
  inf::CancellationToken token;
  std::atomic<bool> waiting{false};
  std::thread canceller([&] {
    while (!waiting.load()) std::this_thread::yield();
    token.cancel();
  });
  waiting = true;
  // Without the cancel this would wait an hour and the test would time out.
  CHECK(token.wait_for(std::chrono::hours(1)));
  canceller.join();
  CHECK_FALSE(inf::CancellationToken().wait_for(1ms));
}

// The state behind CancellationToken, infsh::Context and the runtime's task cancel signal.

TEST_CASE("the cancellation state: only the first cancel counts, and runs each callback once",
          "[cancellation]") {
  inferencesh::common::CancellationState state;
  int first = 0;
  int second = 0;
  const auto first_id = state.add_callback([&] { ++first; });
  const auto second_id = state.add_callback([&] { ++second; });
  CHECK(first_id != 0);
  CHECK(second_id != first_id);
  CHECK_FALSE(state.is_cancelled());
  CHECK(state.cancel());
  CHECK_FALSE(state.cancel());
  CHECK(state.is_cancelled());
  CHECK(first == 1);
  CHECK(second == 1);
  state.remove_callback(first_id);  // after it ran: nothing to do
  state.remove_callback(0);         // the id of a callback that ran at once: ignored
}

TEST_CASE("a callback added to a cancelled state runs at once and is not kept", "[cancellation]") {
  inferencesh::common::CancellationState state;
  state.cancel();
  int runs = 0;
  CHECK(state.add_callback([&] { ++runs; }) == 0);
  CHECK(runs == 1);
  state.cancel();
  CHECK(runs == 1);
}

TEST_CASE("a removed callback does not run when the state is cancelled", "[cancellation]") {
  inferencesh::common::CancellationState state;
  int kept = 0;
  int removed = 0;
  state.add_callback([&] { ++kept; });
  state.remove_callback(state.add_callback([&] { ++removed; }));
  state.cancel();
  CHECK(kept == 1);
  CHECK(removed == 0);
}

TEST_CASE("a wait on the cancellation state ends when another thread cancels, or at its time",
          "[cancellation]") {
  inferencesh::common::CancellationState state;
  CHECK_FALSE(state.wait_for(1ms));
  std::atomic<bool> waiting{false};
  std::thread canceller([&] {
    while (!waiting.load()) std::this_thread::yield();
    state.cancel();
  });
  waiting = true;
  CHECK(state.wait_for(std::chrono::hours(1)));  // without the cancel: the test's timeout
  canceller.join();
  CHECK(state.wait_for(std::chrono::hours(1)));  // already cancelled: at once
}
