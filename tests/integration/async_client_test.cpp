// The async client against the scripted server: the order of callbacks and continuations,
// exceptions (the task's, the server's, the callbacks' own), the blocking client's rules
// (stream reconnects, polling, Retry-After), cancellation at every stage, and shutdown with
// calls in flight.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/async_client.hpp"
#include "inferencesh/errors.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"
#include "support/silent_listener.hpp"

namespace inf = inferencesh;
using inf::testing::ndjson_reply;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using inf::testing::SilentListener;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json task(const std::string& id, int status, json extra = json::object()) {
  json t = {{"id", id}, {"status", status}};
  t.update(extra);
  return t;
}

/// Thread-safe list of what happened, in order.
struct EventLog {
  std::mutex mutex;
  std::vector<std::string> events;
  void add(std::string event) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return events;
  }
};

inf::AsyncClient async_client(const ScriptedServer& server) {
  return inf::async_inference(inf::testing::test_options(server));
}

}  // namespace

TEST_CASE(
    "an async run hands each update to the callbacks in order, then completes its "
    "future and runs its continuations",
    "[async]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, task("t1", 1)));
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task("t1", 7),
                          {{"data", {{"output", {{"text", "par"}}}}}, {"fields", {"output"}}},
                          task("t1", 10, {{"output", {{"text", "done"}}}})}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto log = std::make_shared<EventLog>();
  inf::RunOptions options;
  options.on_update = [log](const inf::Task& t) {
    log->add("update " + std::to_string(static_cast<int>(t.status)));
  };
  options.on_partial_update = [log](const inf::Task&, const std::vector<std::string>& fields) {
    log->add("partial " + fields.at(0));
  };
  auto text = client.tasks.run({{"app", "infsh/echo"}}, options)
                  .then([log](inf::Task done) {
                    log->add("then " + done.output.value("text", ""));
                    return done.output.value("text", "");
                  })
                  .then([log](const std::string& value) {
                    log->add("second then");
                    return value.size();
                  });
  CHECK(text.get() == 4);
  CHECK(log->snapshot() == std::vector<std::string>{"update 7", "update 7", "partial output",
                                                    "update 10", "then done", "second then"});
}

TEST_CASE("an async run of a failing task raises TaskFailedError with the server's message",
          "[async]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, task("t1", 1)));
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 11, {{"error", "out of gpu"}})}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  bool continued = false;
  auto after = client.tasks.run({{"app", "a/b"}}).then([&](inf::Task) { continued = true; });
  try {
    after.get();
    FAIL("no exception");
  } catch (const inf::TaskFailedError& e) {
    CHECK(e.task().error == "out of gpu");
  }
  CHECK_FALSE(continued);
}

TEST_CASE("an async wait reopens a stream that ends early, as the blocking client does",
          "[async]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}))
      .on("GET", "/tasks/t1/stream", Reply::status(503))
      .on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7), task("t1", 10)}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  const inf::Task done = client.tasks.wait_for_completion("t1").get();
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK(server.request_count() == 3);
}

TEST_CASE("an async wait gives up after max_reconnects fruitless connections", "[async]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  CHECK_THROWS_AS(client.tasks.wait_for_completion("t1", {.max_reconnects = 2}).get(),
                  inf::StreamError);
  CHECK(server.request_count() == 3);
}

TEST_CASE("an async stream refused with 404 fails at once with NotFoundError", "[async]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", Reply::json(404, {{"detail", "no such task"}}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  try {
    client.tasks.wait_for_completion("t1").get();
    FAIL("no exception");
  } catch (const inf::NotFoundError& e) {
    CHECK(e.detail() == "no such task");
  }
  CHECK(server.request_count() == 1);
}

TEST_CASE("an async wait polls the status when asked, and fetches the task when it changes",
          "[async]") {
  Router router;
  router.on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 7}}))
      .on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 7}}))
      .on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 10}}));
  router.on("GET", "/tasks/t1", Reply::json(200, task("t1", 7)))
      .on("GET", "/tasks/t1", Reply::json(200, task("t1", 10, {{"output", 5}})));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  auto statuses = std::make_shared<EventLog>();
  inf::WaitOptions options;
  options.mode = inf::WaitMode::poll;
  options.on_update = [statuses](const inf::Task& t) {
    statuses->add(std::to_string(static_cast<int>(t.status)));
  };
  const inf::Task done = client.tasks.wait_for_completion("t1", options).get();
  CHECK(done.output == 5);
  CHECK(statuses->snapshot() == std::vector<std::string>{"7", "10"});
  int fetches = 0;
  for (const auto& r : server.requests()) fetches += r.path == "/tasks/t1" ? 1 : 0;
  CHECK(fetches == 2);
}

