// The client against servers that misbehave on purpose or by accident (a compromised endpoint,
// a man in the middle on plain HTTP, a broken proxy): deeply nested JSON, bodies and headers
// without end, streams that never stop, lines that are not JSON.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/inferencesh.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"
#include "support/temp_dir.hpp"

namespace inf = inferencesh;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json task(int status, json extra = json::object()) {
  json t = {{"id", "t1"}, {"status", status}};
  for (auto& [key, value] : extra.items()) t[key] = value;
  return t;
}

std::string line(const json& value) { return value.dump() + "\n"; }

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

Reply ndjson_head() {
  return Reply::status(200).header("Content-Type", "application/x-ndjson").chunked();
}

std::size_t count_requests(const ScriptedServer& server, const std::string& method,
                           const std::string& path) {
  std::size_t n = 0;
  for (const auto& r : server.requests()) {
    if (r.method == method && r.path == path) ++n;
  }
  return n;
}

/// Log lines of a client, kept for inspection; thread-safe.
struct LogRecorder {
  std::mutex mutex;
  std::vector<std::string> warnings;

  inf::LogHook hook() {
    return [this](inf::LogLevel level, std::string_view message) {
      if (level < inf::LogLevel::warning) return;
      std::lock_guard<std::mutex> lock(mutex);
      warnings.emplace_back(message);
    };
  }
  bool any_contains(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& warning : warnings) {
      if (warning.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Nesting depth

TEST_CASE("an error body nested too deeply is an ApiError whose detail is the raw text",
          "[hostile][depth]") {
  const std::string body = nested_arrays(100000);
  ScriptedServer server([&](const auto&) {
    return Reply::status(400).header("Content-Type", "application/json").body(body);
  });
  auto client = inf::inference(inf::testing::test_options(server));
  try {
    client.tasks.get("t1");
    FAIL("expected BadRequestError");
  } catch (const inf::BadRequestError& e) {
    CHECK(e.status() == 400);
    CHECK(e.detail() == body.substr(0, 500));
    CHECK(e.body() == body);
  }
}

TEST_CASE("a task nested too deeply is refused with a DecodeError", "[hostile][depth]") {
  const std::string body =
      "{\"id\":\"t1\",\"status\":10,\"output\":" + nested_arrays(1000000) + "}";
  ScriptedServer server([&](const auto&) {
    return Reply::status(200).header("Content-Type", "application/json").body(body);
  });
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(client.tasks.get("t1"),
                    Catch::Contains("nested deeper than 256") && Catch::Contains("GET"));
}

TEST_CASE("a stream line nested too deeply is skipped and the wait goes on", "[hostile][depth]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_head()
                .send(line(task(7)))
                .send("{\"id\":\"t1\",\"status\":10,\"output\":" + nested_arrays(1000000) + "}\n")
                .send(line(task(10, {{"output", "fine"}}))));
  ScriptedServer server(router.handler());
  LogRecorder log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  const auto done = inf::inference(options).tasks.wait_for_completion("t1");
  CHECK(done.output == "fine");
  CHECK(log.any_contains("nested deeper than 256"));
}

// ---------------------------------------------------------------------------------------------
// Unary response size

TEST_CASE("a chunked unary response past the size limit is refused, naming the option",
          "[hostile][size]") {
  // 70 MiB of valid JSON, over the 64 MiB default: without a limit it would be accepted whole.
  ScriptedServer server([](const auto&) {
    return Reply::status(200)
        .header("Content-Type", "application/json")
        .chunked()
        .send("{\"id\":\"t1\",\"status\":10,\"output\":\"")
        .send_repeated(std::string(1 << 20, 'x'), 70)
        .send("\"}");
  });
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(client.tasks.get("t1"),
                    Catch::Contains("max_response_bytes") && Catch::Contains("67108864 bytes"));
}

TEST_CASE("a Content-Length past the size limit is refused before the body is read",
          "[hostile][size]") {
  // The body stops short of what is declared: reading it would end in a broken transfer, so a
  // size error shows that the declared length alone decided.
  ScriptedServer server([](const auto&) {
    return Reply::status(200)
        .header("Content-Type", "application/json")
        .header("Content-Length", "100000000000")
        .send("{\"id\":\"t1\",")
        .drop();
  });
  auto client = inf::inference(inf::testing::test_options(server));
  try {
    client.tasks.get("t1");
    FAIL("expected DecodeError");
  } catch (const inf::DecodeError& e) {
    CHECK_THAT(e.what(), Catch::Contains("max_response_bytes") &&
                             Catch::Contains("Content-Length 100000000000"));
  }
}

// ---------------------------------------------------------------------------------------------
// Cancel while bytes keep coming

TEST_CASE("a cancel is honoured while the stream keeps delivering bytes", "[hostile][cancel]") {
  // About 256 MiB of heartbeats after the first update, then the final status: a follower that
  // does not look at its token between chunks reads to the end and returns the completed task.
  std::string heartbeats;
  while (heartbeats.size() < (64 << 10)) {
    heartbeats += line({{"type", "heartbeat"}, {"pad", std::string(1000, 'p')}});
  }
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_head().send(line(task(7))).send_repeated(heartbeats, 4096).send(line(task(10))));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));

  inf::CancellationToken cancel;
  std::mutex mutex;
  std::condition_variable changed;
  bool first_update = false;
  bool cancelled = false;
  std::thread canceller([&] {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return first_update; });
    cancel.cancel();
    cancelled = true;
    changed.notify_all();
  });
  // The first update holds the follower until the other thread has cancelled, so the cancel
  // lands while the rest of the stream is still coming.
  const auto on_update = [&](const inf::Task&) {
    std::unique_lock<std::mutex> lock(mutex);
    first_update = true;
    changed.notify_all();
    changed.wait(lock, [&] { return cancelled; });
  };
  CHECK_THROWS_AS(
      client.tasks.wait_for_completion("t1", {.on_update = on_update, .cancel = cancel}),
      inf::CancelledError);
  canceller.join();
}

