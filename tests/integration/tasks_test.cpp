// The Tasks API against a scripted server: run/wait/stream/get/cancel, stream decoding over the
// wire, partial updates, deltas, reconnects, polling and cancellation.

#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/inferencesh.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inf::testing::ndjson;
using inf::testing::ndjson_reply;
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

const json kCreated = {{"id", "t1"},
                       {"status", 1},
                       {"input", {{"prompt", "hi"}}},
                       {"session_id", "sess_1"},
                       {"created_at", "2026-01-01T00:00:00Z"}};

Router created_router() {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, kCreated));
  return router;
}

std::size_t count_requests(const ScriptedServer& server, const std::string& method,
                           const std::string& path) {
  std::size_t n = 0;
  for (const auto& r : server.requests()) {
    if (r.method == method && r.path == path) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("run without waiting makes exactly one POST and returns the created task", "[tasks]") {
  auto router = created_router();
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  const auto created =
      client.tasks.run({{"app", "infsh/echo"}, {"input", {{"prompt", "hi"}}}}, {.wait = false});
  CHECK(created.id == "t1");
  CHECK(created.status == inf::TaskStatus::received);
  CHECK(created.session_id == "sess_1");
  REQUIRE(server.request_count() == 1);
  const auto request = server.requests()[0];
  CHECK(request.method == "POST");
  CHECK(request.path == "/apps/run");
  CHECK(request.json() == json{{"app", "infsh/echo"}, {"input", {{"prompt", "hi"}}}});
}

TEST_CASE("run waits over NDJSON and returns the completed task with output and logs", "[tasks]") {
  auto router = created_router();
  router.on(
      "GET", "/tasks/t1/stream",
      ndjson_reply({task(1), task(7, {{"logs", {"working"}}}),
                    task(10, {{"output", {{"text", "hello"}}}, {"logs", {"working", "done"}}})}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  std::vector<inf::TaskStatus> seen;
  const auto done = client.tasks.run(
      {{"app", "infsh/echo"}},
      {.on_update = [&](const inf::Task& update) { seen.push_back(update.status); }});
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK(done.output == json{{"text", "hello"}});
  REQUIRE(done.logs.size() == 2);
  CHECK(done.logs[1].content == "done");
  CHECK(done.session_id == "sess_1");  // kept from the created task
  CHECK(seen == std::vector<inf::TaskStatus>{inf::TaskStatus::running, inf::TaskStatus::completed});
  const auto stream_request = server.requests().at(1);
  CHECK(stream_request.path == "/tasks/t1/stream");
  CHECK(stream_request.header("accept") == "application/x-ndjson");
}

TEST_CASE("a failed task raises TaskFailedError with the server's message", "[tasks]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task(7), task(11, {{"error", "gpu OOM"}})}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  try {
    client.tasks.run({{"app", "a/b"}});
    FAIL("expected TaskFailedError");
  } catch (const inf::TaskFailedError& e) {
    CHECK(std::string(e.what()) == "gpu OOM");
    CHECK(e.task().id == "t1");
    CHECK(e.task().status == inf::TaskStatus::failed);
    CHECK(e.task().error == "gpu OOM");
  }
}

TEST_CASE("a failed task without an error text raises the generic task failed message", "[tasks]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task(11)}));
  ScriptedServer server(router.handler());
  CHECK_THROWS_WITH(inf::inference(inf::testing::test_options(server)).tasks.run({{"app", "a/b"}}),
                    "task failed");
}

TEST_CASE("a cancelled task raises CancelledError carrying the task", "[tasks]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task(8), task(12)}));
  ScriptedServer server(router.handler());
  try {
    inf::inference(inf::testing::test_options(server)).tasks.run({{"app", "a/b"}});
    FAIL("expected CancelledError");
  } catch (const inf::CancelledError& e) {
    CHECK(std::string(e.what()) == "task cancelled");
    REQUIRE(e.task() != nullptr);
    CHECK(e.task()->status == inf::TaskStatus::cancelled);
  }
}

TEST_CASE("partial updates are merged and reported with their fields", "[tasks]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task(7),
                          {{"data", {{"output", {{"step", 1}}}}}, {"fields", {"output"}}},
                          {{"data", {{"status", 10}, {"output", {{"steps_done", 1}}}}},
                           {"fields", {"status", "output"}}}}));
  ScriptedServer server(router.handler());
  std::vector<std::vector<std::string>> fields_seen;
  std::vector<json> outputs;
  const auto done =
      inf::inference(inf::testing::test_options(server))
          .tasks.run(
              {{"app", "a/b"}},
              {.on_partial_update = [&](const inf::Task& t, const std::vector<std::string>& f) {
                fields_seen.push_back(f);
                outputs.push_back(t.output);
              }});
  CHECK(done.status == inf::TaskStatus::completed);
  CHECK(done.output == json{{"steps_done", 1}});
  CHECK(done.session_id == "sess_1");
  CHECK(done.input == json{{"prompt", "hi"}});
  REQUIRE(fields_seen.size() == 2);
  CHECK(fields_seen[0] == std::vector<std::string>{"output"});
  CHECK(outputs[0] == json{{"step", 1}});
  CHECK(fields_seen[1] == std::vector<std::string>{"status", "output"});
}

