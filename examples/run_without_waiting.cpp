// Start a task without waiting, check on it later, wait for it, and cancel another one.
//
// Python:  task = client.tasks.run(params, wait=False); client.tasks.get(task["id"]) ...
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();
  const nlohmann::json params = {{"app", "infsh/progress"},
                                 {"input", {{"steps", 3}, {"delay_ms", 150}}}};

  // Return at once with the created task.
  inf::Task task = client.tasks.run(params, {.wait = false});
  std::cout << "created " << task.id << " (status " << task.status << ")\n";

  // Look at it again later.
  inf::Task now = client.tasks.get(task.id);
  std::cout << "get:    status " << now.status << "\n";

  // Wait for it to finish.
  inf::Task done = client.tasks.wait_for_completion(task.id);
  std::cout << "done:   status " << done.status << ", output " << done.output.dump() << "\n";

  // Cancel a task that is still running.
  inf::Task slow = client.tasks.run(
      {{"app", "infsh/progress"}, {"input", {{"steps", 50}, {"delay_ms", 100}}}}, {.wait = false});
  client.tasks.cancel(slow.id);
  try {
    client.tasks.wait_for_completion(slow.id);
  } catch (const inf::CancelledError& e) {
    std::cout << "cancel: " << slow.id << " -> " << e.what() << " (status " << e.task()->status
              << ")\n";
  }
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
