// Chat with an agent saved in your workspace, by its namespace/name@version, and print its
// answer as it streams. Against infsh-local the template is examples/agents/assistant.json
// (`infsh-local --agent my-org/assistant=examples/agents/assistant.json`).
//
// Python:  agent = client.agents.create("my-org/assistant@abc123")
//          response = agent.send_message("Hello!", on_message=on_message)
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();  // INFERENCE_API_KEY and INFERENCE_API_BASE_URL

  // Create agent from template; nothing is sent until the first message.
  auto agent = client.agents.create("my-org/assistant@abc123");

  // Send a message, printing the answer as it is written.
  std::size_t printed = 0;
  inf::AgentResponse response =
      agent.send_message("Hello!", {.on_delta = [&](const inf::ChatDelta& delta) {
                           std::cout << delta.text.substr(printed) << std::flush;
                           printed = delta.text.size();
                         }});
  std::cout << response.text().substr(printed) << "\n";
  std::cout << "Chat ID: " << agent.chat_id() << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