TEST_CASE("async get retries a 503 and raises a Retry-After beyond the cap at once", "[async]") {
  Router router;
  router.on("GET", "/tasks/t1", Reply::status(503))
      .on("GET", "/tasks/t1", Reply::json(200, task("t1", 10)));
  router.on("GET", "/tasks/t2", Reply::status(429).header("Retry-After", "3600"));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  CHECK(client.tasks.get("t1").get().status == inf::TaskStatus::completed);
  try {
    client.tasks.get("t2").get();
    FAIL("no exception");
  } catch (const inf::RateLimitError& e) {
    REQUIRE(e.retry_after());
    CHECK(e.retry_after()->count() == 3600);
  }
  CHECK(server.request_count() == 3);
}

TEST_CASE("async cancel and get reach the API, and a create is not retried without a key",
          "[async]") {
  Router router;
  router.on("POST", "/tasks/t1/cancel", Reply::json(200, json::object()));
  router.on("POST", "/apps/run", Reply::status(503));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  client.tasks.cancel("t1").get();
  CHECK_THROWS_AS(client.tasks.run({{"app", "a/b"}}).get(), inf::ServerError);
  CHECK(server.request_count() == 2);
}

TEST_CASE("a callback that throws ends the async wait with its exception", "[async]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, task("t1", 1)));
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task("t1", 7)}).delay(10ms).send(task("t1", 10).dump() + "\n"));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  inf::RunOptions options;
  options.on_update = [](const inf::Task&) { throw std::runtime_error("the callback gave up"); };
  try {
    client.tasks.run({{"app", "a/b"}}, options).get();
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "the callback gave up");
  }
}

TEST_CASE("async calls are refused before any request when arguments are wrong", "[async]") {
  ScriptedServer server;
  auto client = async_client(server);
  CHECK_THROWS_AS(client.tasks.run({{"input", json::object()}}).get(), inf::InvalidArgumentError);
  CHECK_THROWS_AS(client.tasks.get("").get(), inf::InvalidArgumentError);
  CHECK(server.request_count() == 0);
}

// --- cancellation at each stage ---------------------------------------------------------------

TEST_CASE("an async run cancelled before it starts sends nothing", "[async][cancel]") {
  ScriptedServer server([](const auto&) { return Reply::json(200, task("t1", 10)); });
  auto client = async_client(server);
  inf::CancellationToken cancel;
  cancel.cancel();
  CHECK_THROWS_AS(client.tasks.run({{"app", "a/b"}}, {.cancel = cancel}).get(),
                  inf::CancelledError);
  CHECK(server.request_count() == 0);
}

TEST_CASE("an async run cancelled while the task is being created fails with CancelledError",
          "[async][cancel]") {
  ScriptedServer server([](const auto&) { return Reply::status(200).stall(); });
  auto client = async_client(server);
  inf::CancellationToken cancel;
  auto result = client.tasks.run({{"app", "a/b"}}, {.cancel = cancel});
  REQUIRE(server.wait_for_requests(1, 10s));
  cancel.cancel();
  CHECK_THROWS_AS(result.get(), inf::CancelledError);
  CHECK(server.wait_for_closed_connections(1, 10s));
}

TEST_CASE("an async run cancelled while it follows the stream fails with CancelledError",
          "[async][cancel]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, task("t1", 1)));
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}).stall());
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  inf::CancellationToken cancel;
  inf::promise<void> running;
  auto seen_running = running.get_future();
  inf::RunOptions options;
  options.cancel = cancel;
  options.on_update = [running](const inf::Task& t) mutable {
    if (t.status == inf::TaskStatus::running && !running.is_set()) running.set_value();
  };
  auto result = client.tasks.run({{"app", "a/b"}}, options);
  seen_running.get();
  cancel.cancel();
  CHECK_THROWS_AS(result.get(), inf::CancelledError);
  CHECK(server.wait_for_closed_connections(1, 10s));
}

TEST_CASE("an async wait cancelled during its reconnect backoff fails with CancelledError",
          "[async][cancel]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}));
  ScriptedServer server(router.handler());
  auto options = inf::testing::test_options(server);
  options.wait.reconnect_backoff = std::chrono::hours(1);
  options.wait.max_reconnect_backoff = std::chrono::hours(1);
  // The log line of the reconnect says the wait is in its hour-long backoff.
  inf::promise<void> backing_off;
  auto in_backoff = backing_off.get_future();
  options.log = [backing_off](inf::LogLevel, std::string_view line) mutable {
    if (line.find("reconnecting in") != std::string_view::npos && !backing_off.is_set()) {
      backing_off.set_value();
    }
  };
  auto client = inf::async_inference(options);
  inf::CancellationToken cancel;
  auto result = client.tasks.wait_for_completion("t1", {.cancel = cancel});
  in_backoff.get();
  cancel.cancel();
  CHECK_THROWS_AS(result.get(), inf::CancelledError);
  CHECK(server.request_count() == 1);
}

