// Follow a task that is already running, then read the final result from the stream.
//
// Python:  with client.tasks.stream(task_id) as stream: ...; stream.result
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();
  inf::Task task = client.tasks.run(
      {{"app", "infsh/progress"}, {"input", {{"steps", 3}, {"delay_ms", 150}}}}, {.wait = false});

  auto stream = client.tasks.stream(task.id);
  for (const inf::Task& update : stream) {
    std::cout << "Status: " << update.status << "\n";
    if (update.status == inf::TaskStatus::completed) {
      std::cout << "Result: " << update.output.dump() << "\n";
      break;
    }
  }
  std::cout << "Final result: " << stream.result().output.dump() << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
