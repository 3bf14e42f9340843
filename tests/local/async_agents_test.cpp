// The async client's agents end to end against the local runtime, with infsh/scripted-llm as the
// core: client tools whose handlers run themselves (blocking, asynchronous, throwing), approvals,
// a chat continued and reset, run() with the finish tool's output, polling, many agents' turns on
// one loop, stop, templates through agents.get/list, and a coroutine.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "local_runtime_fixture.hpp"
#include "support/temp_dir.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

inf::AsyncClient async_client(const LocalRuntime& local) {
  return inf::async_inference(local.client_options());
}

// A core that calls `tool` with `arguments`, then quotes what came back.
inf::CoreApp call_then_quote(const std::string& tool, const json& arguments) {
  return {
      "infsh/scripted-llm",
      {{"steps",
        {{{"text", "Let me check."}, {"tool_calls", {{{"name", tool}, {"arguments", arguments}}}}},
         {{"text", "Result: {{last_tool_result}}"}}}}}};
}

inf::ClientToolBuilder weather() {
  return inf::tool("get_weather")
      .description("Get current weather")
      .params({{"city", inf::string("City name")}});
}

}  // namespace

TEST_CASE("an async agent's blocking handler runs itself off the loop and the turn ends",
          "[async][agents]") {
  LocalRuntime local;
  auto client = async_client(local);
  std::atomic<int> calls{0};
  std::thread::id handler_thread;
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = call_then_quote("get_weather", {{"city", "Paris"}}),
                             .tools = {weather()
                                           .handler([&](const json& args) {
                                             ++calls;
                                             handler_thread = std::this_thread::get_id();
                                             return R"({"temp": 72, "city": ")" +
                                                    args.at("city").get<std::string>() + "\"}";
                                           })
                                           .build()}});
  std::vector<std::string> seen_calls;
  std::thread::id loop_thread;
  std::string streamed;
  inf::SendMessageOptions options;
  options.on_tool_call = [&](const inf::ToolCall& call) {
    seen_calls.push_back(call.name);
    loop_thread = std::this_thread::get_id();
  };
  options.on_delta = [&](const inf::ChatDelta& delta) { streamed = delta.text; };
  const inf::AgentResponse reply =
      agent.send_message("What's the weather in Paris?", options).get();
  CHECK(calls == 1);
  CHECK(seen_calls == std::vector<std::string>{"get_weather"});
  CHECK(handler_thread != loop_thread);
  CHECK(reply.turn_ended());
  CHECK(reply.text() == R"(Result: {"temp": 72, "city": "Paris"})");
  CHECK(reply.chat.status == inf::ChatStatus::idle);
  CHECK(streamed == reply.text());
  CHECK_FALSE(agent.chat_id().empty());
  const auto chat = agent.get_chat().get();
  REQUIRE(chat);
  CHECK(chat->id == agent.chat_id());
}

TEST_CASE(
    "an async agent's asynchronous handler chains an app task, and a throwing handler's error "
    "reaches the agent",
    "[async][agents]") {
  LocalRuntime local;
  auto client = async_client(local);
  SECTION("a handler returning a future") {
    auto agent = client.agents.create(inf::AdHocAgentOptions{
        .core_app = call_then_quote("get_weather", {{"city", "Lyon"}}),
        .tools = {weather()
                      .handler([client](const json& args) {
                        json params = {{"app", "infsh/echo"}, {"input", args}};
                        return client.tasks.run(params).then(
                            [](const inf::Task& task) { return task.output.dump(); });
                      })
                      .build()}});
    CHECK(agent.send_message("Weather?").get().text() == R"(Result: {"city":"Lyon"})");
  }
  SECTION("a handler that throws") {
    auto agent = client.agents.create(
        inf::AdHocAgentOptions{.core_app = call_then_quote("get_weather", {{"city", "Oslo"}}),
                               .tools = {weather()
                                             .handler([](const json&) -> std::string {
                                               throw std::runtime_error("weather service down");
                                             })
                                             .build()}});
    CHECK(agent.send_message("Weather?").get().text() ==
          R"(Result: {"error":"weather service down"})");
  }
}

TEST_CASE("async approvals are decided by on_approval, or left pending and given by the program",
          "[async][agents]") {
  LocalRuntime local;
  auto client = async_client(local);
  const auto echo = inf::app_tool("echo", "infsh/echo@latest").require_approval().build();
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = call_then_quote("echo", {{"text", "hello"}}), .tools = {echo}});
  SECTION("on_approval") {
    inf::SendMessageOptions options;
    options.on_approval = [](const inf::ToolInvocation&) {
      return inf::ApprovalDecision::always_allow();
    };
    CHECK(agent.send_message("Echo", options).get().text() == R"(Result: {"text":"hello"})");
    CHECK(agent.get_chat().get()->agent_data.at("always_allowed_tools") == json{"echo"});
  }
  SECTION("pending, then approve(id) and a turn of polls") {
    const auto reply = agent.send_message("Echo").get();
    REQUIRE(reply.pending_approvals.size() == 1);
    agent.approve(reply.pending_approvals[0].id).get();
    CHECK(wait_until([&] {
      return agent.get_chat().get()->messages.back().text() == R"(Result: {"text":"hello"})";
    }));
  }
}