TEST_CASE("partial updates carrying failed or cancelled end the task like full ones", "[tasks]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({{{"data", {{"status", 11}, {"error", "bad input"}}},
                           {"fields", {"status", "error"}}}}));
  ScriptedServer server(router.handler());
  CHECK_THROWS_WITH(inf::inference(inf::testing::test_options(server)).tasks.run({{"app", "a/b"}}),
                    "bad input");

  router.on("GET", "/tasks/t2/stream",
            ndjson_reply({{{"data", {{"id", "t2"}, {"status", 12}}}, {"fields", {"status"}}}}));
  CHECK_THROWS_AS(
      inf::inference(inf::testing::test_options(server)).tasks.wait_for_completion("t2"),
      inf::CancelledError);
}

TEST_CASE("heartbeats are skipped and deltas stay out of the task", "[tasks]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply(
                {{{"type", "heartbeat"}},
                 task(7),
                 {{"event", "delta"}, {"data", {{"delta", {{"response", "He"}}}, {"seq", 1}}}},
                 {{"type", "heartbeat"}},
                 {{"event", "delta"},
                  {"data", {{"delta", {{"response", "llo"}}}, {"seq", 2}, {"resource_id", "r"}}}},
                 task(10, {{"output", {{"response", "Hello"}}}})}));
  ScriptedServer server(router.handler());
  std::vector<inf::TaskDelta> deltas;
  int updates = 0;
  const auto done =
      inf::inference(inf::testing::test_options(server))
          .tasks.run({{"app", "a/b"}},
                     {.on_update = [&](const inf::Task&) { ++updates; },
                      .on_delta = [&](const inf::TaskDelta& d) { deltas.push_back(d); }});
  CHECK(updates == 2);
  REQUIRE(deltas.size() == 2);
  CHECK(deltas[0].delta == json{{"response", "He"}});
  CHECK(deltas[0].seq == 1);
  CHECK(deltas[1].seq == 2);
  CHECK(deltas[1].resource_id == "r");
  CHECK_FALSE(done.raw.contains("delta"));
  CHECK_FALSE(done.raw.contains("seq"));
  CHECK(done.output == json{{"response", "Hello"}});
}

TEST_CASE("a stream split at every byte decodes the same task", "[tasks]") {
  const std::string body = ndjson({task(7, {{"output", {{"text", "héllo 日本"}}}}),
                                   task(10, {{"output", {{"text", "日本語"}}}})});
  for (std::size_t piece :
       {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, std::size_t{64}}) {
    auto router = created_router();
    router.on("GET", "/tasks/t1/stream", Reply::status(200).chunked().send_split(body, piece));
    ScriptedServer server(router.handler());
    const auto done =
        inf::inference(inf::testing::test_options(server)).tasks.run({{"app", "a/b"}});
    CHECK(done.output == json{{"text", "日本語"}});
  }
}

TEST_CASE("a final line without a newline, CRLF endings and blank lines are handled", "[tasks]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream",
            Reply::status(200).chunked().send(task(7).dump() + "\r\n\r\n").send(task(10).dump()));
  ScriptedServer server(router.handler());
  CHECK(inf::inference(inf::testing::test_options(server)).tasks.run({{"app", "a/b"}}).status ==
        inf::TaskStatus::completed);
}

