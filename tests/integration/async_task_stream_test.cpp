// The async client's task streams against the scripted server: updates through next() and the
// callbacks in order, a coroutine consumer, back-pressure (a slow consumer pauses the transfer),
// reconnects, close(), a throwing callback, the token, and the client's shutdown.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/async_client.hpp"
#include "inferencesh/errors.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inf::testing::ndjson_reply;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
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

std::string status_of(const inf::Task& t) { return std::to_string(static_cast<int>(t.status)); }

/// Waits until `condition` holds, up to `limit`; false when it never did. For states the loop
/// reaches on its own thread (a transfer paused), not for timing.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = 20s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE(
    "an async stream of a run hands out each update through next() after its callbacks, "
    "then nullopt after the final status",
    "[async][stream]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, task("t1", 1)));
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task("t1", 7),
                          {{"data", {{"output", {{"text", "par"}}}}}, {"fields", {"output"}}},
                          task("t1", 10, {{"output", {{"text", "done"}}}})}));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto log = std::make_shared<EventLog>();
  inf::WaitOptions options;
  options.on_update = [log](const inf::Task& t) { log->add("callback " + status_of(t)); };
  options.on_partial_update = [log](const inf::Task&, const std::vector<std::string>& fields) {
    log->add("partial " + fields.at(0));
  };
  auto updates = client.tasks.run({{"app", "infsh/echo"}}, inf::stream, options);
  while (auto update = updates.next().get()) log->add("next " + status_of(*update));
  CHECK(log->snapshot() == std::vector<std::string>{"callback 7", "next 7", "callback 7",
                                                    "partial output", "next 7", "callback 10",
                                                    "next 10"});
  CHECK(updates.finished());
  CHECK(updates.result().output == json{{"text", "done"}});
  CHECK(updates.current().id == "t1");
  CHECK_FALSE(updates.next().get());  // over: nullopt again
}

TEST_CASE("a failed task ends an async stream's next() with TaskFailedError, then nullopt",
          "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task("t1", 7), task("t1", 11, {{"error", "out of gpu"}})}));
  router.on("GET", "/tasks/t2/stream", ndjson_reply({task("t2", 12)}));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));

  auto failing = client.tasks.stream("t1");
  CHECK(failing.next().get()->status == inf::TaskStatus::running);
  try {
    failing.next().get();
    FAIL("no exception");
  } catch (const inf::TaskFailedError& e) {
    CHECK(e.task().error == "out of gpu");
  }
  CHECK_FALSE(failing.next().get());
  CHECK(failing.finished());
  CHECK_THROWS_AS(failing.result(), inf::TaskFailedError);

  auto cancelled = client.tasks.stream("t2");
  CHECK_THROWS_AS(cancelled.next().get(), inf::CancelledError);
  CHECK_THROWS_AS(cancelled.result(), inf::CancelledError);
}

TEST_CASE("an async stream whose task cannot be created fails its first next() with the error",
          "[async][stream]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(404, {{"detail", "no such app"}}));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto updates = client.tasks.run({{"app", "a/b"}}, inf::stream);
  CHECK_THROWS_AS(updates.next().get(), inf::NotFoundError);
  CHECK_FALSE(updates.next().get());
  CHECK_THROWS_AS(updates.result(), inf::StreamError);
}

TEST_CASE("an async stream takes one next() at a time", "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}).stall());
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto updates = client.tasks.stream("t1");
  CHECK(updates.next().get()->status == inf::TaskStatus::running);
  auto pending = updates.next();  // the server stalls: stays pending
  CHECK_THROWS_AS(updates.next().get(), inf::StreamError);
  updates.close();
  CHECK_FALSE(pending.get());
}

#ifdef INFERENCESH_HAS_COROUTINES

namespace {

// Reads every update of a stream in a coroutine: the statuses and the final output.
inf::future<std::string> read_in_a_coroutine(inf::AsyncClient client, std::string task_id) {
  auto updates = client.tasks.stream(task_id);
  std::string seen;
  while (auto update = co_await updates.next()) seen += status_of(*update) + " ";
  co_return seen + updates.result().output.dump();
}

}  // namespace

TEST_CASE("a coroutine reads an async stream with co_await next() until nullopt",
          "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task("t1", 3), task("t1", 7), task("t1", 10, {{"output", 42}})}));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  CHECK(read_in_a_coroutine(client, "t1").get() == "3 7 10 42");
}

#endif