TEST_CASE(
    "async run gives the finish tool's output in stream and poll mode, and a chat continues until "
    "reset",
    "[async][agents]") {
  LocalRuntime local;
  auto client = async_client(local);
  const inf::AdHocAgentOptions finishing{
      .core_app = {"infsh/scripted-llm",
                   {{"steps", {{{"text", "Done."}, {"finish", {{"answer", "{{user_text}}!"}}}}}}}},
      .internal_tools = inf::internal_tools().finish().build(),
      .output_schema = {{"type", "object"},
                        {"properties", {{"answer", {{"type", "string"}}}}},
                        {"required", {"answer"}}}};
  CHECK(client.agents.create(finishing).run("forty-two").get() == json{{"answer", "forty-two!"}});
  inf::SendMessageOptions polled;
  polled.mode = inf::WaitMode::poll;
  CHECK(client.agents.create(finishing).run("seven", polled).get() == json{{"answer", "seven!"}});

  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = {"infsh/scripted-llm", {{"default", {{"text", "You said {{user_text}}"}}}}}});
  CHECK(agent.send_message("one").get().text() == "You said one");
  const std::string first = agent.chat_id();
  CHECK(agent.send_message("two").get().text() == "You said two");
  CHECK(agent.chat_id() == first);
  agent.reset();
  CHECK(agent.send_message("three").get().text() == "You said three");
  CHECK(agent.chat_id() != first);
}

TEST_CASE("many async agents' turns with client tools run at once on one loop", "[async][agents]") {
  LocalRuntime local;
  auto client = async_client(local);
  constexpr int kAgents = 40;
  std::atomic<int> calls{0};
  std::vector<inf::AsyncAgent> agents;
  std::vector<inf::future<inf::AgentResponse>> turns;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(client.agents.create(inf::AdHocAgentOptions{
        .core_app = call_then_quote("get_weather", {{"city", "city " + std::to_string(i)}}),
        .tools = {weather()
                      .handler([&](const json& args) {
                        ++calls;
                        return args.at("city").get<std::string>();
                      })
                      .build()}}));
    turns.push_back(agents.back().send_message("Weather?"));
  }
  for (int i = 0; i < kAgents; ++i) {
    CHECK(turns[static_cast<std::size_t>(i)].get().text() == "Result: city " + std::to_string(i));
  }
  CHECK(calls == kAgents);
}

TEST_CASE("an async stop_chat ends a turn left waiting on a client tool", "[async][agents]") {
  LocalRuntime local;
  auto client = async_client(local);
  auto agent = client.agents.create(
      inf::AdHocAgentOptions{.core_app = call_then_quote("get_weather", {{"city", "Rome"}}),
                             .tools = {weather().build()}});
  agent.stop_chat().get();  // no chat yet: nothing happens
  const auto reply = agent.send_message("Weather?").get();
  REQUIRE(reply.pending_tool_calls.size() == 1);
  agent.stop_chat().get();
  CHECK(wait_until([&] { return agent.get_chat().get()->status == inf::ChatStatus::idle; }));
}

TEST_CASE("async agents.get and list find a template agent, which answers", "[async][agents]") {
  TempDir dir;
  const auto file = dir.path() / "assistant.json";
  std::ofstream(file) << json{{"core_app",
                               {{"ref", "infsh/scripted-llm"},
                                {"setup", {{"default", {{"text", "Hello from the template"}}}}}}}}
                             .dump();
  auto options = LocalRuntime::quiet();
  options.agent_templates.push_back({"my-org/assistant", file.string()});
  LocalRuntime local(options);
  auto client = async_client(local);
  auto agent = client.agents.create("my-org/assistant@abc123");
  CHECK(agent.send_message("Hello!").get().text() == "Hello from the template");
  const inf::AgentList list = client.agents.list().get();
  bool found = false;
  for (const auto& item : list.items) {
    if (item.name == "assistant" && item.namespace_name == "my-org") {
      found = true;
      CHECK(client.agents.get(item.id).get().id == item.id);
    }
  }
  CHECK(found);
}

namespace {

inf::future<std::string> two_turns(inf::AsyncAgent agent) {
  const inf::AgentResponse first = co_await agent.send_message("one");
  const inf::AgentResponse second = co_await agent.send_message("two");
  co_return first.text() + " / " + second.text();
}

}  // namespace

TEST_CASE("a coroutine co_awaits an async agent's turns in sequence", "[async][agents]") {
  LocalRuntime local;
  auto client = async_client(local);
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = {"infsh/scripted-llm", {{"default", {{"text", "You said {{user_text}}"}}}}}});
  CHECK(two_turns(agent).get() == "You said one / You said two");
}
