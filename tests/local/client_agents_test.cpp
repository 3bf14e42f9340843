// client.agents end to end against the local runtime, with infsh/scripted-llm as the core: the
// seed's agents (template, ad-hoc with a handler), every tool type, handler errors, pending
// calls submitted later, approvals, stop, attachments, deltas, polling and finish output.

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "local_runtime_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

// A core that calls `tool` with `arguments`, then quotes what came back.
inf::CoreApp call_then_quote(const std::string& tool, const json& arguments) {
  return {
      "infsh/scripted-llm",
      {{"steps",
        {{{"text", "Let me check."}, {"tool_calls", {{{"name", tool}, {"arguments", arguments}}}}},
         {{"text", "Result: {{last_tool_result}}"}}}}}};
}

inf::Tool weather_tool(inf::ToolHandler handler = {}) {
  auto builder = inf::tool("get_weather")
                     .description("Get current weather")
                     .params({{"city", inf::string("City name")}});
  if (handler) builder.handler(std::move(handler));
  return builder.build();
}

}  // namespace

TEST_CASE(
    "an ad-hoc agent's client tool with a handler runs itself and the turn ends with the answer") {
  LocalRuntime local;
  auto client = local.client();
  std::atomic<int> calls{0};
  std::thread::id handler_thread;
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = call_then_quote("get_weather", {{"city", "Paris"}}),
      .system_prompt = "You are a helpful assistant.",
      .tools = {weather_tool([&](const json& args) {
        ++calls;
        handler_thread = std::this_thread::get_id();
        return R"({"temp": 72, "city": ")" + args.at("city").get<std::string>() + "\"}";
      })}});
  CHECK(agent.chat_id().empty());
  std::vector<std::string> seen_calls;
  std::string streamed;
  const inf::AgentResponse reply = agent.send_message(
      "What's the weather in Paris?",
      {.on_tool_call = [&](const inf::ToolCall& call) { seen_calls.push_back(call.name); },
       .on_delta = [&](const inf::ChatDelta& delta) { streamed = delta.text; }});
  CHECK(calls == 1);
  CHECK(handler_thread != std::this_thread::get_id());
  CHECK(seen_calls == std::vector<std::string>{"get_weather"});
  CHECK(reply.turn_ended());
  CHECK(reply.text() == R"(Result: {"temp": 72, "city": "Paris"})");
  CHECK(reply.assistant_message.status == inf::MessageStatus::ready);
  CHECK(reply.chat.status == inf::ChatStatus::idle);
  CHECK(reply.user_message.text() == "What's the weather in Paris?");
  CHECK(streamed == reply.text());
  CHECK_FALSE(agent.chat_id().empty());
  // The chat holds the invocation completed with the handler's result.
  const auto chat = agent.get_chat();
  REQUIRE(chat);
  bool found = false;
  for (const auto& message : chat->messages) {
    for (const auto& invocation : message.tool_invocations) {
      found = true;
      CHECK(invocation.status == inf::ToolInvocationStatus::completed);
      CHECK(invocation.arguments == json{{"city", "Paris"}});
    }
  }
  CHECK(found);
}

TEST_CASE("a handler that throws submits its message as an error object") {
  LocalRuntime local;
  auto client = local.client();
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = call_then_quote("get_weather", {{"city", "Oslo"}}),
                             .tools = {weather_tool([](const json&) -> std::string {
                               throw std::runtime_error("weather service down");
                             })}});
  const auto reply = agent.send_message("Weather?");
  CHECK(reply.text() == R"(Result: {"error":"weather service down"})");
}