// ---------------------------------------------------------------------------------------------
// Stream lines that are not JSON

TEST_CASE("a stream line that is not JSON is skipped, logged, and the wait goes on",
          "[hostile][lines]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_head()
                .send(line(task(7)))
                .send("{\"id\":\"t1\",\"status\":7,\"output\":\"cut off\n")
                .send(line(task(10, {{"output", "done"}}))));
  ScriptedServer server(router.handler());
  LogRecorder log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  const auto done = inf::inference(options).tasks.wait_for_completion("t1");
  CHECK(done.output == "done");
  CHECK(log.any_contains("not valid JSON"));
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 1);
}

TEST_CASE("a flood of bad lines is logged ten times per connection, not once per line",
          "[hostile][lines]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_head()
                .send(line(task(7)))
                .send_repeated("garbage\n", 1000)
                .send(line(task(10, {{"output", "done"}}))));
  ScriptedServer server(router.handler());
  LogRecorder log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  CHECK(inf::inference(options).tasks.wait_for_completion("t1").output == "done");
  std::lock_guard<std::mutex> lock(log.mutex);
  CHECK(log.warnings.size() == 10);
  CHECK_THAT(log.warnings.back(), Catch::Contains("further ones on this connection not logged"));
}

TEST_CASE("an SSE event whose data is not JSON is skipped like an NDJSON line",
          "[hostile][lines]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            Reply::status(200)
                .header("Content-Type", "text/event-stream")
                .chunked()
                .send("data: " + task(7).dump() + "\n\n")
                .send("data: [1,2\n\n")
                .send("data: " + task(10, {{"output", "sse"}}).dump() + "\n\n"));
  ScriptedServer server(router.handler());
  LogRecorder log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  CHECK(inf::inference(options).tasks.wait_for_completion("t1").output == "sse");
  CHECK(log.any_contains("not valid JSON"));
}

TEST_CASE("a garbled final line is confirmed with a GET once the stream ends", "[hostile][lines]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            ndjson_head()
                .send(line(task(7)))
                .send("{\"id\":\"t1\",\"status\":10,\"output\":\"do\xFF\xFEne\"}\n"));
  router.on("GET", "/tasks/t1", Reply::json(200, task(10, {{"output", "done"}})));
  ScriptedServer server(router.handler());
  LogRecorder log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  const auto done = inf::inference(options).tasks.wait_for_completion("t1");
  CHECK(done.output == "done");
  CHECK(log.any_contains("not valid UTF-8"));
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 1);
  CHECK(count_requests(server, "GET", "/tasks/t1") == 1);
}

TEST_CASE("after a skipped line and an early end, a GET that is not final leads to a reconnect",
          "[hostile][lines]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_head().send(line(task(7))).send("{oops\n"))
      .on("GET", "/tasks/t1/stream", ndjson_head().send(line(task(10, {{"output", "later"}}))));
  router.on("GET", "/tasks/t1", Reply::json(200, task(7)));
  ScriptedServer server(router.handler());
  const auto done =
      inf::inference(inf::testing::test_options(server)).tasks.wait_for_completion("t1");
  CHECK(done.output == "later");
  CHECK(count_requests(server, "GET", "/tasks/t1") == 1);
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 2);
}

// ---------------------------------------------------------------------------------------------
// Oversized headers

TEST_CASE("an oversized response header is reported as such, not as out of memory",
          "[hostile][headers]") {
  ScriptedServer server([](const auto&) {
    return Reply::json(200, task(10)).header("X-Padding", std::string(200 << 10, 'p'));
  });
  auto client = inf::inference(inf::testing::test_options(server));
  try {
    client.tasks.get("t1");
    FAIL("expected an error");
  } catch (const inf::Error& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("header") && Catch::Contains("too large"));
    CHECK_THAT(message, !Catch::Contains("memory"));
  }
}

