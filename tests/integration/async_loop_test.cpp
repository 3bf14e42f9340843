// The async client's event loop (one curl multi handle over epoll) against real sockets:
// requests from several threads, streams, cancellation, limits, the bound on requests in
// flight, shutdown with requests in flight, and a loop driven by the program instead of its own
// thread.

#include "async_loop.hpp"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/errors.hpp"
#include "inferencesh/future.hpp"
#include "support/scripted_server.hpp"
#include "support/silent_listener.hpp"

namespace inf = inferencesh;
using inf::detail::AsyncLoop;
using inf::testing::Reply;
using inf::testing::ScriptedServer;
using inf::testing::SilentListener;
using namespace std::chrono_literals;

namespace {

inf::HttpRequest get(const std::string& url) {
  inf::HttpRequest request;
  request.url = url;
  return request;
}

/// Sends `request` through the loop from any thread; the future completes on the loop thread.
inf::future<inf::HttpResponse> send(const std::shared_ptr<AsyncLoop>& loop,
                                    inf::HttpRequest request,
                                    const inf::CancellationToken& cancel = {}) {
  inf::promise<inf::HttpResponse> promise;
  auto future = promise.get_future();
  loop->post([loop, request = std::move(request), cancel, promise]() mutable {
    loop->send(std::move(request), cancel,
               [promise](std::exception_ptr error, inf::HttpResponse response) mutable {
                 if (error) {
                   promise.set_exception(error);
                 } else {
                   promise.set_value(std::move(response));
                 }
               });
  });
  return future;
}

/// What a stream delivered, in order: "headers 200", the data pieces, then "end" or "error: ...".
struct StreamLog {
  std::mutex mutex;
  std::vector<std::string> events;
  inf::promise<void> ended;
  void add(std::string event) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
};

AsyncLoop::StreamHandler logging_handler(const std::shared_ptr<StreamLog>& log) {
  AsyncLoop::StreamHandler handler;
  handler.on_headers = [log](int status, const inf::Headers&) {
    log->add("headers " + std::to_string(status));
  };
  handler.on_data = [log](std::string_view bytes) { log->add(std::string(bytes)); };
  handler.on_end = [log](std::exception_ptr error) {
    if (error) {
      log->ended.set_exception(error);
    } else {
      log->add("end");
      log->ended.set_value();
    }
  };
  return handler;
}

/// Holds the requests that reach a server's handler until opened, and counts how many were held
/// at once. The wait is bounded, so a failing test cannot hang the server's shutdown.
class Gate {
 public:
  void pass() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++inside_;
    most_inside_ = std::max(most_inside_, inside_);
    changed_.notify_all();
    changed_.wait_for(lock, 30s, [this] { return open_; });
    --inside_;
  }
  void open() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  /// Waits until `n` requests are held at once; false when `timeout` passes first.
  bool wait_for_inside(int n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return inside_ >= n; });
  }
  int most_inside() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return most_inside_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
  int inside_ = 0;
  int most_inside_ = 0;
};

/// Returns once everything posted to `loop` before this call has run on it.
void wait_for_posted(const std::shared_ptr<AsyncLoop>& loop) {
  inf::promise<void> reached;
  auto done = reached.get_future();
  loop->post([reached]() mutable { reached.set_value(); });
  done.get();
}

}  // namespace