TEST_CASE("a stream that ends without a final status is reopened and then completes",
          "[tasks][reconnect]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task(7)}))
      .on("GET", "/tasks/t1/stream", ndjson_reply({task(7), task(10, {{"output", 1}})}));
  ScriptedServer server(router.handler());
  const auto done = inf::inference(inf::testing::test_options(server)).tasks.run({{"app", "a/b"}});
  CHECK(done.output == 1);
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 2);
}

TEST_CASE("a stream that breaks mid-body is reopened after the updates it carried",
          "[tasks][reconnect]") {
  auto router = created_router();
  router
      .on("GET", "/tasks/t1/stream",
          Reply::status(200).chunked().send(task(7, {{"logs", {"a"}}}).dump() + "\n").drop())
      .on("GET", "/tasks/t1/stream", ndjson_reply({task(10, {{"logs", {"a", "b"}}})}));
  ScriptedServer server(router.handler());
  std::vector<inf::TaskStatus> seen;
  const auto done =
      inf::inference(inf::testing::test_options(server))
          .tasks.run({{"app", "a/b"}},
                     {.on_update = [&](const inf::Task& t) { seen.push_back(t.status); }});
  CHECK(seen == std::vector<inf::TaskStatus>{inf::TaskStatus::running, inf::TaskStatus::completed});
  CHECK(done.logs.size() == 2);
}

TEST_CASE("a connection error on the first stream attempt leads to a reconnect",
          "[tasks][reconnect]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream", Reply::status(200).drop())
      .on("GET", "/tasks/t1/stream", Reply::json(503, {{"detail", "restarting"}}))
      .on("GET", "/tasks/t1/stream", ndjson_reply({task(10)}));
  ScriptedServer server(router.handler());
  CHECK(inf::inference(inf::testing::test_options(server)).tasks.run({{"app", "a/b"}}).status ==
        inf::TaskStatus::completed);
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 3);
}

TEST_CASE("with reconnects disabled a stream that ends early is tried exactly once",
          "[tasks][reconnect]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task(7)}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_AS(client.tasks.run({{"app", "a/b"}}, {.max_reconnects = 0}), inf::StreamError);
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 1);
}

TEST_CASE("reconnects are bounded when a stream keeps ending without news", "[tasks][reconnect]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task(7)}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(client.tasks.run({{"app", "a/b"}}, {.max_reconnects = 3}),
                    Catch::Contains("ended") && Catch::Contains("before a final status"));
  // The first attempt plus three reconnects; the repeated full state counted as no progress.
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 4);
}

TEST_CASE("a stream silent past the idle timeout is reopened", "[tasks][reconnect]") {
  auto router = created_router();
  router
      .on("GET", "/tasks/t1/stream",
          Reply::status(200).chunked().send(task(7).dump() + "\n").stall())
      .on("GET", "/tasks/t1/stream", ndjson_reply({task(10)}));
  ScriptedServer server(router.handler());
  auto options = inf::testing::test_options(server);
  options.wait.stream_idle_timeout = 300ms;
  CHECK(inf::inference(options).tasks.run({{"app", "a/b"}}).status == inf::TaskStatus::completed);
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 2);
}

TEST_CASE("a stream refused with 404 fails at once without reconnecting", "[tasks]") {
  Router router;
  router.on("GET", "/tasks/nope/stream", Reply::json(404, {{"detail", "task nope not found"}}));
  ScriptedServer server(router.handler());
  CHECK_THROWS_AS(
      inf::inference(inf::testing::test_options(server)).tasks.wait_for_completion("nope"),
      inf::NotFoundError);
  CHECK(server.request_count() == 1);
}

TEST_CASE("streaming a run yields every update and ends at the final status", "[tasks][stream]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({task(2), task(7), task(10, {{"output", {{"ok", true}}}})}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  std::vector<inf::TaskStatus> statuses;
  for (const inf::Task& update : client.tasks.run({{"app", "a/b"}}, inf::stream)) {
    statuses.push_back(update.status);
  }
  CHECK(statuses == std::vector<inf::TaskStatus>{inf::TaskStatus::queued, inf::TaskStatus::running,
                                                 inf::TaskStatus::completed});
}