TEST_CASE(
    "a client tool without a handler is returned pending, and its result submitted later finishes "
    "the turn") {
  LocalRuntime local;
  auto client = local.client();
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = call_then_quote("get_weather", {{"city", "Rome"}}), .tools = {weather_tool()}});
  std::vector<inf::ToolCall> notified;
  const auto reply = agent.send_message(
      "Weather?", {.on_tool_call = [&](const inf::ToolCall& c) { notified.push_back(c); }});
  CHECK_FALSE(reply.turn_ended());
  REQUIRE(reply.pending_tool_calls.size() == 1);
  const auto& pending = reply.pending_tool_calls[0];
  CHECK(pending.name == "get_weather");
  CHECK(pending.arguments == json{{"city", "Rome"}});
  CHECK(reply.chat.status == inf::ChatStatus::awaiting_input);
  REQUIRE(notified.size() == 1);
  CHECK(notified[0].id == pending.id);

  auto updates = agent.stream_chat();
  agent.submit_tool_result(pending.id, "cloudy");
  for (const inf::Chat& chat : updates) {
    if (chat.status == inf::ChatStatus::idle) break;
  }
  const auto chat = agent.get_chat();
  REQUIRE(chat);
  CHECK(chat->messages.back().text() == "Result: cloudy");
}

TEST_CASE("a widget action is submitted as its JSON text") {
  LocalRuntime local;
  auto client = local.client();
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = call_then_quote("confirm", json::object()),
                             .tools = {inf::tool("confirm").build()}});
  const auto reply = agent.send_message("Go?");
  REQUIRE(reply.pending_tool_calls.size() == 1);
  auto messages = agent.stream_messages();
  agent.submit_tool_result(reply.pending_tool_calls[0].id,
                           inf::ToolAction{{{"type", "confirm"}}, {{"ok", true}}});
  for (const inf::ChatMessage& message : messages) {
    if (message.role == "assistant" && message.is_terminal() && message.tool_invocations.empty()) {
      CHECK(json::parse(message.text().substr(8)) ==
            json{{"action", {{"type", "confirm"}}}, {"form_data", {{"ok", true}}}});
      break;
    }
  }
}

TEST_CASE(
    "approvals: on_approval approves or rejects, and without it the call is returned pending") {
  LocalRuntime local;
  auto client = local.client();
  const auto echo = inf::app_tool("echo", "infsh/echo@latest").require_approval().build();
  auto make = [&] {
    return client.agents.create(inf::AdHocAgentOptions{
        .core_app = call_then_quote("echo", {{"text", "hello"}}), .tools = {echo}});
  };
  SECTION("approve") {
    auto agent = make();
    std::vector<std::string> asked;
    const auto reply =
        agent.send_message("Echo", {.on_approval = [&](const inf::ToolInvocation& c) {
                             asked.push_back(c.name);
                             return inf::ApprovalDecision::approve();
                           }});
    CHECK(asked == std::vector<std::string>{"echo"});
    CHECK(reply.text() == R"(Result: {"text":"hello"})");
  }
  SECTION("reject") {
    auto agent = make();
    const auto reply = agent.send_message("Echo", {.on_approval = [](const inf::ToolInvocation&) {
                                            return inf::ApprovalDecision::reject("not now");
                                          }});
    CHECK(reply.turn_ended());
    CHECK(reply.text().find("not now") != std::string::npos);
  }
  SECTION("pending, then approve(id)") {
    auto agent = make();
    const auto reply = agent.send_message("Echo");
    REQUIRE(reply.pending_approvals.size() == 1);
    CHECK(reply.pending_tool_calls.empty());
    auto updates = agent.stream_chat();
    agent.approve(reply.pending_approvals[0].id);
    for (const inf::Chat& chat : updates) {
      if (chat.status == inf::ChatStatus::idle) break;
    }
    CHECK(agent.get_chat()->messages.back().text() == R"(Result: {"text":"hello"})");
  }
  SECTION("always_allow") {
    auto agent = make();
    const auto reply = agent.send_message("Echo", {.on_approval = [](const inf::ToolInvocation&) {
                                            return inf::ApprovalDecision::always_allow();
                                          }});
    CHECK(reply.text() == R"(Result: {"text":"hello"})");
    const json allowed = agent.get_chat()->agent_data.at("always_allowed_tools");
    CHECK(allowed == json{"echo"});
  }
}