TEST_CASE("response headers too large in all are refused, naming the limit", "[hostile][headers]") {
  ScriptedServer server([](const auto&) {
    auto reply = Reply::json(200, task(10));
    for (int i = 0; i < 400; ++i)
      reply.header("X-Padding-" + std::to_string(i), std::string(1000, 'p'));
    return reply;
  });
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(client.tasks.get("t1"), Catch::Contains("response headers are too large") &&
                                                Catch::Contains("256 KiB"));
}

// ---------------------------------------------------------------------------------------------
// The size limit is an option, and only for bodies held in memory

TEST_CASE("max_response_bytes can be lowered, and 0 lifts the limit", "[hostile][size]") {
  const json big = task(10, {{"output", std::string(2000, 'o')}});
  ScriptedServer server([&](const auto&) { return Reply::json(200, big); });
  auto options = inf::testing::test_options(server);
  options.max_response_bytes = 1024;
  CHECK_THROWS_WITH(inf::inference(options).tasks.get("t1"),
                    Catch::Contains("max_response_bytes") && Catch::Contains("1024 bytes"));
  options.max_response_bytes = 0;
  CHECK(inf::inference(options).tasks.get("t1").output == big["output"]);
}

TEST_CASE("a download is streamed whole whatever max_response_bytes says", "[hostile][size]") {
  inf::testing::TempDir dir;
  const std::string content(3 << 20, 'd');
  ScriptedServer server([&](const auto&) { return Reply::status(200).body(content); });
  auto options = inf::testing::test_options(server);
  options.max_response_bytes = 1024;
  const auto written =
      inf::inference(options).files.download(server.base_url() + "/f/big.bin", dir.path());
  CHECK(inf::testing::read_file(written) == content);
}

// ---------------------------------------------------------------------------------------------
// Deadline of a wait

TEST_CASE("a wait with a deadline ends with a TimeoutError naming it while heartbeats keep coming",
          "[hostile][deadline]") {
  auto reply = ndjson_head().send(line(task(7)));
  for (int i = 0; i < 400; ++i) reply.delay(50ms).send(line({{"type", "heartbeat"}}));
  Router router;
  router.on("GET", "/tasks/t1/stream", reply);
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(client.tasks.wait_for_completion("t1", {.deadline = 300ms}),
                    Catch::Contains("task t1") && Catch::Contains("deadline of 300 ms"));
}

TEST_CASE("the deadline of a wait covers its reconnects", "[hostile][deadline]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_head().send(line(task(7))));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  // Without the deadline this would reconnect (every few milliseconds) for ever.
  try {
    client.tasks.wait_for_completion("t1", {.max_reconnects = 1000000, .deadline = 300ms});
    FAIL("expected TimeoutError");
  } catch (const inf::TimeoutError& e) {
    CHECK_THAT(e.what(), Catch::Contains("deadline of 300 ms"));
  }
}

TEST_CASE("the deadline of a wait covers polling", "[hostile][deadline]") {
  Router router;
  router.on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 7}}));
  router.on("GET", "/tasks/t1", Reply::json(200, task(7)));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(
      client.tasks.wait_for_completion("t1", {.mode = inf::WaitMode::poll, .deadline = 300ms}),
      Catch::Contains("deadline of 300 ms"));
}

TEST_CASE("a silent stream ends at the deadline, not at the idle timeout", "[hostile][deadline]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_head().send(line(task(7))).stall());
  ScriptedServer server(router.handler());
  auto options = inf::testing::test_options(server);
  // Far beyond the test's time limit: only the deadline can end this wait in time.
  options.wait.stream_idle_timeout = std::chrono::hours(1);
  CHECK_THROWS_WITH(inf::inference(options).tasks.wait_for_completion("t1", {.deadline = 300ms}),
                    Catch::Contains("deadline of 300 ms"));
}

TEST_CASE("the deadline of run covers creating the task", "[hostile][deadline]") {
  Router router;
  router.on("POST", "/apps/run", Reply::status(200).stall());
  ScriptedServer server(router.handler());
  auto options = inf::testing::test_options(server);
  options.request_timeout = std::chrono::hours(1);
  CHECK_THROWS_WITH(inf::inference(options).tasks.run({{"app", "a/b"}}, {.deadline = 1s}),
                    Catch::Contains("deadline of 1000 ms") &&
                        Catch::Contains("while the task was being created"));
}

TEST_CASE("a streamed run stops at its deadline too", "[hostile][deadline]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, task(1)));
  router.on("GET", "/tasks/t1/stream", ndjson_head().send(line(task(7))).stall());
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  std::vector<inf::TaskStatus> seen;
  CHECK_THROWS_WITH(
      [&] {
        auto stream = client.tasks.run({{"app", "a/b"}}, inf::stream, {.deadline = 300ms});
        for (const auto& update : stream) seen.push_back(update.status);
      }(),
      Catch::Contains("deadline of 300 ms"));
  for (const auto status : seen) CHECK(status == inf::TaskStatus::running);
}
