// Agent against the scripted server: exact request bodies and paths, the turn gate of an
// existing chat, a stream that drops mid-turn (resumed, the chat fetched, no tool run twice),
// events split at every byte, polling, and the pending-call rules.

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <mutex>

#include "inferencesh/inferencesh.hpp"
#include "support/client_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inf::testing::ndjson;
using inf::testing::ndjson_reply;
using inf::testing::RecordedRequest;
using inf::testing::Reply;
using inf::testing::Router;
using inf::testing::ScriptedServer;
using inf::testing::test_options;
using nlohmann::json;

namespace {

json message(const std::string& id, const std::string& role, const std::string& status,
             const std::string& text, int order, json invocations = json::array()) {
  return {{"id", id},
          {"chat_id", "chat_1"},
          {"role", role},
          {"status", status},
          {"order", order},
          {"content", {{{"type", "text"}, {"text", text}}}},
          {"tool_invocations", std::move(invocations)}};
}

json invocation(const std::string& status, const json& arguments = {{"city", "Paris"}}) {
  return {{"id", "tinv_1"},
          {"type", "client"},
          {"status", status},
          {"function", {{"name", "get_weather"}, {"arguments", arguments}}}};
}

json chat(const std::string& status, json messages = json::array()) {
  return {{"id", "chat_1"}, {"status", status}, {"chat_messages", std::move(messages)}};
}

json event(const std::string& name, const json& data) { return {{"event", name}, {"data", data}}; }

json run_answer(const std::string& user_id = "msg_u1", const std::string& assistant_id = "msg_a1",
                int order = 0) {
  return {{"user_message", message(user_id, "user", "ready", "hi", order)},
          {"assistant_message", message(assistant_id, "assistant", "pending", "", order + 1)}};
}

std::vector<RecordedRequest> requests_to(const ScriptedServer& server, const std::string& method,
                                         const std::string& path) {
  std::vector<RecordedRequest> found;
  for (auto& request : server.requests()) {
    if (request.method == method && request.path == path) found.push_back(request);
  }
  return found;
}

// A simple turn: the assistant answers "done" and the chat goes idle.
Reply answered_stream(const std::string& assistant_id = "msg_a1", int order = 1) {
  return ndjson_reply(
      {event("chats", chat("busy")),
       event("chat_messages", message(assistant_id, "assistant", "ready", "done", order)),
       event("chats", {{"id", "chat_1"}, {"status", "idle"}})});
}

}  // namespace

TEST_CASE(
    "agent run requests carry exactly the template ref or the ad-hoc config without handlers") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("idle")));
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));

  SECTION("template, new chat then existing chat") {
    auto agent = client.agents.create("my-org/assistant@abc123", {.context = {{"user", "ada"}}});
    const auto first = agent.send_message("Hello!", {.wait = false});
    CHECK(agent.chat_id() == "chat_1");
    CHECK(first.chat.id == "chat_1");
    CHECK(first.assistant_message.id == "msg_a1");
    agent.send_message("Again", {.wait = false});
    const auto runs = requests_to(server, "POST", "/agents/run");
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].json() == json{{"agent", "my-org/assistant@abc123"},
                                 {"context", {{"user", "ada"}}},
                                 {"input",
                                  {{"text", "Hello!"},
                                   {"role", "user"},
                                   {"context", json::array()},
                                   {"system_prompt", ""},
                                   {"context_size", 0}}}});
    CHECK(runs[1].json().at("chat_id") == "chat_1");
    CHECK(runs[1].json().at("agent") == "my-org/assistant@abc123");
    CHECK(runs[0].header("Content-Type") == "application/json");
  }
  SECTION("ad-hoc: tools as schemas only, every config field") {
    auto agent = client.agents.create(inf::AdHocAgentOptions{
        .core_app = {"infsh/claude-sonnet-4@abc123", {{"model", "m"}}, {{"temperature", 0.2}}},
        .system_prompt = "You are a helpful assistant.",
        .tools = {inf::tool("get_weather")
                      .description("Get current weather")
                      .params({{"city", inf::string("City name")}})
                      .handler([](const json&) { return std::string("{}"); })
                      .build()},
        .name = "weather-bot",
        .description = "Tells the weather",
        .internal_tools = inf::internal_tools().finish().build(),
        .output_schema = {{"type", "object"}},
        .example_prompts = {"Weather in Paris?"},
        .extra_config = {{"skills", json::array()}}});
    agent.send_message("What's the weather in Paris?", {.wait = false});
    const auto runs = requests_to(server, "POST", "/agents/run");
    REQUIRE(runs.size() == 1);
    CHECK(
        runs[0].json() ==
        json{
            {"agent_config",
             {{"core_app",
               {{"ref", "infsh/claude-sonnet-4@abc123"},
                {"setup", {{"model", "m"}}},
                {"input", {{"temperature", 0.2}}}}},
              {"system_prompt", "You are a helpful assistant."},
              {"name", "weather-bot"},
              {"description", "Tells the weather"},
              {"tools",
               {{{"name", "get_weather"},
                 {"display_name", "get_weather"},
                 {"description", "Get current weather"},
                 {"type", "client"},
                 {"client",
                  {{"input_schema",
                    {{"type", "object"},
                     {"properties", {{"city", {{"type", "string"}, {"description", "City name"}}}}},
                     {"required", {"city"}}}}}}}}},
              {"internal_tools", {{"finish", true}}},
              {"output_schema", {{"type", "object"}}},
              {"example_prompts", {"Weather in Paris?"}},
              {"skills", json::array()}}},
            {"agent_name", "weather-bot"},
            {"input",
             {{"text", "What's the weather in Paris?"},
              {"role", "user"},
              {"context", json::array()},
              {"system_prompt", ""},
              {"context_size", 0}}}});
  }
  SECTION("an ad-hoc agent needs a core app") {
    CHECK_THROWS_AS(client.agents.create(inf::AdHocAgentOptions{.system_prompt = "x"}),
                    inf::InvalidArgumentError);
  }
}