TEST_CASE("the async loop completes requests submitted from several threads", "[async]") {
  ScriptedServer server([](const inf::testing::RecordedRequest& request) {
    return Reply::json(200, {{"path", request.path}});
  });
  auto loop = AsyncLoop::create({}, /*own_thread=*/true);
  std::vector<std::vector<inf::future<inf::HttpResponse>>> results(4);
  std::vector<std::thread> submitters;
  for (std::size_t t = 0; t < results.size(); ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        results[t].push_back(send(
            loop, get(server.base_url() + "/r/" + std::to_string(t) + "/" + std::to_string(i))));
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  for (std::size_t t = 0; t < results.size(); ++t) {
    for (std::size_t i = 0; i < results[t].size(); ++i) {
      const auto response = results[t][i].get();
      CHECK(response.status == 200);
      CHECK(nlohmann::json::parse(response.body)["path"] ==
            "/r/" + std::to_string(t) + "/" + std::to_string(i));
    }
  }
  CHECK(server.request_count() == 100);
}

TEST_CASE("an async stream hands its headers, then its pieces in order, then its end", "[async]") {
  ScriptedServer server([](const auto&) {
    return Reply::status(200).chunked().send("one ").delay(5ms).send("two ").delay(5ms).send(
        "three");
  });
  auto loop = AsyncLoop::create({}, true);
  auto log = std::make_shared<StreamLog>();
  auto ended = log->ended.get_future();
  loop->post([loop, log, url = server.base_url()] {
    loop->open(get(url + "/stream"), {}, logging_handler(log));
  });
  ended.get();
  std::string body;
  for (std::size_t i = 1; i + 1 < log->events.size(); ++i) body += log->events[i];
  CHECK(log->events.front() == "headers 200");
  CHECK(body == "one two three");
  CHECK(log->events.back() == "end");
}

TEST_CASE(
    "cancelling an async request in flight fails it with CancelledError and closes "
    "its connection",
    "[async]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).stall(); });
  auto loop = AsyncLoop::create({}, true);
  inf::CancellationToken cancel;
  auto result = send(loop, get(server.base_url() + "/slow"), cancel);
  REQUIRE(server.wait_for_requests(1, 10s));
  cancel.cancel();
  CHECK_THROWS_AS(result.get(), inf::CancelledError);
  CHECK(server.wait_for_closed_connections(1, 10s));
}

TEST_CASE("an async request whose token is already cancelled is never sent", "[async]") {
  ScriptedServer server([](const auto&) { return Reply::json(200, {}); });
  auto loop = AsyncLoop::create({}, true);
  inf::CancellationToken cancel;
  cancel.cancel();
  CHECK_THROWS_AS(send(loop, get(server.base_url() + "/x"), cancel).get(), inf::CancelledError);
  // A later request on the same loop goes out: the cancelled one left nothing behind.
  CHECK(send(loop, get(server.base_url() + "/y")).get().status == 200);
  CHECK(server.request_count() == 1);
}

TEST_CASE("cancelling an async stream in flight ends it with CancelledError", "[async]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).chunked().send("a").stall(); });
  auto loop = AsyncLoop::create({}, true);
  auto log = std::make_shared<StreamLog>();
  auto ended = log->ended.get_future();
  inf::CancellationToken cancel;
  std::atomic<bool> got_data{false};
  auto handler = logging_handler(log);
  handler.on_data = [&got_data](std::string_view) { got_data = true; };
  loop->post([loop, cancel, handler, url = server.base_url()] {
    loop->open(get(url + "/stream"), cancel, handler);
  });
  REQUIRE(server.wait_for_requests(1, 10s));
  cancel.cancel();
  CHECK_THROWS_AS(ended.get(), inf::CancelledError);
}

TEST_CASE("a stream handler that throws ends the stream with its exception", "[async]") {
  ScriptedServer server([](const auto&) {
    return Reply::status(200).chunked().send("a").delay(5ms).send("b").stall();
  });
  auto loop = AsyncLoop::create({}, true);
  auto log = std::make_shared<StreamLog>();
  auto ended = log->ended.get_future();
  auto handler = logging_handler(log);
  handler.on_data = [](std::string_view) { throw inf::StreamError("handler refused"); };
  loop->post(
      [loop, handler, url = server.base_url()] { loop->open(get(url + "/s"), {}, handler); });
  CHECK_THROWS_AS(ended.get(), inf::StreamError);
  CHECK(server.wait_for_closed_connections(1, 10s));
}

TEST_CASE("an async stream that stays silent past its idle timeout fails with TimeoutError",
          "[async]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).chunked().send("a").stall(); });
  auto loop = AsyncLoop::create({}, true);
  auto log = std::make_shared<StreamLog>();
  auto ended = log->ended.get_future();
  auto request = get(server.base_url() + "/s");
  request.idle_timeout = 50ms;
  loop->post([loop, log, request] { loop->open(request, {}, logging_handler(log)); });
  CHECK_THROWS_AS(ended.get(), inf::TimeoutError);
}

TEST_CASE(
    "shutting down the async loop with 1000 requests in flight fails each with "
    "CancelledError",
    "[async]") {
  SilentListener listener;
  auto loop = AsyncLoop::create({}, true);
  std::vector<inf::future<inf::HttpResponse>> results;
  for (int i = 0; i < 1000; ++i) results.push_back(send(loop, get(listener.url() + "/x")));
  // Every request is on the loop before the shutdown, not only in its inbox.
  inf::promise<void> submitted;
  auto all_submitted = submitted.get_future();
  loop->post([submitted]() mutable { submitted.set_value(); });
  all_submitted.get();
  loop->shutdown();
  int cancelled = 0;
  for (auto& result : results) {
    REQUIRE(result.ready());
    try {
      result.get();
    } catch (const inf::CancelledError&) {
      ++cancelled;
    }
  }
  CHECK(cancelled == 1000);
  // Work submitted after the shutdown fails the same way instead of hanging.
  CHECK_THROWS_AS(send(loop, get(listener.url() + "/late")).get(), inf::CancelledError);
}

TEST_CASE("destroying the async loop with requests in flight fails them with CancelledError",
          "[async]") {
  SilentListener listener;
  std::vector<inf::future<inf::HttpResponse>> results;
  {
    auto loop = AsyncLoop::create({}, true);
    for (int i = 0; i < 20; ++i) results.push_back(send(loop, get(listener.url() + "/x")));
    loop->shutdown();  // what the client's destructor does; the loop object may outlive it
  }
  for (auto& result : results) CHECK_THROWS_AS(result.get(), inf::CancelledError);
}

TEST_CASE(
    "a loop driven by the program completes requests through descriptor, timeout and "
    "run_once",
    "[async]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).delay(5ms).body("driven"); });
  auto loop = AsyncLoop::create({}, /*own_thread=*/false);
  auto result = send(loop, get(server.base_url() + "/d"));
  // A program's own poll loop: wait on the loop's descriptor, bounded by its timeout.
  int rounds = 0;
  while (!result.ready() && rounds < 100000) {
    ++rounds;
    pollfd descriptor{loop->descriptor(), POLLIN, 0};
    const auto timeout = loop->timeout();
    ::poll(&descriptor, 1, timeout ? static_cast<int>(timeout->count()) : 1000);
    loop->run_once(0ms);
  }
  REQUIRE(result.ready());
  const auto response = result.get();
  CHECK(response.status == 200);
  CHECK(response.body == "driven");

  // Its shutdown, on the driving thread, fails what is in flight.
  ScriptedServer stalled([](const auto&) { return Reply::status(200).stall(); });
  auto pending = send(loop, get(stalled.base_url() + "/s"));
  while (stalled.request_count() == 0) loop->run_once(10ms);
  loop->shutdown();
  CHECK_THROWS_AS(pending.get(), inf::CancelledError);
}

TEST_CASE("async loop timers fire in order of their delay, and fail at shutdown", "[async]") {
  auto loop = AsyncLoop::create({}, true);
  auto order = std::make_shared<std::vector<int>>();
  inf::promise<void> fired;
  auto all_fired = fired.get_future();
  loop->post([loop, order, fired]() mutable {
    loop->after(20ms, [order, fired](std::exception_ptr) mutable {
      order->push_back(2);
      fired.set_value();
    });
    loop->after(1ms, [order](std::exception_ptr) { order->push_back(1); });
    const auto never = loop->after(5ms, [order](std::exception_ptr) { order->push_back(99); });
    loop->cancel_timer(never);
  });
  all_fired.get();
  CHECK(*order == std::vector<int>{1, 2});

  inf::promise<void> cancelled;
  auto timer_cancelled = cancelled.get_future();
  inf::promise<void> armed;
  auto timer_armed = armed.get_future();
  loop->post([loop, cancelled, armed]() mutable {
    loop->after(std::chrono::hours(1), [cancelled](std::exception_ptr error) mutable {
      if (error) cancelled.set_exception(error);
    });
    armed.set_value();
  });
  timer_armed.get();
  loop->shutdown();
  CHECK_THROWS_AS(timer_cancelled.get(), inf::CancelledError);
}

TEST_CASE(
    "an async loop with max_requests keeps that many requests on the network and sends the "
    "rest as they are answered",
    "[async]") {
  auto gate = std::make_shared<Gate>();
  ScriptedServer server([gate](const inf::testing::RecordedRequest& request) {
    gate->pass();
    return Reply::json(200, {{"path", request.path}});
  });
  auto loop = AsyncLoop::create({}, true, /*max_requests=*/2);
  std::vector<inf::future<inf::HttpResponse>> results;
  for (int i = 0; i < 6; ++i) {
    results.push_back(send(loop, get(server.base_url() + "/r/" + std::to_string(i))));
  }
  wait_for_posted(loop);
  REQUIRE(gate->wait_for_inside(2, 10s));
  // The server holds the first two: the other four wait in the loop, without a connection.
  CHECK(loop->stats().transfers == 6);
  CHECK(loop->stats().waiting_transfers == 4);
  gate->open();
  for (int i = 0; i < 6; ++i) {
    const auto response = results[static_cast<std::size_t>(i)].get();
    CHECK(nlohmann::json::parse(response.body)["path"] == "/r/" + std::to_string(i));
  }
  CHECK(gate->most_inside() == 2);
  CHECK(server.request_count() == 6);
  CHECK(loop->stats().waiting_transfers == 0);
}

TEST_CASE(
    "an open stream holds none of max_requests, and a waiting stream goes out before waiting "
    "requests",
    "[async]") {
  auto gate = std::make_shared<Gate>();
  ScriptedServer server([gate](const inf::testing::RecordedRequest& request) {
    if (request.path == "/held") gate->pass();
    if (request.path == "/stream") return Reply::status(200).chunked().send("open").stall();
    return Reply::json(200, {{"path", request.path}});
  });
  auto loop = AsyncLoop::create({}, true, /*max_requests=*/1);
  auto held = send(loop, get(server.base_url() + "/held"));
  wait_for_posted(loop);
  REQUIRE(gate->wait_for_inside(1, 10s));
  // While /held takes the only slot: two requests, then a stream, wait.
  auto first = send(loop, get(server.base_url() + "/r/1"));
  auto second = send(loop, get(server.base_url() + "/r/2"));
  auto log = std::make_shared<StreamLog>();
  loop->post([loop, log, url = server.base_url()] {
    loop->open(get(url + "/stream"), {}, logging_handler(log));
  });
  wait_for_posted(loop);
  CHECK(loop->stats().waiting_transfers == 3);
  gate->open();
  // The stream goes next; once its head is in it holds no slot, so both requests go out and
  // are answered while it stays open (a stream of an hour-long task must not block a cancel).
  CHECK(held.get().status == 200);
  REQUIRE(first.wait_for(30s) == std::future_status::ready);
  REQUIRE(second.wait_for(30s) == std::future_status::ready);
  CHECK(first.get().status == 200);
  CHECK(second.get().status == 200);
  std::vector<std::string> paths;
  for (const auto& request : server.requests()) paths.push_back(request.path);
  CHECK(paths == std::vector<std::string>{"/held", "/stream", "/r/1", "/r/2"});
  CHECK(loop->stats().transfers == 1);  // the stream, still open
  loop->shutdown();
  CHECK_THROWS_AS(log->ended.get_future().get(), inf::CancelledError);
}

TEST_CASE(
    "a request waiting for one of max_requests fails at its deadline, and a cancelled one is "
    "never sent",
    "[async]") {
  auto gate = std::make_shared<Gate>();
  ScriptedServer server([gate](const inf::testing::RecordedRequest& request) {
    if (request.path == "/held") gate->pass();
    return Reply::json(200, {{"path", request.path}});
  });
  auto loop = AsyncLoop::create({}, true, /*max_requests=*/1);
  auto held = send(loop, get(server.base_url() + "/held"));
  wait_for_posted(loop);
  REQUIRE(gate->wait_for_inside(1, 10s));
  auto late = get(server.base_url() + "/late");
  late.deadline = std::chrono::steady_clock::now() + 20ms;
  auto expired = send(loop, late);
  inf::CancellationToken cancel;
  auto cancelled = send(loop, get(server.base_url() + "/cancelled"), cancel);
  auto after = send(loop, get(server.base_url() + "/after"));
  wait_for_posted(loop);
  cancel.cancel();
  CHECK_THROWS_AS(expired.get(), inf::TimeoutError);
  CHECK_THROWS_AS(cancelled.get(), inf::CancelledError);
  CHECK(loop->stats().waiting_transfers == 1);  // /after
  gate->open();
  CHECK(held.get().status == 200);
  CHECK(after.get().status == 200);
  std::vector<std::string> paths;
  for (const auto& request : server.requests()) paths.push_back(request.path);
  CHECK(paths == std::vector<std::string>{"/held", "/after"});
}
