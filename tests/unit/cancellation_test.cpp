#include <atomic>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

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
