// The task API on the wire: envelopes per client generation, error bodies, streams.

#include <catch2/catch.hpp>

#include "local_runtime_fixture.hpp"

using nlohmann::json;
using namespace infsh::local::testing;

namespace {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
const HeaderList kV2 = {{"X-API-Version", "2"}};

std::string create(LocalRuntime& local, const json& body) {
  const auto response = http_request(local.port(), "POST", "/apps/run", body.dump(), kV2);
  REQUIRE(response.status == 200);
  return response.json().at("id").get<std::string>();
}

json status_of(LocalRuntime& local, const std::string& id) {
  return http_request(local.port(), "GET", "/tasks/" + id + "/status", {}, kV2).json();
}

bool reaches_status(LocalRuntime& local, const std::string& id, int status) {
  return wait_until([&] { return status_of(local, id).at("status") == status; });
}

// Splits an NDJSON body into parsed lines.
std::vector<json> ndjson_lines(const std::string& body) {
  std::vector<json> lines;
  std::size_t start = 0;
  while (start < body.size()) {
    const auto end = body.find('\n', start);
    if (end == std::string::npos) break;
    if (end > start) lines.push_back(json::parse(body.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

void check_error_body(const RawResponse& response, int status) {
  CHECK(response.status == status);
  CHECK(response.header("Content-Type") == "application/json");
  const json body = response.json();
  CHECK(body.at("type") == "about:blank");
  CHECK(body.at("status") == status);
  CHECK(body.at("success") == false);
  CHECK(body.at("title").is_string());
  CHECK(body.at("detail").is_string());
  CHECK(body.at("error").at("code").is_string());
  CHECK(body.at("error").at("message") == body.at("detail"));
}

}  // namespace

TEST_CASE("clients without X-API-Version get the compat envelope") {
  LocalRuntime local;
  const auto response =
      http_request(local.port(), "POST", "/apps/run", R"({"app":"infsh/echo","input":{"a":1}})");
  REQUIRE(response.status == 200);
  const json body = response.json();
  CHECK(body.at("success") == true);
  CHECK(body.at("status") == 200);
  CHECK(body.at("messages") == json::array());
  CHECK(body.at("data").at("input") == json{{"a", 1}});
  CHECK(body.at("data").at("id").is_string());
}

TEST_CASE("clients sending X-API-Version 2 get the bare task") {
  LocalRuntime local;
  const auto response = http_request(local.port(), "POST", "/apps/run",
                                     R"({"app":"infsh/echo","input":{"a":1}})", kV2);
  REQUIRE(response.status == 200);
  const json task = response.json();
  CHECK_FALSE(task.contains("success"));
  CHECK(task.at("status") == 2);
  for (const char* field : {"id", "created_at", "updated_at", "status", "app_id", "function",
                            "input", "output", "setup", "error", "logs", "events", "session_id"}) {
    CHECK(task.contains(field));
  }
}

TEST_CASE("errors carry one body that every client generation reads") {
  LocalRuntime local;
  check_error_body(http_request(local.port(), "GET", "/tasks/task_missing"), 404);
  check_error_body(http_request(local.port(), "GET", "/tasks/task_missing", {}, kV2), 404);
  const auto response = http_request(local.port(), "GET", "/tasks/task_missing");
  CHECK(response.json().at("error").at("code") == "NOT_FOUND");
  CHECK(response.json().at("detail").get<std::string>().find("task_missing") != std::string::npos);
}

TEST_CASE("path parameters are percent-decoded, and a malformed escape in one is kept as written") {
  LocalRuntime local;
  const std::string id = create(local, {{"app", "infsh/echo"}});
  std::string escaped;
  for (const char c : id) escaped += c == '_' ? std::string("%5F") : std::string(1, c);
  CHECK(http_request(local.port(), "GET", "/tasks/" + escaped + "/status").status == 200);
  const auto response = http_request(local.port(), "GET", "/tasks/task%5Fmissing%zz%4");
  check_error_body(response, 404);
  CHECK(response.json().at("detail").get<std::string>().find("'task_missing%zz%4'") !=
        std::string::npos);
}

TEST_CASE("cancel answers data null in the envelope, and null for v2") {
  LocalRuntime local;
  const std::string id = create(local, {{"app", "infsh/echo"}});
  const auto compat = http_request(local.port(), "POST", "/tasks/" + id + "/cancel");
  CHECK(compat.status == 200);
  CHECK(compat.json() ==
        json{{"success", true}, {"status", 200}, {"data", nullptr}, {"messages", json::array()}});
  const auto v2 = http_request(local.port(), "POST", "/tasks/" + id + "/cancel", {}, kV2);
  CHECK(v2.status == 200);
  CHECK(v2.json().is_null());
}

TEST_CASE("the status endpoint gives id, status and updated_at") {
  LocalRuntime local;
  const std::string id = create(local, {{"app", "infsh/echo"}});
  REQUIRE(reaches_status(local, id, 10));
  const json status = status_of(local, id);
  CHECK(status.at("id") == id);
  CHECK(status.at("updated_at").get<std::string>().back() == 'Z');
}

TEST_CASE("a run request without input runs with an empty object, and extra keys are accepted") {
  LocalRuntime local;
  const std::string id =
      create(local, {{"app", "infsh/echo"}, {"worker_selection_mode", "any"}, {"variant", "x"}});
  REQUIRE(reaches_status(local, id, 10));
  const json task = http_request(local.port(), "GET", "/tasks/" + id, {}, kV2).json();
  CHECK(task.at("input") == json::object());
  CHECK(task.at("output") == json::object());
}

TEST_CASE("an app reference may carry a version and a function") {
  LocalRuntime local;
  const std::string id = create(local, {{"app", "infsh/echo@v1:run"}, {"input", {{"k", 2}}}});
  REQUIRE(reaches_status(local, id, 10));
  const json task = http_request(local.port(), "GET", "/tasks/" + id, {}, kV2).json();
  CHECK(task.at("app_id") == "infsh/echo@v1");
  CHECK(task.at("app_version_id") == "v1");
  CHECK(task.at("function") == "run");
}

TEST_CASE("Accept chooses NDJSON or SSE for a task stream") {
  LocalRuntime local;
  const std::string id = create(local, {{"app", "infsh/echo"}, {"input", {{"n", 1}}}});
  REQUIRE(reaches_status(local, id, 10));

  const auto ndjson = http_request(local.port(), "GET", "/tasks/" + id + "/stream", {},
                                   {{"Accept", "application/x-ndjson"}});
  CHECK(ndjson.header("Content-Type") == "application/x-ndjson");
  CHECK(ndjson.header("Transfer-Encoding") == "chunked");
  const auto lines = ndjson_lines(ndjson.body);
  REQUIRE(lines.size() == 1);  // already finished: the final state, then the end
  CHECK(lines[0].at("status") == 10);
  CHECK(lines[0].at("output") == json{{"n", 1}});

  const auto sse = http_request(local.port(), "GET", "/tasks/" + id + "/stream", {},
                                {{"Accept", "text/event-stream"}});
  CHECK(sse.header("Content-Type") == "text/event-stream");
  REQUIRE(sse.body.rfind("data: ", 0) == 0);
  REQUIRE(sse.body.size() > 8);
  CHECK(sse.body.substr(sse.body.size() - 2) == "\n\n");
  CHECK(json::parse(sse.body.substr(6)).at("status") == 10);
}

TEST_CASE(
    "a stream sends the current task first, then full updates, and ends with the final status") {
  LocalRuntime local;
  const std::string id =
      create(local, {{"app", "infsh/progress"}, {"input", {{"steps", 3}, {"delay_ms", 5}}}});
  const auto response = http_request(local.port(), "GET", "/tasks/" + id + "/stream");
  const auto lines = ndjson_lines(response.body);
  REQUIRE(lines.size() >= 2);
  CHECK(lines.front().at("id") == id);
  CHECK(lines.front().at("status").get<int>() <= 7);
  CHECK(lines.back().at("status") == 10);
  CHECK(lines.back().at("output") == json{{"steps_done", 3}});
  for (const auto& line : lines) {
    CHECK(line.contains("session_id"));
    CHECK(line.contains("status"));
    CHECK_FALSE(line.contains("event"));
  }
}

TEST_CASE("an idle stream gets heartbeat lines, and a cancel ends it with the final status") {
  auto options = LocalRuntime::quiet();
  options.heartbeat_interval = std::chrono::milliseconds(20);
  LocalRuntime local(options);
  const std::string id =
      create(local, {{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 60000}}}});
  RawConnection stream(local.port());
  stream.send("GET /tasks/" + id +
              "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/x-ndjson\r\n\r\n");
  const std::string heartbeat = "{\"type\":\"heartbeat\"}\n";
  bool cancelled = false;
  // Reads the whole stream; cancels the task once a heartbeat arrived.
  const auto response = stream.read_stream_until([&](const std::string& body) {
    if (!cancelled && body.find(heartbeat) != std::string::npos) {
      cancelled = true;
      http_request(local.port(), "POST", "/tasks/" + id + "/cancel");
    }
    return false;
  });
  CHECK(cancelled);
  std::vector<json> lines;
  for (auto& line : ndjson_lines(response.body)) {
    if (!line.contains("type")) lines.push_back(line);
  }
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back().at("status") == 12);
}

TEST_CASE("unknown paths get 404 and wrong methods 405 with Allow") {
  LocalRuntime local;
  check_error_body(http_request(local.port(), "GET", "/no/such/endpoint"), 404);
  const auto wrong = http_request(local.port(), "GET", "/apps/run");
  check_error_body(wrong, 405);
  CHECK(wrong.header("Allow") == "POST");
  check_error_body(http_request(local.port(), "GET", "/tasks/task_missing/stream"), 404);
}

TEST_CASE("a doubled slash after the base URL still reaches the endpoint") {
  LocalRuntime local;
  const std::string id = create(local, {{"app", "infsh/echo"}});
  CHECK(http_request(local.port(), "GET", "//tasks/" + id + "/status").status == 200);
}

TEST_CASE("bad run request bodies are refused with 400 or 422 naming the field") {
  LocalRuntime local;
  struct Case {
    std::string body;
    int status;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {R"({"app":)", 400, "not valid JSON"},
      {"[1,2]", 400, "JSON object"},
      {"{}", 422, "'app'"},
      {R"({"app":42})", 422, "'app'"},
      {R"({"app":"no-slash"})", 422, "'app'"},
      {R"({"app":"infsh/echo","function":7})", 422, "'function'"},
      {R"({"app":"infsh/echo","webhook":1})", 422, "'webhook'"},
      {R"({"app":"infsh/progress","input":{"steps":-1}})", 422, "input.steps"},
      {R"({"app":"infsh/progress","input":{"delay_ms":"slow"}})", 422, "input.delay_ms"},
      {R"({"app":"infsh/progress","input":[1]})", 422, "input"},
      {R"({"app":"infsh/fail","input":{"message":5}})", 422, "input.message"},
      {R"({"app":"infsh/setup-counter"})", 422, "setup"},
      {R"({"app":"infsh/setup-counter","setup":{"model":1}})", 422, "setup.model"},
      {R"({"app":"infsh/echo:nope"})", 404, "nope"},
      {R"({"app":"infsh/echo","session":7})", 422, "'session'"},
      {R"({"app":"infsh/echo","session_timeout":30})", 422, "'session_timeout'"},
      {R"({"app":"infsh/echo","session":"sess_unknown"})", 404, "sess_unknown"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    const auto response = http_request(local.port(), "POST", "/apps/run", c.body);
    check_error_body(response, c.status);
    CHECK(response.json().at("detail").get<std::string>().find(c.mentions) != std::string::npos);
  }
}

TEST_CASE("with an API key, requests need the bearer key, but the health check does not") {
  auto options = LocalRuntime::quiet();
  options.api_key = "s3cret";
  LocalRuntime local(options);
  const auto missing = http_request(local.port(), "POST", "/apps/run", R"({"app":"infsh/echo"})");
  check_error_body(missing, 401);
  CHECK(missing.header("WWW-Authenticate") == "Bearer");
  CHECK(missing.body.find("s3cret") == std::string::npos);
  check_error_body(http_request(local.port(), "POST", "/apps/run", R"({"app":"infsh/echo"})",
                                {{"Authorization", "Bearer s3cre"}}),
                   401);
  CHECK(http_request(local.port(), "POST", "/apps/run", R"({"app":"infsh/echo"})",
                     {{"Authorization", "Bearer s3cret"}})
            .status == 200);
  CHECK(http_request(local.port(), "GET", "/health").status == 200);
}

TEST_CASE("keep-alive connections serve several requests in turn") {
  LocalRuntime local;
  RawConnection connection(local.port());
  for (int i = 0; i < 3; ++i) {
    connection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const auto response = connection.read_response();
    CHECK(response.status == 200);
    CHECK(response.json().at("data").at("status") == "ok");
  }
  CHECK(local.runtime().stats().open_connections == 1);
}