TEST_CASE("an async poll cancelled between polls fails with CancelledError", "[async][cancel]") {
  Router router;
  router.on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 7}}));
  router.on("GET", "/tasks/t1", Reply::json(200, task("t1", 7)));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  inf::CancellationToken cancel;
  auto result = client.tasks.wait_for_completion(
      "t1",
      {.mode = inf::WaitMode::poll, .poll_interval = std::chrono::hours(1), .cancel = cancel});
  REQUIRE(server.wait_for_requests(2, 10s));  // the first poll and its fetch
  cancel.cancel();
  CHECK_THROWS_AS(result.get(), inf::CancelledError);
}

TEST_CASE("an async wait past its deadline fails with TimeoutError naming it", "[async]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}).stall());
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  try {
    client.tasks.wait_for_completion("t1", {.deadline = 50ms}).get();
    FAIL("no exception");
  } catch (const inf::TimeoutError& e) {
    CHECK(std::string(e.what()).find("deadline") != std::string::npos);
  }
}

// --- shutdown ---------------------------------------------------------------------------------

TEST_CASE(
    "shutting down the async client with 1000 runs in flight fails each with "
    "CancelledError",
    "[async][shutdown]") {
  SilentListener listener;
  inf::ClientOptions options;
  options.api_key = "k";
  options.base_url = listener.url();
  auto client = inf::async_inference(options);
  std::vector<inf::future<inf::Task>> runs;
  runs.reserve(1000);
  for (int i = 0; i < 1000; ++i) runs.push_back(client.tasks.run({{"app", "a/b"}}));
  client.shutdown();
  int cancelled = 0;
  for (auto& run : runs) {
    REQUIRE(run.ready());
    try {
      run.get();
    } catch (const inf::CancelledError&) {
      ++cancelled;
    }
  }
  CHECK(cancelled == 1000);
  CHECK_THROWS_AS(client.tasks.get("t1").get(), inf::CancelledError);
}

TEST_CASE("destroying the last copy of an async client fails its calls with CancelledError",
          "[async][shutdown]") {
  SilentListener listener;
  inf::ClientOptions options;
  options.api_key = "k";
  options.base_url = listener.url();
  std::vector<inf::future<inf::Task>> calls;
  {
    auto client = inf::async_inference(options);
    auto copy = client;
    for (int i = 0; i < 50; ++i) calls.push_back(copy.tasks.get("t" + std::to_string(i)));
  }
  for (auto& call : calls) CHECK_THROWS_AS(call.get(), inf::CancelledError);
}

TEST_CASE("an async client dropped inside its own continuation shuts down without a hang",
          "[async][shutdown]") {
  Router router;
  router.on("GET", "/tasks/t1", Reply::json(200, task("t1", 10)));
  ScriptedServer server(router.handler());
  auto client = std::make_shared<inf::AsyncClient>(inf::testing::test_options(server));
  auto held = std::make_shared<std::shared_ptr<inf::AsyncClient>>(client);
  client.reset();
  auto done = (*held)->tasks.get("t1").then([held](inf::Task t) {
    held->reset();  // the last reference goes away on the loop thread
    return t.id;
  });
  CHECK(done.get() == "t1");
}

#ifdef INFERENCESH_HAS_COROUTINES

namespace {

// Braced JSON is built outside the co_await expressions: GCC 12 cannot compile an
// initializer list inside one ("array used as initializer").
inf::future<std::string> two_runs_in_a_coroutine(inf::AsyncClient client) {
  const inf::Task first = co_await client.tasks.get("t1");
  const json params = {{"app", "a/b"}, {"input", first.output}};
  const inf::Task second = co_await client.tasks.run(params);
  co_return first.id + "," + second.id + ":" + second.output.dump();
}

}  // namespace

TEST_CASE("a coroutine co_awaits async calls in sequence", "[async]") {
  Router router;
  router.on("GET", "/tasks/t1", Reply::json(200, task("t1", 10, {{"output", {{"n", 1}}}})));
  router.on("POST", "/apps/run", Reply::json(200, task("t2", 1)));
  router.on("GET", "/tasks/t2/stream", ndjson_reply({task("t2", 10, {{"output", {{"n", 2}}}})}));
  ScriptedServer server(router.handler());
  auto client = async_client(server);
  CHECK(two_runs_in_a_coroutine(client).get() == "t1,t2:{\"n\":2}");
  // The second call was made with what the first one returned.
  const auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[1].json()["input"] == json{{"n", 1}});
}

#endif
