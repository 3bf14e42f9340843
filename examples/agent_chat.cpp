// An interactive chat in the terminal: type a message, watch the answer being written, see the
// tools the agent calls. An empty line or "quit" ends it.
//
//   agent_chat                        an ad-hoc agent; its core from the environment:
//                                     AGENT_LLM_URL + AGENT_LLM_MODEL: infsh/openai-chat against
//                                       that OpenAI-compatible endpoint (llama.cpp, Ollama, ...)
//                                     otherwise infsh/scripted-llm, which echoes
//   agent_chat ns/name@version        a template agent of the workspace
//
// With a local model: llama-server -m model.gguf --port 8080 --jinja, then
//   AGENT_LLM_URL=http://127.0.0.1:8080/v1 AGENT_LLM_MODEL=local agent_chat
#include <array>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

inf::Agent make_agent(inf::Client& client, int argc, char** argv) {
  if (argc > 1) return client.agents.create(argv[1]);
  inf::CoreApp core{
      "infsh/scripted-llm",
      {{"chunk_size", 4},
       {"steps",
        {{{"when", {{"user_text_contains", "time"}}},
          {"text", "Let me look at the clock."},
          {"tool_calls", {{{"name", "local_time"}, {"arguments", nlohmann::json::object()}}}}},
         {{"when", {{"tool_result_of", "local_time"}}},
          {"text", "Your clock says {{last_tool_result}}."}}}},
       {"default", {{"text", "You said: {{user_text}}. Ask me the time to see a tool."}}}}};
  if (!env("AGENT_LLM_URL").empty()) {
    core = inf::CoreApp{"infsh/openai-chat",
                        {{"base_url", env("AGENT_LLM_URL")}, {"model", env("AGENT_LLM_MODEL")}}};
  }
  // A client tool: the model may call it, and its handler runs here.
  inf::Tool local_time = inf::tool("local_time")
                             .describe("The current local time of the user's computer")
                             .handler([](const nlohmann::json&) {
                               std::array<char, 64> text{};
                               const std::time_t now = std::time(nullptr);
                               std::tm local{};
                               localtime_r(&now, &local);
                               std::strftime(text.data(), text.size(), "%H:%M", &local);
                               return std::string(text.data());
                             })
                             .build();
  return client.agents.create(inf::AdHocAgentOptions{
      .core_app = core,
      .system_prompt = "You are a friendly assistant. Be brief.",
      .tools = {local_time},
      .name = "terminal-chat",
  });
}

}  // namespace

int main(int argc, char** argv) try {
  auto client = inf::inference();  // INFERENCE_API_KEY and INFERENCE_API_BASE_URL
  inf::Agent agent = make_agent(client, argc, argv);

  std::string line;
  while (std::cout << "you> " << std::flush && std::getline(std::cin, line)) {
    if (line.empty() || line == "quit") break;
    std::string message_id;
    std::size_t printed = 0;
    std::cout << "agent> " << std::flush;
    const inf::AgentResponse reply = agent.send_message(
        line, {.on_tool_call =
                   [](const inf::ToolCall& call) {
                     std::cout << "\n  [tool " << call.name << " " << call.arguments.dump() << "]\n"
                               << "agent> " << std::flush;
                   },
               .on_delta =
                   [&](const inf::ChatDelta& delta) {
                     if (delta.message_id != message_id) {  // a new step of the answer
                       message_id = delta.message_id;
                       printed = 0;
                     }
                     std::cout << delta.text.substr(std::min(printed, delta.text.size()))
                               << std::flush;
                     printed = delta.text.size();
                   }});
    // Whatever was not streamed (a server without deltas) is shown whole.
    if (reply.assistant_message.id != message_id) {
      std::cout << reply.text();
    } else if (printed < reply.text().size()) {
      std::cout << reply.text().substr(printed);
    }
    std::cout << "\n";
  }
  std::cout << "\nChat ID: " << agent.chat_id() << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
