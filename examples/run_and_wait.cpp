// Run an app and wait for its result: the default way to call an app.
//
// Python:  result = client.tasks.run({"app": ..., "input": {...}})
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();  // INFERENCE_API_KEY and INFERENCE_API_BASE_URL

  inf::Task result = client.tasks.run({
      {"app", "infsh/echo"},
      {"input", {{"prompt", "a lighthouse at dusk"}, {"steps", 4}}},
  });

  std::cout << "Task ID: " << result.id << "\n";
  std::cout << "Status:  " << result.status << "\n";
  std::cout << "Output:  " << result.output.dump() << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
