// Bad input and bad clients: clear errors, no crash, no leak, the runtime keeps serving.

#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

bool still_serves(LocalRuntime& local) {
  return http_request(local.port(), "GET", "/health").status == 200;
}

std::string create_long_task(LocalRuntime& local) {
  const auto response = http_request(
      local.port(), "POST", "/apps/run",
      R"({"app":"infsh/progress","input":{"steps":1,"delay_ms":60000}})", {{"X-API-Version", "2"}});
  REQUIRE(response.status == 200);
  return response.json().at("id").get<std::string>();
}

}  // namespace

TEST_CASE("an oversized request body gets 413 and the runtime keeps serving") {
  auto options = LocalRuntime::quiet();
  options.max_body_bytes = 1024;
  LocalRuntime local(options);
  const std::string body =
      R"({"app":"infsh/echo","input":{"pad":")" + std::string(4096, 'x') + "\"}}";
  const auto response = http_request(local.port(), "POST", "/apps/run", body);
  CHECK(response.status == 413);
  CHECK(response.json().at("error").at("code") == "PAYLOAD_TOO_LARGE");
  CHECK(still_serves(local));
}

TEST_CASE("a large body announced with Expect 100-continue is refused before it is sent") {
  auto options = LocalRuntime::quiet();
  options.max_body_bytes = 1024;
  LocalRuntime local(options);
  RawConnection connection(local.port());
  connection.send(
      "POST /apps/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n"
      "Content-Type: application/json\r\nExpect: 100-continue\r\n\r\n");
  CHECK(connection.read_response().status == 413);
}

TEST_CASE("a body within the limit announced with Expect 100-continue gets 100 first") {
  LocalRuntime local;
  RawConnection connection(local.port());
  const std::string body = R"({"app":"infsh/echo","input":{"a":1}})";
  connection.send("POST /apps/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                  std::to_string(body.size()) +
                  "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n\r\n");
  CHECK(connection.read_response().status == 100);
  connection.send(body);
  CHECK(connection.read_response().status == 200);
}

TEST_CASE("an oversized request head gets 431") {
  LocalRuntime local;
  const auto response = http_request(local.port(), "GET", "/health", {},
                                     {{"X-Padding", std::string(32 * 1024, 'p')}});
  CHECK(response.status == 431);
  CHECK(still_serves(local));
}

TEST_CASE("malformed HTTP gets 400 and a closed connection") {
  LocalRuntime local;
  RawConnection connection(local.port());
  connection.send("THIS IS NOT HTTP\r\n\r\n");
  const auto response = connection.read_response();
  CHECK(response.status == 400);
  CHECK(response.json().at("success") == false);
  CHECK(connection.closed_by_peer());
  CHECK(still_serves(local));
}

