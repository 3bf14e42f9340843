// Stream a task's updates as they happen.
//
// Python:  for update in client.tasks.run(params, stream=True): ...
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();
  const nlohmann::json params = {{"app", "infsh/progress"},
                                 {"input", {{"steps", 4}, {"delay_ms", 150}}}};

  for (const inf::Task& update : client.tasks.run(params, inf::stream)) {
    std::cout << "Status: " << update.status;
    if (!update.logs.empty()) std::cout << "  log: " << update.logs.back().content;
    if (!update.output.is_null()) std::cout << "  output: " << update.output.dump();
    std::cout << "\n";
    if (update.status == inf::TaskStatus::completed) {
      std::cout << "Output: " << update.output.dump() << "\n";
    }
  }

  // A failing app raises TaskFailedError with the app's message.
  try {
    client.tasks.run({{"app", "infsh/fail"}, {"input", {{"message", "out of GPU memory"}}}});
  } catch (const inf::TaskFailedError& e) {
    std::cout << "infsh/fail raised TaskFailedError: " << e.what() << "\n";
  }
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