TEST_CASE("stop_chat ends a turn waiting on a client tool, and without a chat sends nothing") {
  LocalRuntime local;
  auto client = local.client();
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = call_then_quote("get_weather", {{"city", "Rome"}}), .tools = {weather_tool()}});
  agent.stop_chat();  // no chat yet: nothing happens
  const auto reply = agent.send_message("Weather?");
  REQUIRE(reply.pending_tool_calls.size() == 1);
  agent.stop_chat();
  CHECK(wait_until([&] { return agent.get_chat()->status == inf::ChatStatus::idle; }));
  bool cancelled = false;
  const auto chat = agent.get_chat();
  REQUIRE(chat);
  for (const auto& message : chat->messages) {
    for (const auto& invocation : message.tool_invocations) {
      cancelled = invocation.id == reply.pending_tool_calls[0].id &&
                  invocation.status == inf::ToolInvocationStatus::cancelled;
    }
  }
  CHECK(cancelled);
}

TEST_CASE(
    "run returns the finish tool's output, checked against output_schema, in stream and poll "
    "mode") {
  LocalRuntime local;
  auto client = local.client();
  const inf::AdHocAgentOptions options{
      .core_app = {"infsh/scripted-llm",
                   {{"steps", {{{"text", "Done."}, {"finish", {{"answer", "{{user_text}}!"}}}}}}}},
      .internal_tools = inf::internal_tools().finish().build(),
      .output_schema = {{"type", "object"},
                        {"properties", {{"answer", {{"type", "string"}}}}},
                        {"required", {"answer"}}}};
  auto agent = client.agents.create(options);
  CHECK(agent.run("forty-two") == json{{"answer", "forty-two!"}});
  auto polled = client.agents.create(options);
  CHECK(polled.run("seven", {.mode = inf::WaitMode::poll}) == json{{"answer", "seven!"}});
}

TEST_CASE("polling mode follows a turn with a handler to its end") {
  LocalRuntime local;
  auto client = local.client();
  std::atomic<int> calls{0};
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = call_then_quote("get_weather", {{"city", "Paris"}}),
                             .tools = {weather_tool([&](const json&) {
                               ++calls;
                               return std::string("sunny");
                             })}});
  std::vector<inf::ChatStatus> statuses;
  const auto reply = agent.send_message(
      "Weather?", {.on_chat = [&](const inf::Chat& c) { statuses.push_back(c.status); },
                   .mode = inf::WaitMode::poll,
                   .poll_interval = std::chrono::milliseconds(5)});
  CHECK(calls == 1);
  CHECK(reply.text() == "Result: sunny");
  REQUIRE_FALSE(statuses.empty());
  CHECK(statuses.back() == inf::ChatStatus::idle);
}

TEST_CASE("a second message continues the same chat, and reset starts a new one") {
  LocalRuntime local;
  auto client = local.client();
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = {"infsh/scripted-llm", {{"default", {{"text", "You said {{user_text}}"}}}}}});
  CHECK(agent.send_message("one").text() == "You said one");
  const std::string first = agent.chat_id();
  CHECK(agent.send_message("two").text() == "You said two");
  CHECK(agent.chat_id() == first);
  CHECK(agent.get_chat()->messages.size() == 4);
  agent.reset();
  CHECK(agent.chat_id().empty());
  CHECK(agent.send_message("three").text() == "You said three");
  CHECK(agent.chat_id() != first);
}

