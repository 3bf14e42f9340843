// The client's HTTP behaviour against real sockets: headers, envelopes, typed errors, retries,
// Retry-After, secrets.

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/inferencesh.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inf::testing::kTestApiKey;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using nlohmann::json;

namespace {

const json kTask = {{"id", "t1"}, {"status", 7}, {"input", json::object()}};

struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  inf::LogHook hook() {
    return [this](inf::LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.emplace_back(line);
    };
  }
  bool any_contains(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& line : lines) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace

TEST_CASE("every API call carries the bearer key and the SDK's identity", "[client]") {
  ScriptedServer server([](const auto&) { return Reply::json(200, kTask); });
  auto options = inf::testing::test_options(server);
  options.user_agent_suffix = "tests/1";
  options.extra_headers = {{"X-Tenant", "acme"}};
  auto client = inf::inference(options);
  client.tasks.get("t1");
  const auto request = server.requests().at(0);
  CHECK(request.method == "GET");
  CHECK(request.path == "/tasks/t1");
  CHECK(request.header("authorization") == std::string("Bearer ") + kTestApiKey);
  CHECK(request.header("user-agent") ==
        std::string("inferencesh-cpp/") + inf::kVersion + " tests/1");
  CHECK(request.header("x-client-source") == std::string("inference-sdk-cpp/") + inf::kVersion);
  CHECK(request.header("x-tenant") == "acme");
  CHECK_FALSE(request.header("x-api-version").has_value());
}

TEST_CASE("a missing API key fails the first call clearly and sends nothing", "[client]") {
  ScriptedServer server([](const auto&) { return Reply::json(200, kTask); });
  auto options = inf::testing::test_options(server);
  options.api_key.clear();
  // The environment must not supply one either for this test to mean anything.
  REQUIRE(::unsetenv("INFERENCE_API_KEY") == 0);
  auto client = inf::inference(options);
  CHECK_THROWS_WITH(client.tasks.get("t1"), Catch::Contains("no API key"));
  CHECK(server.request_count() == 0);
}

TEST_CASE("the three response envelopes all yield the task", "[client]") {
  Router router;
  router.on("GET", "/tasks/bare", Reply::json(200, {{"id", "bare"}, {"status", 7}}));
  router.on("GET", "/tasks/v1",
            Reply::json(200, {{"success", true}, {"status", 200}, {"data", {{"id", "v1"}}}}));
  router.on("GET", "/tasks/v3",
            Reply::json(200, {{"data", {{"id", "v3"}}}, {"messages", json::array()}}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK(client.tasks.get("bare").id == "bare");
  CHECK(client.tasks.get("v1").id == "v1");
  CHECK(client.tasks.get("v3").id == "v3");
}

TEST_CASE("server messages reach the on_messages callback and the log", "[client]") {
  ScriptedServer server([](const auto&) {
    return Reply::json(200, {{"data", kTask},
                             {"messages",
                              {{{"level", "warning"},
                                {"code", "CONCURRENCY_LIMIT"},
                                {"message", "2 of 2 slots in use"}}}}});
  });
  auto options = inf::testing::test_options(server);
  std::vector<inf::ResponseMessage> received;
  options.on_messages = [&](const std::vector<inf::ResponseMessage>& messages) {
    received.insert(received.end(), messages.begin(), messages.end());
  };
  LogCapture log;
  options.log = log.hook();
  inf::inference(options).tasks.get("t1");
  REQUIRE(received.size() == 1);
  CHECK(received[0].code == "CONCURRENCY_LIMIT");
  CHECK(received[0].message == "2 of 2 slots in use");
  CHECK(log.any_contains("CONCURRENCY_LIMIT"));
}

TEST_CASE("HTTP errors arrive as typed exceptions with the server's detail", "[client]") {
  Router router;
  router.on(
      "GET", "/tasks/missing",
      Reply::json(404, {{"type", "about:blank"},
                        {"title", "Not Found"},
                        {"status", 404},
                        {"detail", "task missing not found"},
                        {"success", false},
                        {"error", {{"code", "NOT_FOUND"}, {"message", "task missing not found"}}}})
          .header("X-Request-Id", "req-99"));
  router.on("GET", "/tasks/denied", Reply::json(401, {{"detail", "invalid API key"}}));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  try {
    client.tasks.get("missing");
    FAIL("expected NotFoundError");
  } catch (const inf::NotFoundError& e) {
    CHECK(e.status() == 404);
    CHECK(e.code() == "NOT_FOUND");
    CHECK(e.detail() == "task missing not found");
    CHECK(e.request_id() == "req-99");
  }
  CHECK_THROWS_AS(client.tasks.get("denied"), inf::AuthenticationError);
}

TEST_CASE("an idempotent call is retried on 503 and then succeeds", "[client][retry]") {
  Router router;
  router.on("GET", "/tasks/t1", Reply::json(503, {{"detail", "busy"}}))
      .on("GET", "/tasks/t1", Reply::json(502, {{"detail", "busy"}}))
      .on("GET", "/tasks/t1", Reply::json(200, kTask));
  ScriptedServer server(router.handler());
  LogCapture log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  CHECK(inf::inference(options).tasks.get("t1").id == "t1");
  CHECK(server.request_count() == 3);
  CHECK(log.any_contains("retry 1 of 2"));
  CHECK(log.any_contains("retry 2 of 2"));
}

TEST_CASE("retries give up after max_retries with the last error", "[client][retry]") {
  ScriptedServer server([](const auto&) { return Reply::json(503, {{"detail", "down"}}); });
  auto options = inf::testing::test_options(server);
  options.retry.max_retries = 3;
  CHECK_THROWS_AS(inf::inference(options).tasks.get("t1"), inf::ServerError);
  CHECK(server.request_count() == 4);
}

TEST_CASE("Retry-After is honoured for the delay before the next attempt", "[client][retry]") {
  Router router;
  router
      .on("GET", "/tasks/t1",
          Reply::json(429, {{"detail", "slow down"}}).header("Retry-After", "1"))
      .on("GET", "/tasks/t1", Reply::json(200, kTask));
  ScriptedServer server(router.handler());
  LogCapture log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  const auto start = std::chrono::steady_clock::now();
  CHECK(inf::inference(options).tasks.get("t1").id == "t1");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::seconds(1));
  CHECK(log.any_contains("in 1000 ms"));
}

TEST_CASE("a Retry-After beyond the cap raises RateLimitError at once", "[client][retry]") {
  ScriptedServer server([](const auto&) {
    return Reply::json(429, {{"detail", "quota"}}).header("Retry-After", "120");
  });
  try {
    inf::inference(inf::testing::test_options(server)).tasks.get("t1");
    FAIL("expected RateLimitError");
  } catch (const inf::RateLimitError& e) {
    CHECK(e.retry_after() == std::chrono::seconds(120));
  }
  CHECK(server.request_count() == 1);
}

TEST_CASE("a POST without an idempotency key is never retried", "[client][retry]") {
  ScriptedServer server([](const auto&) { return Reply::json(503, {{"detail", "busy"}}); });
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_AS(client.tasks.run({{"app", "a/b"}}, {.wait = false}), inf::ServerError);
  CHECK(server.request_count() == 1);
  CHECK_THROWS_AS(client.tasks.cancel("t1"), inf::ServerError);
  CHECK(server.request_count() == 2);
}

TEST_CASE("a POST with an idempotency key is retried and keeps its key", "[client][retry]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(503, {{"detail", "busy"}}))
      .on("POST", "/apps/run", Reply::json(200, kTask));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  const auto task = client.tasks.run({{"app", "a/b"}}, {.wait = false, .idempotency_key = "run-1"});
  CHECK(task.id == "t1");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("idempotency-key") == "run-1");
  CHECK(requests[1].header("idempotency-key") == "run-1");
  CHECK(requests[0].body == requests[1].body);
}

TEST_CASE("a dropped connection is retried for idempotent calls", "[client][retry]") {
  Router router;
  router.on("GET", "/tasks/t1", Reply::status(200).drop())
      .on("GET", "/tasks/t1", Reply::json(200, kTask));
  ScriptedServer server(router.handler());
  CHECK(inf::inference(inf::testing::test_options(server)).tasks.get("t1").id == "t1");
  CHECK(server.request_count() == 2);
}

TEST_CASE("the API key never appears in exceptions, logs or URLs", "[client][secrets]") {
  // A hostile server echoes the Authorization header everywhere it can.
  ScriptedServer server([](const auto& request) {
    const std::string auth = request.header("authorization").value_or("");
    return Reply::json(401, {{"detail", "bad credentials: " + auth},
                             {"error", {{"code", auth}, {"message", auth}}}})
        .header("X-Request-Id", auth);
  });
  LogCapture log;
  auto options = inf::testing::test_options(server);
  options.log = log.hook();
  auto client = inf::inference(options);
  try {
    client.tasks.get("t1");
    FAIL("expected AuthenticationError");
  } catch (const inf::AuthenticationError& e) {
    CHECK(std::string(e.what()).find(kTestApiKey) == std::string::npos);
    CHECK(e.detail().find(kTestApiKey) == std::string::npos);
    CHECK(e.body().find(kTestApiKey) == std::string::npos);
    CHECK(e.code().find(kTestApiKey) == std::string::npos);
    CHECK(e.url().find(kTestApiKey) == std::string::npos);
    CHECK_THAT(e.detail(), Catch::Contains("bad credentials"));
  }
  CHECK_FALSE(log.lines.empty());
  CHECK_FALSE(log.any_contains(kTestApiKey));
  for (const auto& request : server.requests()) {
    CHECK(request.target.find(kTestApiKey) == std::string::npos);
  }
}

TEST_CASE("a client is shared safely by several threads", "[client]") {
  ScriptedServer server([](const auto&) { return Reply::json(200, kTask); });
  auto client = inf::inference(inf::testing::test_options(server));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([copy = client, &ok] {
      for (int i = 0; i < 25; ++i) {
        if (copy.tasks.get("t1").id == "t1") ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(ok == 100);
  CHECK(server.request_count() == 100);
  // At most one connection per thread that ran at the same time.
  CHECK(server.connection_count() <= 4);
}
