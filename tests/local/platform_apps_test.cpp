// The stand-ins for the platform apps that the official SDKs' integration suites call:
// infsh/text-templating and infsh/session-test, with the behaviour those suites assert.

#include <catch2/catch.hpp>

#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

// A refused run request: its status and the `detail` that should name the field.
void check_refused(std::uint16_t port, const json& body, int status, const std::string& names) {
  INFO(body.dump());
  const auto response = http_request(port, "POST", "/apps/run", body.dump());
  CHECK(response.status == status);
  const std::string detail = response.json().value("detail", "");
  INFO(detail);
  CHECK(detail.find(names) != std::string::npos);
}

json session_call(inf::Client& client, const std::string& function, const json& input,
                  const std::string& session, std::string* session_id = nullptr) {
  const inf::Task task = client.tasks.run({{"app", "infsh/session-test"},
                                           {"function", function},
                                           {"input", input},
                                           {"session", session}});
  REQUIRE(task.status == inf::TaskStatus::completed);
  if (session_id != nullptr) *session_id = task.session_id;
  return task.output;
}

}  // namespace

TEST_CASE("infsh/text-templating replaces numbered placeholders with the strings") {
  LocalRuntime local;
  auto client = local.client();
  const auto render = [&](const std::string& text, const json& strings) {
    const inf::Task task =
        client.tasks.run({{"app", "infsh/text-templating@53bk0yzk"},
                          {"input", {{"template", text}, {"strings", strings}}}});
    REQUIRE(task.status == inf::TaskStatus::completed);
    return task.output;
  };
  CHECK(render("Hello {1}!", {"Pytest"}) == json{{"text", "Hello Pytest!"}});
  CHECK(render("{2}, {1} and {2} again", {"one", "two"}) ==
        json{{"text", "two, one and two again"}});
  // Placeholders without a string stay as written; inserted strings are not expanded again.
  CHECK(render("{0}{3}{x}{1}{", {"{2}", "b"}) == json{{"text", "{0}{3}{x}{2}{"}});
  CHECK(render("héllo {1} ✓", {"wörld"}) == json{{"text", "héllo wörld ✓"}});
  CHECK(render("no strings", json::array()) == json{{"text", "no strings"}});
}

TEST_CASE("infsh/text-templating is answered queued before the task completes") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task created =
      client.tasks.run({{"app", "infsh/text-templating@53bk0yzk"},
                        {"input", {{"template", "{1}"}, {"strings", {"Fire and forget"}}}}},
                       {.wait = false});
  CHECK(created.status == inf::TaskStatus::queued);
  CHECK(client.tasks.wait_for_completion(created.id).output == json{{"text", "Fire and forget"}});
}

TEST_CASE("infsh/text-templating refuses input without a template or with strings of other types") {
  LocalRuntime local;
  const auto port = local.port();
  const std::string app = "infsh/text-templating";
  check_refused(port, {{"app", app}, {"input", {{"strings", {"a"}}}}}, 422, "input.template");
  check_refused(port, {{"app", app}, {"input", {{"template", 5}}}}, 422, "input.template");
  check_refused(port, {{"app", app}, {"input", {{"template", "{1}"}, {"strings", "a"}}}}, 422,
                "input.strings");
  check_refused(port, {{"app", app}, {"input", {{"template", "{1}"}, {"strings", {"a", 2}}}}}, 422,
                "input.strings[1]");
}

TEST_CASE("infsh/session-test keeps a key-value store for the life of a session") {
  LocalRuntime local;
  auto client = local.client();
  std::string id;
  CHECK(session_call(client, "set_value", {{"key", "k1"}, {"value", "v1"}}, "new", &id) ==
        json{{"success", true}, {"key", "k1"}, {"value", "v1"}});
  REQUIRE(id.rfind("sess_", 0) == 0);
  CHECK(session_call(client, "set_value", {{"key", "k2"}, {"value", "v2"}}, id) ==
        json{{"success", true}, {"key", "k2"}, {"value", "v2"}});
  CHECK(session_call(client, "get_value", {{"key", "k1"}}, id) ==
        json{{"found", true}, {"key", "k1"}, {"value", "v1"}});
  CHECK(session_call(client, "get_value", {{"key", "nope"}}, id) ==
        json{{"found", false}, {"key", "nope"}, {"value", nullptr}});
  // An unknown key counts from 0; amount defaults to 1.
  CHECK(session_call(client, "increment", {{"key", "n"}, {"amount", 5}}, id) ==
        json{{"key", "n"}, {"previous", 0}, {"current", 5}});
  CHECK(session_call(client, "increment", {{"key", "n"}}, id) ==
        json{{"key", "n"}, {"previous", 5}, {"current", 6}});
  CHECK(session_call(client, "get_all", json::object(), id) ==
        json{{"state", {{"k1", "v1"}, {"k2", "v2"}, {"n", 6}}}, {"call_count", 7}});

  // Another session starts empty, and the first keeps its state.
  std::string other;
  CHECK(session_call(client, "get_all", json::object(), "new", &other) ==
        json{{"state", json::object()}, {"call_count", 1}});
  CHECK(other != id);
  CHECK(session_call(client, "get_value", {{"key", "k2"}}, id).at("value") == "v2");
}

TEST_CASE("infsh/session-test starts a new session empty on a warm instance used before") {
  LocalRuntime local;
  auto client = local.client();
  // A call outside any session leaves its instance warm for the next call, sessions included.
  const inf::Task plain = client.tasks.run({{"app", "infsh/session-test"},
                                            {"function", "set_value"},
                                            {"input", {{"key", "stale"}, {"value", "x"}}}});
  REQUIRE(plain.status == inf::TaskStatus::completed);
  REQUIRE(local.runtime().stats().warm_instances >= 1);
  CHECK(session_call(client, "get_all", json::object(), "new") ==
        json{{"state", json::object()}, {"call_count", 1}});
}

TEST_CASE("infsh/session-test refuses calls that lack what their function needs") {
  LocalRuntime local;
  const auto port = local.port();
  const auto call = [](const std::string& function, const json& input) {
    return json{{"app", "infsh/session-test"}, {"function", function}, {"input", input}};
  };
  check_refused(port, call("set_value", {{"value", "v"}}), 422, "input.key");
  check_refused(port, call("set_value", {{"key", "k"}}), 422, "input.value");
  check_refused(port, call("get_value", {{"key", ""}}), 422, "input.key");
  check_refused(port, call("increment", {{"key", "k"}, {"amount", "5"}}), 422, "input.amount");
  check_refused(port, call("get_all", json::array()), 422, "input");
  check_refused(port, call("reset", json::object()), 404, "reset");
}

TEST_CASE("infsh/session-test fails an increment of a text value, keeping the session") {
  LocalRuntime local;
  auto client = local.client();
  std::string id;
  session_call(client, "set_value", {{"key", "k"}, {"value", "text"}}, "new", &id);
  const inf::Task queued = client.tasks.run({{"app", "infsh/session-test"},
                                             {"function", "increment"},
                                             {"input", {{"key", "k"}}},
                                             {"session", id}},
                                            {.wait = false});
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::TaskFailedError);
  CHECK(client.tasks.get(queued.id).error.find("'k'") != std::string::npos);
  CHECK(session_call(client, "get_value", {{"key", "k"}}, id).at("value") == "text");
}