TEST_CASE("a task stream's result holds the final task after completion", "[tasks][stream]") {
  Router router;
  router.on("GET", "/tasks/t9/stream",
            ndjson_reply(
                {{{"id", "t9"}, {"status", 7}}, {{"id", "t9"}, {"status", 10}, {"output", 42}}}));
  ScriptedServer server(router.handler());
  auto stream = inf::inference(inf::testing::test_options(server)).tasks.stream("t9");
  CHECK_THROWS_AS(stream.result(), inf::StreamError);
  int n = 0;
  for (const auto& update : stream) {
    CHECK(update.id == "t9");
    ++n;
  }
  CHECK(n == 2);
  CHECK(stream.finished());
  CHECK(stream.result().output == 42);
  CHECK(stream.next() == nullptr);
}

TEST_CASE("iterating a failing task's stream throws TaskFailedError", "[tasks][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream", ndjson_reply({task(7), task(11, {{"error", "boom"}})}));
  ScriptedServer server(router.handler());
  auto stream = inf::inference(inf::testing::test_options(server)).tasks.stream("t1");
  std::vector<inf::TaskStatus> seen;
  CHECK_THROWS_WITH(
      [&] {
        for (const auto& update : stream) seen.push_back(update.status);
      }(),
      "boom");
  CHECK(seen == std::vector<inf::TaskStatus>{inf::TaskStatus::running});
  CHECK_THROWS_AS(stream.result(), inf::TaskFailedError);
}

TEST_CASE("closing a stream early stops following the task", "[tasks][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            Reply::status(200).chunked().send(task(7).dump() + "\n").stall());
  ScriptedServer server(router.handler());
  auto stream = inf::inference(inf::testing::test_options(server)).tasks.stream("t1");
  const inf::Task* first = stream.next();
  REQUIRE(first != nullptr);
  CHECK(first->status == inf::TaskStatus::running);
  stream.close();
  CHECK(stream.finished());
  CHECK(stream.next() == nullptr);
  CHECK(stream.current().status == inf::TaskStatus::running);
}

TEST_CASE("an SSE answer to the task stream is decoded too", "[tasks][stream]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            Reply::status(200)
                .header("Content-Type", "text/event-stream")
                .chunked()
                .send(": keep-alive\n\n")
                .send("data: " + task(7).dump() + "\n\n")
                .send("data: " + task(10, {{"output", "sse"}}).dump() + "\n\n"));
  ScriptedServer server(router.handler());
  CHECK(inf::inference(inf::testing::test_options(server)).tasks.wait_for_completion("t1").output ==
        "sse");
}

TEST_CASE("get and cancel use GET /tasks/{id} and POST /tasks/{id}/cancel", "[tasks]") {
  Router router;
  router.on("GET", "/tasks/t1", Reply::json(200, task(7, {{"output", nullptr}})));
  router.on("POST", "/tasks/t1/cancel",
            Reply::json(200, {{"success", true}, {"status", 200}, {"data", nullptr}}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK(client.tasks.get("t1").status == inf::TaskStatus::running);
  client.tasks.cancel("t1");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].method == "POST");
  CHECK(requests[1].path == "/tasks/t1/cancel");
}

TEST_CASE("polling resolves on completion and fetches the task only when the status changes",
          "[tasks][poll]") {
  Router router;
  router.on("GET", "/tasks/t1/status", Reply::json(200, {{"id", "t1"}, {"status", 7}}))
      .on("GET", "/tasks/t1/status", Reply::json(200, {{"id", "t1"}, {"status", 7}}))
      .on("GET", "/tasks/t1/status", Reply::json(200, {{"id", "t1"}, {"status", 7}}))
      .on("GET", "/tasks/t1/status", Reply::json(200, {{"id", "t1"}, {"status", "completed"}}));
  router.on("GET", "/tasks/t1", Reply::json(200, task(7)))
      .on("GET", "/tasks/t1", Reply::json(200, task(10, {{"output", "polled"}})));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  const auto done = client.tasks.wait_for_completion("t1", {.mode = inf::WaitMode::poll});
  CHECK(done.output == "polled");
  CHECK(count_requests(server, "GET", "/tasks/t1/status") == 4);
  CHECK(count_requests(server, "GET", "/tasks/t1") == 2);
  CHECK(count_requests(server, "GET", "/tasks/t1/stream") == 0);
}

