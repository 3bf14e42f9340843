#include <catch2/catch.hpp>

#include "inferencesh/errors.hpp"
#include "inferencesh/run_params.hpp"
#include "task_operations.hpp"

namespace inf = inferencesh;
namespace detail = inferencesh::detail;
using nlohmann::json;

namespace {

std::string refusal(const json& params) {
  try {
    detail::prepare_run_body(params);
  } catch (const inf::InvalidArgumentError& e) {
    return e.what();
  }
  return "(accepted)";
}

detail::StreamEvent event(detail::StreamEvent::Kind kind, json data, std::string name = {}) {
  detail::StreamEvent e;
  e.kind = kind;
  e.data = std::move(data);
  e.event = std::move(name);
  return e;
}

}  // namespace

TEST_CASE("run params pass through with extra keys, and a missing input becomes {}", "[tasks]") {
  const auto body = detail::prepare_run_body(
      {{"app", "infsh/echo"}, {"worker_selection_mode", "fast"}, {"setup", {{"m", 1}}}});
  CHECK(body["app"] == "infsh/echo");
  CHECK(body["input"] == json::object());
  CHECK(body["worker_selection_mode"] == "fast");
  CHECK(body["setup"] == json{{"m", 1}});
}

TEST_CASE("run params without an app are refused before any request", "[tasks]") {
  CHECK_THAT(refusal({{"input", json::object()}}), Catch::Contains("\"app\" is required"));
  CHECK_THAT(refusal({{"app", ""}}), Catch::Contains("\"app\" is required"));
  CHECK_THAT(refusal(json::array()), Catch::Contains("must be a JSON object"));
}

TEST_CASE("session_timeout outside 1..3600 is refused and says the range", "[tasks]") {
  CHECK_THAT(refusal({{"app", "a"}, {"session", "new"}, {"session_timeout", 0}}),
             Catch::Contains("between 1 and 3600") && Catch::Contains("got 0"));
  CHECK_THAT(refusal({{"app", "a"}, {"session", "new"}, {"session_timeout", 3601}}),
             Catch::Contains("between 1 and 3600"));
  CHECK_THAT(refusal({{"app", "a"}, {"session", "new"}, {"session_timeout", "60"}}),
             Catch::Contains("integer"));
  CHECK(refusal({{"app", "a"}, {"session", "new"}, {"session_timeout", 1}}) == "(accepted)");
  CHECK(refusal({{"app", "a"}, {"session", "new"}, {"session_timeout", 3600}}) == "(accepted)");
}

TEST_CASE("session_timeout without a new session is refused", "[tasks]") {
  CHECK_THAT(refusal({{"app", "a"}, {"session_timeout", 60}}),
             Catch::Contains("only valid together with session: \"new\""));
  CHECK_THAT(refusal({{"app", "a"}, {"session", "sess_1"}, {"session_timeout", 60}}),
             Catch::Contains("only valid together with session: \"new\""));
}

TEST_CASE("typed RunParams convert to the same body as JSON params", "[tasks]") {
  inf::RunParams params;
  params.app = "infsh/echo";
  params.input = {{"x", 1}};
  params.setup = json{{"model", "m"}};
  params.infra = "cloud";
  params.variant = "default";
  params.function = "run";
  params.webhook = "https://hook";
  params.session = "new";
  params.session_timeout = 300;
  params.extra = {{"worker_selection_mode", "x"}};
  const json body = params;
  CHECK(body == json{{"app", "infsh/echo"},
                     {"input", {{"x", 1}}},
                     {"setup", {{"model", "m"}}},
                     {"infra", "cloud"},
                     {"variant", "default"},
                     {"function", "run"},
                     {"webhook", "https://hook"},
                     {"session", "new"},
                     {"session_timeout", 300},
                     {"worker_selection_mode", "x"}});
  inf::RunParams bare;
  bare.app = "a";
  CHECK(json(bare) == json{{"app", "a"}, {"input", json::object()}});
}

TEST_CASE("task calls use the right method and path and encode the id", "[tasks]") {
  CHECK(detail::get_task_call("t1").path == "/tasks/t1");
  CHECK(detail::get_task_call("t1").method == "GET");
  CHECK(detail::cancel_task_call("t1").path == "/tasks/t1/cancel");
  CHECK(detail::cancel_task_call("t1").method == "POST");
  CHECK(detail::task_status_call("a/b").path == "/tasks/a%2Fb/status");
  CHECK(detail::task_stream_path("t1") == "/tasks/t1/stream");
  CHECK(detail::run_task_call(json::object(), "").path == "/apps/run");
  CHECK_THROWS_AS(detail::get_task_call(""), inf::InvalidArgumentError);
}

TEST_CASE("a response payload without a task id is a decode error", "[tasks]") {
  CHECK(detail::task_from_payload({{"id", "t1"}, {"status", 1}}, "x").id == "t1");
  CHECK_THROWS_AS(detail::task_from_payload({{"status", 1}}, "x"), inf::DecodeError);
  CHECK_THROWS_AS(detail::task_from_payload(nullptr, "x"), inf::DecodeError);
}

TEST_CASE("merging keeps earlier fields and applies full and partial updates", "[tasks]") {
  using Kind = detail::StreamEvent::Kind;
  json task = {{"id", "t1"}, {"status", 1}, {"session_id", "sess_1"}};
  CHECK(detail::merge_task_event(task, event(Kind::object, {{"id", "t1"}, {"status", 7}})));
  CHECK(task["status"] == 7);
  CHECK(task["session_id"] == "sess_1");
  CHECK(detail::merge_task_event(task, event(Kind::partial, {{"output", {{"step", 1}}}})));
  CHECK(task["output"] == json{{"step", 1}});
  CHECK(task["status"] == 7);
  // The same values again change nothing.
  CHECK_FALSE(detail::merge_task_event(task, event(Kind::object, {{"id", "t1"}, {"status", 7}})));
}

TEST_CASE("deltas and heartbeats never become task state", "[tasks]") {
  using Kind = detail::StreamEvent::Kind;
  json task = {{"id", "t1"}, {"status", 7}};
  const json before = task;
  CHECK_FALSE(detail::merge_task_event(
      task, event(Kind::typed, {{"delta", {{"response", "He"}}}, {"seq", 1}}, "delta")));
  CHECK_FALSE(detail::merge_task_event(task, event(Kind::heartbeat, nullptr)));
  CHECK(task == before);
}