TEST_CASE(
    "a slow consumer of an async stream pauses its transfer: the loop reads a bounded part "
    "of what the server sends until next() asks for more",
    "[async][stream]") {
  // 200,000 updates (about 8 MiB), more than the socket buffers of both ends hold.
  const std::string pair =
      task("t1", 7, {{"output", 0}}).dump() + "\n" + task("t1", 7, {{"output", 1}}).dump() + "\n";
  constexpr std::size_t kPairs = 100000;
  const std::size_t sent = pair.size() * kPairs;
  Router router;
  router.on("GET", "/tasks/t1/stream",
            Reply::status(200)
                .header("Content-Type", "application/x-ndjson")
                .chunked()
                .send_repeated(pair, kPairs)
                .send(task("t1", 10).dump() + "\n"));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto updates = client.tasks.stream("t1");
  REQUIRE(updates.next().get()->output == 0);

  // Nobody asks for more: a few decoded events wait, then the transfer pauses.
  REQUIRE(eventually([&] { return client.stats().paused_transfers == 1; }));
  const auto read_while_paused = client.stats().body_bytes_received;
  CHECK(read_while_paused < 64 * 1024);
  CHECK(client.stats().body_bytes_received == read_while_paused);  // paused: nothing more read

  // Asking resumes it; each update still comes in order.
  int expected = 1;
  bool in_order = true;
  for (int i = 0; i < 4000; ++i) {
    auto update = updates.next().get();
    REQUIRE(update);
    in_order = in_order && update->output == expected;
    expected = 1 - expected;
  }
  CHECK(in_order);
  CHECK(client.stats().body_bytes_received > read_while_paused);
  REQUIRE(eventually([&] { return client.stats().paused_transfers == 1; }));
  CHECK(client.stats().body_bytes_received < sent / 4);

  updates.close();
  CHECK(server.wait_for_closed_connections(1, 20s));
  CHECK(eventually([&] { return client.stats().transfers == 0; }));
}

TEST_CASE(
    "an async stream reconnects when its connection breaks mid-stream and hands out the "
    "updates of both connections in order",
    "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7, {{"output", 1}})}).drop())
      .on("GET", "/tasks/t1/stream", Reply::status(503))
      .on("GET", "/tasks/t1/stream",
          ndjson_reply({task("t1", 7, {{"output", 1}}), task("t1", 7, {{"output", 2}}),
                        task("t1", 10, {{"output", 3}})}));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto updates = client.tasks.stream("t1");
  std::vector<int> outputs;
  while (auto update = updates.next().get()) outputs.push_back(update->output.get<int>());
  // The state the second connection repeats changes nothing and is not handed out again.
  CHECK(outputs == std::vector<int>{1, 2, 3});
  CHECK(server.request_count() == 3);
}

TEST_CASE("an async stream in poll mode hands out each changed state through next()",
          "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 7}}))
      .on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 10}}));
  router.on("GET", "/tasks/t1", Reply::json(200, task("t1", 7)))
      .on("GET", "/tasks/t1", Reply::json(200, task("t1", 10, {{"output", 5}})));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto updates = client.tasks.stream("t1", {.mode = inf::WaitMode::poll});
  std::vector<std::string> statuses;
  while (auto update = updates.next().get()) statuses.push_back(status_of(*update));
  CHECK(statuses == std::vector<std::string>{"7", "10"});
  CHECK(updates.result().output == 5);
}

TEST_CASE(
    "closing an async stream mid-task closes its connection and answers a pending next() "
    "with nullopt",
    "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}).stall());
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto updates = client.tasks.stream("t1");
  CHECK(updates.next().get()->status == inf::TaskStatus::running);
  auto pending = updates.next();
  updates.close();
  CHECK_FALSE(pending.get());
  CHECK(updates.finished());
  CHECK(server.wait_for_closed_connections(1, 20s));
  CHECK_FALSE(updates.next().get());
}

TEST_CASE("destroying an async stream mid-task closes its connection", "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}).stall());
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  {
    auto updates = client.tasks.stream("t1");
    CHECK(updates.next().get()->status == inf::TaskStatus::running);
  }
  CHECK(server.wait_for_closed_connections(1, 20s));
  CHECK(eventually([&] { return client.stats().transfers == 0; }));
}

TEST_CASE("a callback that throws ends an async stream with its exception", "[async][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task("t1", 7), task("t1", 9)}).send(task("t1", 10).dump() + "\n"));
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  inf::WaitOptions options;
  options.on_update = [](const inf::Task& t) {
    if (t.status == inf::TaskStatus::uploading) throw std::runtime_error("the callback gave up");
  };
  auto updates = client.tasks.stream("t1", options);
  CHECK(updates.next().get()->status == inf::TaskStatus::running);
  try {
    updates.next().get();
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "the callback gave up");
  }
  CHECK_FALSE(updates.next().get());
  CHECK(updates.finished());
}

TEST_CASE("an async stream's token ends a pending next() with CancelledError",
          "[async][stream][cancel]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}).stall());
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  inf::CancellationToken cancel;
  auto updates = client.tasks.stream("t1", {.cancel = cancel});
  CHECK(updates.next().get()->status == inf::TaskStatus::running);
  auto pending = updates.next();
  cancel.cancel();
  CHECK_THROWS_AS(pending.get(), inf::CancelledError);
  CHECK(server.wait_for_closed_connections(1, 20s));
}

TEST_CASE("shutting down the async client ends a pending next() with CancelledError",
          "[async][stream][shutdown]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task("t1", 7)}).stall());
  ScriptedServer server(router.handler());
  auto client = inf::async_inference(inf::testing::test_options(server));
  auto updates = client.tasks.stream("t1");
  CHECK(updates.next().get()->status == inf::TaskStatus::running);
  auto pending = updates.next();
  client.shutdown();
  REQUIRE(pending.ready());
  CHECK_THROWS_AS(pending.get(), inf::CancelledError);
  CHECK_FALSE(updates.next().get());  // the failure was handed out; the stream is over
}