TEST_CASE("a chunked request body is read whole") {
  LocalRuntime local;
  RawConnection connection(local.port());
  const std::string body = R"({"app":"infsh/echo","input":{"chunked":true}})";
  const std::string first = body.substr(0, 10);
  const std::string second = body.substr(10);
  connection.send(
      "POST /apps/run HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Version: 2\r\n"
      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  connection.send("a\r\n" + first + "\r\n");
  char size[16];
  std::snprintf(size, sizeof size, "%zx", second.size());
  connection.send(std::string(size) + "\r\n" + second + "\r\n0\r\n\r\n");
  const auto response = connection.read_response();
  REQUIRE(response.status == 200);
  CHECK(response.json().at("input") == json{{"chunked", true}});
}

TEST_CASE("wrong JSON types in every field are refused without harm") {
  LocalRuntime local;
  const std::vector<std::string> bodies = {
      "null",
      "true",
      "\"app\"",
      "123",
      "{\"app\":null}",
      "{\"app\":[\"infsh/echo\"]}",
      "{\"app\":{}}",
      "{\"app\":\"infsh/echo\",\"metadata\":[]}",
      "{\"app\":\"infsh/echo\",\"workers\":\"w\"}",
      "{\"app\":\"infsh/echo\",\"session_timeout\":\"10\"}",
      "{\"app\":\"infsh/progress\",\"input\":{\"steps\":1e400}}",
      "{\"app\":\"infsh/progress\",\"input\":{\"steps\":99999999999999999999}}",
      "{\"app\":\"infsh/progress\",\"input\":{\"steps\":2.5}}",
      std::string("{\"app\":\"infsh/echo\",\"input\":\"\xff\xfe\"}"),
      "{\"app\":\"" + std::string(10000, 'a') + "\"}",
      "{\"app\":\"infsh/echo\",\"input\":" + std::string(200000, '[') + "}",
  };
  for (const auto& body : bodies) {
    INFO(body.substr(0, 80));
    const auto response = http_request(local.port(), "POST", "/apps/run", body);
    CHECK(response.status >= 400);
    CHECK(response.status < 500);
    CHECK(response.json().at("success") == false);
  }
  CHECK(still_serves(local));
}

TEST_CASE("a request body may nest 256 levels deep, and one level more is refused saying so") {
  LocalRuntime local;
  // The body object and its input object are two of the levels.
  const auto body = [](std::size_t arrays) {
    return R"({"app":"infsh/echo","input":{"deep":)" + std::string(arrays, '[') +
           std::string(arrays, ']') + "}}";
  };
  const auto accepted = http_request(local.port(), "POST", "/apps/run", body(254));
  CHECK(accepted.status == 200);
  const auto refused = http_request(local.port(), "POST", "/apps/run", body(255));
  CHECK(refused.status == 400);
  CHECK(refused.json().at("detail") == "request body is nested deeper than 256 levels");
  const auto broken = http_request(local.port(), "POST", "/apps/run", R"({"app":"infsh/echo",})");
  CHECK(broken.status == 400);
  CHECK_THAT(broken.json().at("detail").get<std::string>(),
             Catch::StartsWith("request body is not valid JSON: parse error"));
  CHECK(still_serves(local));
}

TEST_CASE("a client that vanishes mid stream releases its stream and connection") {
  LocalRuntime local;
  const std::string id = create_long_task(local);
  {
    RawConnection stream(local.port());
    stream.send("GET /tasks/" + id + "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.read_stream_until([](const std::string& body) { return !body.empty(); });
    REQUIRE(local.runtime().stats().open_streams == 1);
    stream.reset();
  }
  CHECK(wait_until([&] {
    const auto stats = local.runtime().stats();
    return stats.open_streams == 0 && stats.open_connections == 0;
  }));
  http_request(local.port(), "POST", "/tasks/" + id + "/cancel");
}

TEST_CASE("a stream whose client stops reading is cut off instead of buffering without end") {
  auto options = LocalRuntime::quiet();
  options.max_stream_backlog_bytes = 256 * 1024;
  LocalRuntime local(options);
  // Every update carries the 200 KB input, so an unread stream piles up fast.
  const json body = {
      {"app", "infsh/progress"},
      {"input", {{"steps", 100000}, {"delay_ms", 0}, {"pad", std::string(200000, 'x')}}}};
  const auto created =
      http_request(local.port(), "POST", "/apps/run", body.dump(), {{"X-API-Version", "2"}});
  REQUIRE(created.status == 200);
  const std::string id = created.json().at("id").get<std::string>();
  RawConnection stream(local.port());
  stream.send("GET /tasks/" + id + "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  // Never read: the runtime must give up on this client.
  CHECK(wait_until(
      [&] {
        return local.runtime().stats().streams_opened == 1 &&
               local.runtime().stats().open_streams == 0;
      },
      std::chrono::milliseconds(20000)));
  http_request(local.port(), "POST", "/tasks/" + id + "/cancel");
  CHECK(still_serves(local));
}

TEST_CASE("a request head that never completes is closed after the request timeout") {
  auto options = LocalRuntime::quiet();
  options.request_timeout = std::chrono::milliseconds(100);
  LocalRuntime local(options);
  RawConnection connection(local.port());
  connection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // no blank line: never finished
  CHECK(connection.closed_by_peer());
}

TEST_CASE("1000 rapid create and cancel pairs all end cancelled") {
  LocalRuntime local;
  auto client = local.client();
  std::vector<std::string> ids;
  ids.reserve(1000);
  const json params = {{"app", "infsh/progress"}, {"input", {{"steps", 1000}, {"delay_ms", 1}}}};
  for (int i = 0; i < 1000; ++i) {
    ids.push_back(client.tasks.run(params, {.wait = false}).id);
    client.tasks.cancel(ids.back());
  }
  REQUIRE(wait_until([&] { return local.runtime().stats().active_tasks == 0; },
                     std::chrono::milliseconds(20000)));
  std::size_t cancelled = 0;
  for (std::size_t i = 0; i < ids.size(); i += 50) {
    cancelled += client.tasks.get(ids[i]).status == inf::TaskStatus::cancelled ? 1U : 0U;
  }
  CHECK(cancelled == 20);
  CHECK(local.runtime().stats().tasks == 1000);
}

TEST_CASE("stopping under load cancels running tasks and ends every stream with its final state") {
  auto options = LocalRuntime::quiet();
  options.workers = 2;
  auto local = std::make_unique<LocalRuntime>(options);
  auto client = local->client();
  const json params = {{"app", "infsh/progress"}, {"input", {{"steps", 1000}, {"delay_ms", 20}}}};
  std::vector<std::future<std::string>> followers;
  for (int i = 0; i < 6; ++i) {
    const std::string id = client.tasks.run(params, {.wait = false}).id;
    followers.push_back(std::async(std::launch::async, [&client, id] {
      try {
        client.tasks.wait_for_completion(id, {.max_reconnects = 0});
        return std::string("completed");
      } catch (const inf::CancelledError&) {
        return std::string("cancelled");
      } catch (const std::exception& e) {
        return std::string("error: ") + e.what();
      }
    }));
  }
  REQUIRE(wait_until([&] { return local->runtime().stats().open_streams == 6; }));
  local->runtime().stop();
  for (auto& follower : followers) CHECK(follower.get() == "cancelled");
  CHECK(local->runtime().stats().active_tasks == 0);
  local.reset();
}
