// The Sessions API and session handles against a scripted server.

#include <atomic>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "inferencesh/inferencesh.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inf::testing::ndjson_reply;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using nlohmann::json;

namespace {

const json kSession = {{"id", "sess_1"},
                       {"status", "active"},
                       {"app_id", "my/app"},
                       {"call_count", 2},
                       {"expires_at", "2026-11-26T20:00:00Z"},
                       {"idle_timeout", 60}};

json session_error(const char* code, const char* message) {
  return {
      {"detail", message}, {"success", false}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

TEST_CASE("session calls use the documented methods and paths", "[sessions]") {
  Router router;
  router.on("GET", "/sessions/sess_1", Reply::json(200, kSession));
  router.on("GET", "/sessions", Reply::json(200, {{"data", json::array({kSession})}}));
  router.on("POST", "/sessions/sess_1/keepalive", Reply::json(200, kSession));
  router.on("DELETE", "/sessions/sess_1", Reply::status(204));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));

  const auto session = client.sessions.get("sess_1");
  CHECK(session.id == "sess_1");
  CHECK(session.is_active());
  CHECK(session.call_count == 2);
  CHECK(session.idle_timeout == 60);
  CHECK(client.sessions.list().size() == 1);
  CHECK(client.sessions.keepalive("sess_1").id == "sess_1");
  client.sessions.end("sess_1");
  const auto requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[2].method == "POST");
  CHECK(requests[3].method == "DELETE");
}

TEST_CASE("a null session list is an empty list", "[sessions]") {
  ScriptedServer server([](const auto&) {
    return Reply::json(200, {{"success", true}, {"data", nullptr}});
  });
  CHECK(inf::inference(inf::testing::test_options(server)).sessions.list().empty());
}

TEST_CASE("session errors are typed by status and code", "[sessions]") {
  Router router;
  router.on("GET", "/sessions/missing",
            Reply::json(404, session_error("SESSION_NOT_FOUND", "no such session")));
  router.on("POST", "/sessions/old/keepalive",
            Reply::json(410, session_error("SESSION_EXPIRED", "expired")));
  router.on("POST", "/sessions/done/keepalive",
            Reply::json(410, session_error("SESSION_ENDED", "ended")));
  router.on("POST", "/apps/run",
            Reply::json(500, session_error("WORKER_LOST", "worker went away")));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  CHECK_THROWS_AS(client.sessions.get("missing"), inf::SessionNotFoundError);
  CHECK_THROWS_AS(client.sessions.keepalive("old"), inf::SessionExpiredError);
  CHECK_THROWS_AS(client.sessions.keepalive("done"), inf::SessionEndedError);
  CHECK_THROWS_AS(client.tasks.run({{"app", "a/b"}, {"session", "sess_9"}}), inf::WorkerLostError);
}

TEST_CASE("a session handle runs calls in its session and ends it on scope exit", "[sessions]") {
  Router router;
  router.on("POST", "/apps/run", [](const auto& request) {
    const auto body = request.json();
    const bool fresh = body["session"] == "new";
    return Reply::json(
        200,
        {{"id", fresh ? "t1" : "t2"}, {"status", 1}, {"session_id", fresh ? "new" : "sess_1"}});
  });
  router.on(
      "GET", "/tasks/t1/stream",
      ndjson_reply(
          {{{"id", "t1"}, {"status", 10}, {"session_id", "sess_1"}, {"output", {{"calls", 1}}}}}));
  router.on(
      "GET", "/tasks/t2/stream",
      ndjson_reply(
          {{{"id", "t2"}, {"status", 10}, {"session_id", "sess_1"}, {"output", {{"calls", 2}}}}}));
  router.on("GET", "/sessions/sess_1", Reply::json(200, kSession));
  router.on("DELETE", "/sessions/sess_1", Reply::status(204));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  {
    auto session = client.sessions.open("my/app", {.input = {{"x", 1}}, .session_timeout = 120});
    CHECK(session.id() == "sess_1");
    CHECK(session.first_result().output == json{{"calls", 1}});
    CHECK(session.call({{"x", 2}}).output == json{{"calls", 2}});
    CHECK(session.info().call_count == 2);
  }
  const auto requests = server.requests();
  const auto& first = requests.at(0);
  CHECK(
      first.json() ==
      json{{"app", "my/app"}, {"input", {{"x", 1}}}, {"session", "new"}, {"session_timeout", 120}});
  bool called_in_session = false;
  for (const auto& r : requests) {
    if (r.path == "/apps/run" && r.json()["session"] == "sess_1") called_in_session = true;
  }
  CHECK(called_in_session);
  CHECK(requests.back().method == "DELETE");
  CHECK(requests.back().path == "/sessions/sess_1");
}

TEST_CASE("ending a session handle twice sends one DELETE, and a moved handle ends nothing",
          "[sessions]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, {{"id", "t1"}, {"status", 1}}));
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({{{"id", "t1"}, {"status", 10}, {"session_id", "sess_1"}}}));
  router.on("DELETE", "/sessions/sess_1", Reply::status(204));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  {
    auto session = client.sessions.open("my/app");
    auto moved = std::move(session);
    moved.end();
    moved.end();
    CHECK(moved.ended());
    CHECK_THROWS_AS(moved.call({{"x", 1}}), inf::InvalidArgumentError);
  }
  std::size_t deletes = 0;
  for (const auto& r : server.requests()) {
    if (r.method == "DELETE") ++deletes;
  }
  CHECK(deletes == 1);
}

TEST_CASE("assigning a session handle over an open one ends the open one at once", "[sessions]") {
  Router router;
  std::atomic<int> runs{0};
  router.on("POST", "/apps/run", [&runs](const auto&) {
    return Reply::json(200, {{"id", "t" + std::to_string(++runs)}, {"status", 1}});
  });
  router.on("GET", "/tasks/t1/stream",
            ndjson_reply({{{"id", "t1"}, {"status", 10}, {"session_id", "sess_1"}}}));
  router.on("GET", "/tasks/t2/stream",
            ndjson_reply({{{"id", "t2"}, {"status", 10}, {"session_id", "sess_2"}}}));
  router.on("DELETE", "/sessions/sess_1", Reply::status(204));
  router.on("DELETE", "/sessions/sess_2", Reply::status(204));
  ScriptedServer server(router.handler());
  auto client = inf::inference(inf::testing::test_options(server));
  const auto deletes = [&server] {
    std::vector<std::string> paths;
    for (const auto& r : server.requests()) {
      if (r.method == "DELETE") paths.push_back(r.path);
    }
    return paths;
  };
  {
    auto session = client.sessions.open("my/app");
    session = client.sessions.open("my/app");
    CHECK(deletes() == std::vector<std::string>{"/sessions/sess_1"});
    CHECK(session.id() == "sess_2");
    CHECK_FALSE(session.ended());
  }
  CHECK(deletes() == std::vector<std::string>{"/sessions/sess_1", "/sessions/sess_2"});
}

TEST_CASE("opening a session on a server that starts none is an error", "[sessions]") {
  Router router;
  router.on("POST", "/apps/run", Reply::json(200, {{"id", "t1"}, {"status", 1}}));
  router.on("GET", "/tasks/t1/stream", ndjson_reply({{{"id", "t1"}, {"status", 10}}}));
  ScriptedServer server(router.handler());
  CHECK_THROWS_WITH(inf::inference(inf::testing::test_options(server)).sessions.open("my/app"),
                    Catch::Contains("no session"));
}