TEST_CASE("app, agent, http and mcp tools run on the server and their results reach the answer") {
  inferencesh::testing::ScriptedServer api(
      [](const inferencesh::testing::RecordedRequest& request) {
        return inferencesh::testing::Reply::json(200, {{"path", request.path}});
      });
  TempDir dir;
  const auto helper = dir.path() / "helper.json";
  std::ofstream(helper) << json{{"core_app",
                                 {{"ref", "infsh/scripted-llm"},
                                  {"setup", {{"default", {{"text", "helper says hi"}}}}}}}}
                               .dump();
  auto options = LocalRuntime::quiet();
  options.agent_templates.push_back({"acme/helper", helper.string()});
  LocalRuntime local(options);
  auto client = local.client();
  const auto run_tool = [&](const inf::Tool& tool, const json& arguments) {
    auto agent = client.agents.create(inf::AdHocAgentOptions{
        .core_app = call_then_quote(tool.name(), arguments), .tools = {tool}});
    return agent.send_message("go").text();
  };
  CHECK(run_tool(inf::app_tool("echo", "infsh/echo@latest").build(), {{"text", "hi"}}) ==
        R"(Result: {"text":"hi"})");
  CHECK(run_tool(inf::agent_tool("helper", "acme/helper@latest").build(), {{"text", "hi"}}) ==
        "Result: helper says hi");
  CHECK(run_tool(
            inf::http_tool("lookup", api.base_url() + "/lookup").param("q", inf::string()).build(),
            {{"q", "x"}}) == R"(Result: {"path":"/lookup"})");
  const std::string mcp =
      run_tool(inf::mcp_tool("docs", "int_1", "search").build(), json::object());
  CHECK(mcp.find("MCP") != std::string::npos);
}

TEST_CASE("a template agent from infsh-local's catalog answers, and agents.get and list find it") {
  TempDir dir;
  const auto file = dir.path() / "assistant.json";
  std::ofstream(file) << json{{"core_app",
                               {{"ref", "infsh/scripted-llm"},
                                {"setup", {{"default", {{"text", "Hello from the template"}}}}}}}}
                             .dump();
  auto options = LocalRuntime::quiet();
  options.agent_templates.push_back({"my-org/assistant", file.string()});
  LocalRuntime local(options);
  auto client = local.client();
  auto agent = client.agents.create("my-org/assistant@abc123");
  std::string printed;
  agent.send_message("Hello!", {.on_message = [&](const inf::ChatMessage& m) {
                       if (m.role == "assistant") printed = m.text();
                     }});
  CHECK(printed == "Hello from the template");
  const inf::AgentList list = client.agents.list({{"limit", 10}});
  REQUIRE_FALSE(list.items.empty());
  bool found = false;
  for (const auto& item : list.items) {
    if (item.name == "assistant" && item.namespace_name == "my-org") {
      found = true;
      CHECK(client.agents.get(item.id).id == item.id);
    }
  }
  CHECK(found);
}

TEST_CASE("attachments are uploaded first and reach the user message") {
  LocalRuntime local;
  auto client = local.client();
  const inf::FileRef stored = client.files.upload_bytes("stored", {.filename = "a.txt"});
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = {"infsh/scripted-llm", {{"default", {{"text", "ok"}}}}}});
  const auto reply = agent.send_message(
      "look", {.files = {stored, inf::Attachment::bytes("hello", "b.txt", "text/plain")}});
  CHECK(reply.text() == "ok");
  std::set<std::string> files;
  for (const auto& part : reply.user_message.content) {
    if (part.type == "file") files.insert(part.raw.at("file").get<std::string>());
  }
  CHECK(files.size() == 2);
  CHECK(files.count(stored.uri) == 1);
}

TEST_CASE(
    "a webhook tool's result comes back through its callback and the turn goes on to the answer") {
  inferencesh::testing::ScriptedServer hook([](const inferencesh::testing::RecordedRequest&) {
    return inferencesh::testing::Reply::json(200, {{"success", true}});
  });
  LocalRuntime local;
  auto client = local.client();
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = call_then_quote("notify", {{"to", "ops"}}),
                             .tools = {inf::webhook_tool("notify", hook.base_url() + "/hook")
                                           .param("to", inf::string())
                                           .build()}});
  auto reply = std::async(std::launch::async, [&] { return agent.send_message("go"); });
  REQUIRE(hook.wait_for_requests(1, std::chrono::seconds(10)));
  const json payload = hook.requests()[0].json();
  CHECK(payload.at("arguments") == json{{"to", "ops"}});
  const std::string callback = payload.at("callback_url");
  const RawResponse answered =
      http_request(local.port(), "POST", callback.substr(callback.find("/tools/")),
                   R"({"result": "delivered"})");
  CHECK(answered.status == 200);
  CHECK(reply.get().text() == "Result: delivered");
}