TEST_CASE("tool results, approvals, always-allow and stop go to their paths with their bodies") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("POST", "*", Reply::json(200, {{"data", nullptr}}));
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));
  auto agent = client.agents.create("a/b@1");
  agent.stop_chat();
  agent.always_allow("tinv_1", "get_weather");
  CHECK(server.request_count() == 0);  // no chat: nothing sent
  agent.send_message("hi", {.wait = false});
  agent.submit_tool_result("tinv_1", "done");
  agent.submit_tool_result(
      "tinv_2", inf::ToolAction{{{"type", "confirm"}, {"payload", {{"a", 1}}}}, {{"ok", true}}});
  agent.approve("tinv_3");
  agent.reject("tinv_4", "too risky");
  agent.always_allow("tinv_5", "get_weather");
  agent.stop_chat();
  const auto requests = server.requests();
  REQUIRE(requests.size() == 7);
  CHECK(requests[1].path == "/tools/tinv_1");
  CHECK(requests[1].json() == json{{"result", "done"}});
  CHECK(requests[2].path == "/tools/tinv_2");
  CHECK(json::parse(requests[2].json().at("result").get<std::string>()) ==
        json{{"action", {{"type", "confirm"}, {"payload", {{"a", 1}}}}},
             {"form_data", {{"ok", true}}}});
  CHECK(requests[3].path == "/tools/tinv_3/invoke");
  CHECK(requests[3].body.empty());
  CHECK(requests[4].path == "/tools/tinv_4/reject");
  CHECK(requests[4].json() == json{{"reason", "too risky"}});
  CHECK(requests[5].path == "/chats/chat_1/tools/tinv_5/always-allow");
  CHECK(requests[5].json() == json{{"tool_name", "get_weather"}});
  CHECK(requests[6].path == "/chats/chat_1/stop");
  agent.reset();
  agent.stop_chat();
  CHECK(server.request_count() == 7);
}

TEST_CASE(
    "for an existing chat the stream opens before the message is sent, and an idle snapshot does "
    "not end the turn") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()))
      .on("POST", "/agents/run", Reply::json(200, run_answer("msg_u2", "msg_a2", 2)));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  router.on("GET", "/chats/chat_1/stream", answered_stream())
      .on("GET", "/chats/chat_1/stream",
          ndjson_reply(
              {event("chats", {{"id", "chat_1"}, {"status", "idle"}}),
               event("chat_messages", message("msg_a2", "assistant", "ready", "second", 3)),
               event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));
  auto agent = client.agents.create("a/b@1");
  CHECK(agent.send_message("one").text() == "done");
  const std::size_t before = server.request_count();
  const auto reply = agent.send_message("two");
  CHECK(reply.text() == "second");
  const auto requests = server.requests();
  REQUIRE(requests.size() == before + 2);
  CHECK(requests[before].path == "/chats/chat_1/stream");
  CHECK(requests[before].header("Accept") == "application/x-ndjson");
  CHECK(requests[before + 1].path == "/agents/run");
}

