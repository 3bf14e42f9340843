#include "inferencesh/future.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "inferencesh/errors.hpp"

namespace inf = inferencesh;
using namespace std::chrono_literals;

namespace {

// An executor that queues work until the test runs it, so the test sees where and when it runs.
struct QueueExecutor {
  std::shared_ptr<std::deque<std::function<void()>>> queue =
      std::make_shared<std::deque<std::function<void()>>>();
  inf::Executor executor() const {
    return [queue = queue](std::function<void()> work) { queue->push_back(std::move(work)); };
  }
  std::size_t run_all() const {
    std::size_t ran = 0;
    while (!queue->empty()) {
      auto work = std::move(queue->front());
      queue->pop_front();
      work();
      ++ran;
    }
    return ran;
  }
};

}  // namespace

TEST_CASE("then callbacks run in chain order, each given the previous result") {
  inf::promise<int> p;
  std::vector<std::string> order;
  auto last = p.get_future()
                  .then([&](int v) {
                    order.push_back("first " + std::to_string(v));
                    return v + 1;
                  })
                  .then([&](int v) {
                    order.push_back("second " + std::to_string(v));
                    return std::to_string(v * 10);
                  })
                  .then([&](const std::string& s) {
                    order.push_back("third " + s);
                    return s + "!";
                  });
  CHECK(order.empty());
  CHECK_FALSE(last.ready());
  p.set_value(1);
  CHECK(order == std::vector<std::string>{"first 1", "second 2", "third 20"});
  REQUIRE(last.ready());
  CHECK(last.get() == "20!");
  CHECK_FALSE(last.valid());
}

TEST_CASE("an exception skips value callbacks and reaches get() with its type") {
  inf::promise<int> p;
  int calls = 0;
  auto last = p.get_future()
                  .then([&](int v) {
                    ++calls;
                    return v;
                  })
                  .then([&](int) { ++calls; });
  inf::Task task;
  task.id = "t1";
  task.status = inf::TaskStatus::failed;
  task.error = "boom";
  p.set_exception(std::make_exception_ptr(inf::TaskFailedError(task)));
  CHECK(calls == 0);
  try {
    last.get();
    FAIL("get() did not throw");
  } catch (const inf::TaskFailedError& e) {
    CHECK(e.task().id == "t1");
    CHECK(std::string(e.what()).find("boom") != std::string::npos);
  }
}

TEST_CASE("a callback that throws fails the next future with its exception") {
  inf::promise<int> p;
  bool after = false;
  auto last = p.get_future()
                  .then([](int) -> int { throw inf::StreamError("callback failed"); })
                  .then([&](int) { after = true; });
  p.set_value(3);
  CHECK_FALSE(after);
  CHECK_THROWS_AS(last.get(), inf::StreamError);
}

TEST_CASE("a callback taking the future sees the exception and can recover") {
  inf::promise<int> p;
  auto recovered = p.get_future().then([](inf::future<int> f) {
    try {
      return f.get();
    } catch (const inf::CancelledError&) {
      return -1;
    }
  });
  p.set_exception(std::make_exception_ptr(inf::CancelledError("stopped")));
  CHECK(recovered.get() == -1);
}

TEST_CASE("a future returned by a then callback is unwrapped") {
  inf::promise<int> outer;
  inf::promise<std::string> inner;
  auto inner_future = std::make_shared<inf::future<std::string>>(inner.get_future());
  inf::future<std::string> result =
      outer.get_future().then([inner_future](int) { return std::move(*inner_future); });
  outer.set_value(1);
  CHECK_FALSE(result.ready());
  inner.set_value("inner");
  CHECK(result.get() == "inner");

  // An exception of the inner future reaches the unwrapped one.
  inf::promise<int> outer2;
  inf::promise<int> inner2;
  auto inner2_future = std::make_shared<inf::future<int>>(inner2.get_future());
  auto result2 =
      outer2.get_future().then([inner2_future](int) { return std::move(*inner2_future); });
  outer2.set_value(1);
  inner2.set_exception(std::make_exception_ptr(inf::DecodeError("bad")));
  CHECK_THROWS_AS(result2.get(), inf::DecodeError);
}

