// An agent defined on the fly, with a client tool whose handler runs itself: when the agent
// calls get_weather, the SDK runs the handler and sends its result back.
//
// Python:  weather_tool = tool("get_weather").description(...).params({...}).handler(fn).build()
//          agent = client.agents.create(AdHocAgentOptions(core_app=..., tools=[weather_tool]))
#include <iostream>
#include <set>
#include <string>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();  // INFERENCE_API_KEY and INFERENCE_API_BASE_URL

  // Define a client tool.
  inf::Tool weather_tool = inf::tool("get_weather")
                               .description("Get current weather")
                               .params({{"city", inf::string("City name")}})
                               .handler([](const nlohmann::json& args) {
                                 std::cout << "  (handler: weather in " << args.value("city", "?")
                                           << ")\n";
                                 return std::string(R"({"temp": 72, "conditions": "sunny"})");
                               })
                               .build();

  // The LLM: on the hosted API a model such as "infsh/claude-sonnet-4@abc123"; here the local
  // runtime's scripted core, which calls the tool and then answers with its result.
  inf::CoreApp core{
      "infsh/scripted-llm",
      {{"steps",
        {{{"text", "Let me check the weather."},
          {"tool_calls", {{{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}},
         {{"text", "In Paris it is {{last_tool_result}}."}}}}}};

  // Create ad-hoc agent.
  auto agent = client.agents.create(inf::AdHocAgentOptions{
      .core_app = core,
      .system_prompt = "You are a helpful assistant.",
      .tools = {weather_tool},
  });

  // Tools with handlers are auto-executed. on_message sees every update of a message; each
  // answer is printed once, when it is complete.
  std::set<std::string> printed;
  inf::AgentResponse response = agent.send_message(
      "What's the weather in Paris?",
      {.on_message =
           [&](const inf::ChatMessage& message) {
             if (message.role == "assistant" && message.is_terminal() &&
                 printed.insert(message.id).second) {
               std::cout << message.text() << "\n";
             }
           },
       .on_tool_call =
           [](const inf::ToolCall& call) { std::cout << "[Tool: " << call.name << "]\n"; }});
  std::cout << "Answer: " << response.text() << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