TEST_CASE("a stream that drops mid-turn is resumed, the chat fetched, and the tool runs once") {
  std::atomic<int> handler_calls{0};
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  const json waiting =
      message("msg_a1", "assistant", "ready", "Let me check.", 1, {invocation("awaiting_input")});
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy", {waiting})));
  router
      .on("GET", "/chats/chat_1/stream",
          Reply::status(200)
              .header("Content-Type", "application/x-ndjson")
              .chunked()
              .send(ndjson({event("chat_messages", waiting),
                            event("chats", {{"id", "chat_1"}, {"status", "awaiting_input"}})}))
              .drop())
      .on("GET", "/chats/chat_1/stream",
          ndjson_reply(
              {event("chat_messages", waiting),
               event("chat_messages", message("msg_a1", "assistant", "ready", "Let me check.", 1,
                                              {invocation("completed")})),
               event("chat_messages", message("msg_a2", "assistant", "ready", "Sunny.", 2)),
               event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
  router.on("POST", "/tools/tinv_1", Reply::json(200, {{"data", nullptr}}));
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = "x/llm@1",
      .tools = {inf::tool("get_weather")
                    .handler([&](const json& args) {
                      ++handler_calls;
                      return "sunny in " + args.at("city").get<std::string>();
                    })
                    .build()}});
  const auto reply = agent.send_message("Weather?");
  CHECK(reply.text() == "Sunny.");
  CHECK(handler_calls == 1);
  const auto results = requests_to(server, "POST", "/tools/tinv_1");
  REQUIRE(results.size() == 1);
  CHECK(results[0].json() == json{{"result", "sunny in Paris"}});
  CHECK(requests_to(server, "GET", "/chats/chat_1/stream").size() == 2);
  // Fetched once after the first open (a new chat) and once after the reconnect.
  CHECK(requests_to(server, "GET", "/chats/chat_1").size() == 2);
}

TEST_CASE(
    "chat events split at every byte give the same turn, and arguments sent as JSON text are "
    "parsed") {
  const json waiting = message("msg_a1", "assistant", "ready", "Checking, caf\xc3\xa9.", 1,
                               {invocation("awaiting_input", R"({"city":"Lyon"})")});
  const std::string body = ndjson(
      {event("chats", chat("busy")), event("chat_messages", waiting), json{{"type", "heartbeat"}},
       event("chats", {{"id", "chat_1"}, {"status", "awaiting_input"}})});
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}}) {
    Router router;
    router.on("POST", "/agents/run", Reply::json(200, run_answer()));
    router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
    router.on("GET", "/chats/chat_1/stream",
              Reply::status(200)
                  .header("Content-Type", "application/x-ndjson")
                  .chunked()
                  .send_split(body, piece)
                  .stall());
    ScriptedServer server(router.handler());
    inf::Client client(test_options(server));
    auto agent = client.agents.create("a/b@1");
    const auto reply = agent.send_message("Weather?");
    REQUIRE(reply.pending_tool_calls.size() == 1);
    CHECK(reply.pending_tool_calls[0].arguments == json{{"city", "Lyon"}});
    CHECK(reply.assistant_message.text() == "Checking, caf\xc3\xa9.");
  }
}

TEST_CASE("deltas accumulate per message into the text streamed so far") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  router.on(
      "GET", "/chats/chat_1/stream",
      ndjson_reply(
          {event("delta",
                 {{"resource_id", "msg_a1"}, {"seq", 1}, {"delta", {{"response", "Hel"}}}}),
           event("delta", {{"seq", 2}, {"delta", {{"response", "ignored"}}}}),
           event("delta",
                 {{"resource_id", "msg_a1"},
                  {"seq", 3},
                  {"delta",
                   {{"response", "lo"},
                    {"reasoning", "r1"},
                    {"tool_calls",
                     {{{"index", 0}, {"function", {{"name", "f"}, {"arguments", "{\"a\""}}}}}}}}}),
           event("delta",
                 {{"resource_id", "msg_a1"},
                  {"seq", 4},
                  {"delta",
                   {{"tool_calls", {{{"index", 0}, {"function", {{"arguments", ":1}"}}}}}}}}}),
           event("chat_messages", message("msg_a1", "assistant", "ready", "Hello", 1)),
           event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));
  auto agent = client.agents.create("a/b@1");
  std::vector<inf::ChatDelta> deltas;
  agent.send_message("hi", {.on_delta = [&](const inf::ChatDelta& d) { deltas.push_back(d); }});
  REQUIRE(deltas.size() == 3);
  CHECK(deltas[0].text == "Hel");
  CHECK(deltas[1].text == "Hello");
  CHECK(deltas[1].reasoning == "r1");
  CHECK(deltas[2].seq == 4);
  CHECK(deltas[2].output.at("tool_calls")[0].at("function") ==
        json{{"name", "f"}, {"arguments", "{\"a\":1}"}});
}