TEST_CASE("then with an executor hands the callback to the executor") {
  QueueExecutor queue;
  inf::promise<int> p;
  bool ran = false;
  auto next = p.get_future().then(queue.executor(), [&](int v) {
    ran = true;
    return v * 2;
  });
  p.set_value(21);
  CHECK_FALSE(ran);  // queued, not run on the completing thread
  CHECK_FALSE(next.ready());
  CHECK(queue.run_all() == 1);
  CHECK(ran);
  CHECK(next.get() == 42);
}

TEST_CASE("a continuation runs on the thread that completes the future") {
  inf::promise<int> p;
  std::thread::id ran_on;
  auto next = p.get_future().then([&](int) { ran_on = std::this_thread::get_id(); });
  std::thread producer([&] { p.set_value(1); });
  const auto producer_id = producer.get_id();
  producer.join();
  next.get();
  CHECK(ran_on == producer_id);
}

TEST_CASE("a continuation attached after completion runs at once on the caller") {
  auto ready = inf::make_ready_future(5);
  std::thread::id ran_on;
  auto next = ready.then([&](int v) {
    ran_on = std::this_thread::get_id();
    return v;
  });
  CHECK(ran_on == std::this_thread::get_id());
  CHECK(next.get() == 5);
}

TEST_CASE("void futures complete, chain and carry exceptions") {
  inf::promise<void> p;
  int steps = 0;
  auto chained = p.get_future().then([&] { ++steps; }).then([&](inf::future<void> f) {
    f.get();
    ++steps;
    return 7;
  });
  p.set_value();
  CHECK(chained.get() == 7);
  CHECK(steps == 2);

  inf::promise<void> failing;
  auto failed = failing.get_future().then([&] { ++steps; });
  failing.set_exception(std::make_exception_ptr(inf::ConnectionError("refused", false)));
  CHECK_THROWS_AS(failed.get(), inf::ConnectionError);
  CHECK(steps == 2);
}

TEST_CASE("wait_for times out before the result and reports ready after") {
  inf::promise<int> p;
  auto f = p.get_future();
  CHECK(f.wait_for(1ms) == std::future_status::timeout);
  CHECK_FALSE(f.ready());
  p.set_value(1);
  CHECK(f.wait_for(0ms) == std::future_status::ready);
  CHECK(f.ready());
  CHECK(f.get() == 1);
}

TEST_CASE("get blocks until another thread sets the value") {
  inf::promise<std::string> p;
  auto f = p.get_future();
  std::thread producer([p]() mutable { p.set_value("late"); });
  CHECK(f.get() == "late");
  producer.join();
}

TEST_CASE("a promise dropped without a result breaks its future and its chain") {
  inf::future<int> f;
  {
    inf::promise<int> p;
    f = p.get_future();
  }
  try {
    f.get();
    FAIL("no exception");
  } catch (const std::future_error& e) {
    CHECK(e.code() == std::future_errc::broken_promise);
  }
  inf::future<int> chained;
  {
    inf::promise<int> p;
    chained = p.get_future().then([](int v) { return v; });
  }
  CHECK_THROWS_AS(chained.get(), std::future_error);
}

TEST_CASE("a promise is completed once, and its future retrieved once") {
  inf::promise<int> p;
  auto f = p.get_future();
  CHECK_THROWS_AS(p.get_future(), std::future_error);
  p.set_value(1);
  CHECK_THROWS_AS(p.set_value(2), std::future_error);
  CHECK(f.get() == 1);
  CHECK_THROWS_AS(f.get(), std::future_error);  // taken already
}

namespace {

// An error that counts its live copies, to see who still holds an exception.
struct CountedError : std::runtime_error {
  explicit CountedError(std::shared_ptr<std::atomic<int>> alive)
      : std::runtime_error("counted"), alive_(std::move(alive)) {
    ++*alive_;
  }
  CountedError(const CountedError& other) : std::runtime_error(other), alive_(other.alive_) {
    ++*alive_;
  }
  CountedError& operator=(const CountedError&) = delete;
  ~CountedError() override { --*alive_; }