TEST_CASE("polling can be the client's default and works for run", "[tasks][poll]") {
  auto router = created_router();
  router.on("GET", "/tasks/t1/status", Reply::json(200, {{"status", 10}}));
  router.on("GET", "/tasks/t1", Reply::json(200, task(10, {{"output", "p"}})));
  ScriptedServer server(router.handler());
  auto options = inf::testing::test_options(server);
  options.wait.mode = inf::WaitMode::poll;
  CHECK(inf::inference(options).tasks.run({{"app", "a/b"}}).output == "p");
}

TEST_CASE("polling rejects failed and cancelled tasks", "[tasks][poll]") {
  Router router;
  router.on("GET", "/tasks/f/status", Reply::json(200, {{"status", 11}}));
  router.on("GET", "/tasks/f",
            Reply::json(200, {{"id", "f"}, {"status", 11}, {"error", "polled failure"}}));
  router.on("GET", "/tasks/c/status", Reply::json(200, {{"status", 12}}));
  router.on("GET", "/tasks/c", Reply::json(200, {{"id", "c"}, {"status", 12}}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_WITH(client.tasks.wait_for_completion("f", {.mode = inf::WaitMode::poll}),
                    "polled failure");
  CHECK_THROWS_AS(client.tasks.wait_for_completion("c", {.mode = inf::WaitMode::poll}),
                  inf::CancelledError);
}

TEST_CASE("polling fails when a status poll or the full fetch fails", "[tasks][poll]") {
  Router router;
  router.on("GET", "/tasks/a/status", Reply::json(404, {{"detail", "gone"}}));
  router.on("GET", "/tasks/b/status", Reply::json(200, {{"status", 7}}));
  router.on("GET", "/tasks/b", Reply::json(403, {{"detail", "forbidden"}}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_AS(client.tasks.wait_for_completion("a", {.mode = inf::WaitMode::poll}),
                  inf::NotFoundError);
  CHECK_THROWS_AS(client.tasks.wait_for_completion("b", {.mode = inf::WaitMode::poll}),
                  inf::PermissionDeniedError);
}

TEST_CASE("a wait is cancelled through its token from another thread", "[tasks]") {
  Router router;
  router.on("GET", "/tasks/t1/stream",
            Reply::status(200).chunked().send(task(7).dump() + "\n").stall());
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  inf::CancellationToken cancel;
  std::atomic<bool> running{false};
  std::thread canceller([&] {
    while (!running.load()) std::this_thread::yield();
    cancel.cancel();
  });
  CHECK_THROWS_AS(
      client.tasks.wait_for_completion(
          "t1", {.on_update = [&](const inf::Task&) { running = true; }, .cancel = cancel}),
      inf::CancelledError);
  canceller.join();
}

TEST_CASE("typed RunParams are sent like JSON params", "[tasks]") {
  auto router = created_router();
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  client.tasks.run(inf::RunParams{.app = "infsh/echo",
                                  .input = {{"x", 1}},
                                  .setup = json{{"model", "schnell"}},
                                  .session = "new",
                                  .session_timeout = 300},
                   {.wait = false});
  CHECK(server.requests().at(0).json() == json{{"app", "infsh/echo"},
                                               {"input", {{"x", 1}}},
                                               {"setup", {{"model", "schnell"}}},
                                               {"session", "new"},
                                               {"session_timeout", 300}});
}

TEST_CASE("an invalid session_timeout is refused before any request", "[tasks]") {
  auto router = created_router();
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_AS(client.tasks.run({{"app", "a/b"}, {"session", "new"}, {"session_timeout", 0}}),
                  inf::InvalidArgumentError);
  CHECK_THROWS_AS(client.tasks.run({{"app", "a/b"}, {"session_timeout", 30}}),
                  inf::InvalidArgumentError);
  CHECK(server.request_count() == 0);
}