TEST_CASE("polling fetches the chat only when its status changes and dispatches each call once") {
  std::atomic<int> handler_calls{0};
  std::atomic<int> status_calls{0};
  const json waiting =
      message("msg_a1", "assistant", "ready", "Checking", 1, {invocation("awaiting_input")});
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("POST", "/tools/tinv_1", Reply::json(200, {{"data", nullptr}}));
  router.on("GET", "/chats/chat_1/status", [&](const RecordedRequest&) {
    const int n = ++status_calls;
    const char* status = n <= 3 ? "awaiting_input" : "idle";
    return Reply::json(
        200, {{"id", "chat_1"}, {"status", status}, {"updated_at", n <= 3 ? "t1" : "t2"}});
  });
  router
      .on("GET", "/chats/chat_1",
          Reply::json(
              200, chat("awaiting_input", {message("msg_u1", "user", "ready", "hi", 0), waiting})))
      .on("GET", "/chats/chat_1",
          Reply::json(200, chat("idle", {message("msg_u1", "user", "ready", "hi", 0),
                                         message("msg_a1", "assistant", "ready", "Checking", 1,
                                                 {invocation("completed")}),
                                         message("msg_a2", "assistant", "ready", "Sunny.", 2)})));
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));
  auto agent =
      client.agents.create(inf::AdHocAgentOptions{.core_app = "x/llm@1",
                                                  .tools = {inf::tool("get_weather")
                                                                .handler([&](const json&) {
                                                                  ++handler_calls;
                                                                  return std::string("sunny");
                                                                })
                                                                .build()}});
  const auto reply = agent.send_message(
      "hi", {.mode = inf::WaitMode::poll, .poll_interval = std::chrono::milliseconds(2)});
  CHECK(reply.text() == "Sunny.");
  CHECK(handler_calls == 1);
  CHECK(requests_to(server, "POST", "/tools/tinv_1").size() == 1);
  CHECK(status_calls == 4);
  CHECK(requests_to(server, "GET", "/chats/chat_1").size() == 2);
  CHECK(requests_to(server, "GET", "/chats/chat_1/stream").empty());
}

TEST_CASE("a cancelled send_message throws CancelledError promptly") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("busy")));
  router.on("GET", "/chats/chat_1/stream",
            Reply::status(200)
                .header("Content-Type", "application/x-ndjson")
                .chunked()
                .send(ndjson({event("chats", chat("busy"))}))
                .stall());
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));
  auto agent = client.agents.create("a/b@1");
  inf::CancellationToken cancel;
  auto reply = std::async(std::launch::async, [&] {
    return agent.send_message(
        "hi", {.on_chat = [&](const inf::Chat&) { cancel.cancel(); }, .cancel = cancel});
  });
  CHECK_THROWS_AS(reply.get(), inf::CancelledError);
}

TEST_CASE("a blocking agent runs an asynchronous handler and submits its future's result") {
  Router router;
  router.on("POST", "/agents/run", Reply::json(200, run_answer()));
  const json waiting =
      message("msg_a1", "assistant", "ready", "Checking", 1, {invocation("awaiting_input")});
  router.on("GET", "/chats/chat_1", Reply::json(200, chat("awaiting_input", {waiting})));
  router.on("GET", "/chats/chat_1/stream",
            ndjson_reply({event("chat_messages", waiting),
                          event("chats", {{"id", "chat_1"}, {"status", "awaiting_input"}}),
                          event("chats", {{"id", "chat_1"}, {"status", "idle"}})}));
  router.on("POST", "/tools/tinv_1", Reply::json(200, {{"data", nullptr}}));
  ScriptedServer server(router.handler());
  inf::Client client(test_options(server));
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = "x/llm@1",
      .tools = {inf::tool("get_weather")
                    .handler([](const json& args) {
                      return inf::make_ready_future("mild in " +
                                                    args.at("city").get<std::string>());
                    })
                    .build()}});
  CHECK(agent.send_message("Weather?").turn_ended());
  const auto results = requests_to(server, "POST", "/tools/tinv_1");
  REQUIRE(results.size() == 1);
  CHECK(results[0].json() == json{{"result", "mild in Paris"}});
}