 private:
  std::shared_ptr<std::atomic<int>> alive_;
};

}  // namespace

TEST_CASE("taking a failed result leaves its exception with the taker alone") {
  auto alive = std::make_shared<std::atomic<int>>(0);
  SECTION("get()") {
    inf::promise<int> p;  // kept alive: the producer still holds the shared state
    auto f = p.get_future();
    p.set_exception(std::make_exception_ptr(CountedError(alive)));
    CHECK(*alive == 1);
    CHECK_THROWS_AS(f.get(), CountedError);
    CHECK(*alive == 0);
  }
  SECTION("an exception skipping a value callback") {
    inf::promise<int> p;
    auto next = p.get_future().then([](int v) { return v + 1; });
    p.set_exception(std::make_exception_ptr(CountedError(alive)));
    CHECK(*alive == 1);  // now held by the next future only
    CHECK_THROWS_AS(next.get(), CountedError);
    CHECK(*alive == 0);
  }
  SECTION("a callback that takes the future and rethrows") {
    inf::promise<int> p;
    auto next = p.get_future().then([](inf::future<int> f) { return f.get(); });
    p.set_exception(std::make_exception_ptr(CountedError(alive)));
    CHECK(*alive == 1);
    CHECK_THROWS_AS(next.get(), CountedError);
    CHECK(*alive == 0);
  }
}

#ifdef INFERENCESH_HAS_COROUTINES

namespace {

inf::future<int> add_in_coroutine(inf::future<int> a, inf::future<int> b) {
  const int x = co_await std::move(a);
  const int y = co_await b;
  co_return x + y;
}

inf::future<std::string> describe_failure(inf::future<int> failing) {
  try {
    co_await std::move(failing);
    co_return "no error";
  } catch (const inf::TaskFailedError& e) {
    co_return std::string("caught: ") + e.what();
  }
}

inf::future<void> count_in_coroutine(inf::future<void> signal, int& counter) {
  co_await std::move(signal);
  ++counter;
}

inf::future<int> throw_in_coroutine(inf::future<int> input) {
  const int value = co_await std::move(input);
  if (value > 0) throw inf::StreamError("thrown in a coroutine");
  co_return value;
}

}  // namespace

TEST_CASE("co_await resumes a coroutine with the value, on the completing thread") {
  inf::promise<int> a;
  inf::promise<int> b;
  auto sum = add_in_coroutine(a.get_future(), b.get_future());
  CHECK_FALSE(sum.ready());
  a.set_value(2);
  CHECK_FALSE(sum.ready());
  std::thread producer([&] { b.set_value(40); });
  producer.join();
  CHECK(sum.get() == 42);

  // Already-ready futures do not suspend.
  CHECK(add_in_coroutine(inf::make_ready_future(1), inf::make_ready_future(2)).get() == 3);
}

TEST_CASE("co_await rethrows the typed exception inside the coroutine") {
  inf::promise<int> p;
  auto described = describe_failure(p.get_future());
  inf::Task task;
  task.status = inf::TaskStatus::failed;
  task.error = "app crashed";
  p.set_exception(std::make_exception_ptr(inf::TaskFailedError(task)));
  CHECK(described.get().find("app crashed") != std::string::npos);
}

TEST_CASE("an exception escaping a coroutine fails its future") {
  inf::promise<int> p;
  auto result = throw_in_coroutine(p.get_future());
  p.set_value(1);
  CHECK_THROWS_AS(result.get(), inf::StreamError);
}

TEST_CASE("a coroutine returning future<void> completes it when it ends") {
  inf::promise<void> signal;
  int counter = 0;
  auto done = count_in_coroutine(signal.get_future(), counter);
  CHECK(counter == 0);
  signal.set_value();
  done.get();
  CHECK(counter == 1);
}

#endif  // INFERENCESH_HAS_COROUTINES
