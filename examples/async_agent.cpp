// An agent on the async client: one event loop carries the turn, a client tool's handler runs
// itself, and a C++20 coroutine co_awaits the answer.
//
// Python:  client = async_inference(api_key="...")
//          agent = client.agents.create("my-org/assistant@abc123")
//          response = await agent.send_message("Hello!")
#include <iostream>
#include <string>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

namespace {

// A coroutine: each co_await hands the thread back until the turn has ended. The conversation
// goes on in the same chat.
inf::future<std::string> conversation(inf::AsyncAgent agent) {
  const inf::AgentResponse hello = co_await agent.send_message("Hello!");
  std::cout << "Template agent: " << hello.text() << "\n";
  const inf::AgentResponse again = co_await agent.send_message("How are you?");
  co_return again.text();
}

}  // namespace

int main() try {
  auto client = inf::async_inference();  // INFERENCE_API_KEY and INFERENCE_API_BASE_URL

  // The seed's snippet: a template agent, awaited.
  auto assistant = client.agents.create("my-org/assistant@abc123");
  const std::string again = conversation(assistant).get();
  std::cout << "Template agent, again: " << again << "\n";

  // An ad-hoc agent with a client tool whose handler runs itself. A blocking handler like this
  // one runs on the client's handler threads, never on the loop; a handler may instead return
  // inf::future<std::string> (and be a coroutine itself).
  inf::Tool weather_tool = inf::tool("get_weather")
                               .description("Get current weather")
                               .params({{"city", inf::string("City name")}})
                               .handler([](const nlohmann::json& args) {
                                 std::cout << "  (handler: weather in " << args.value("city", "?")
                                           << ")\n";
                                 return std::string(R"({"temp": 72, "conditions": "sunny"})");
                               })
                               .build();
  // The LLM: here the local runtime's scripted core, which calls the tool and quotes its result.
  inf::CoreApp core{
      "infsh/scripted-llm",
      {{"steps",
        {{{"text", "Let me check the weather."},
          {"tool_calls", {{{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}},
         {{"text", "In Paris it is {{last_tool_result}}."}}}}}};
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = core,
      .system_prompt = "You are a helpful assistant.",
      .tools = {weather_tool},
  });

  // Callbacks run on the loop thread, in the order of the chat's events.
  inf::SendMessageOptions options;
  options.on_tool_call = [](const inf::ToolCall& call) {
    std::cout << "[Tool: " << call.name << "]\n";
  };
  inf::future<std::string> answer =
      agent.send_message("What's the weather in Paris?", options)
          .then([](const inf::AgentResponse& response) { return response.text(); });
  const std::string text = answer.get();
  std::cout << "Answer: " << text << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
