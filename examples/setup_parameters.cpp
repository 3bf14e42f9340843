// Setup parameters configure an app instance (e.g. which model to load). Workers whose setup
// matches are warm and skip setup: the second run with the same setup reuses the instance.
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();

  for (const char* model : {"schnell", "schnell", "dev"}) {
    inf::Task result = client.tasks.run(inf::RunParams{
        .app = "infsh/setup-counter",
        .input = {{"prompt", "hello"}},
        .setup = nlohmann::json{{"model", model}},
    });
    std::cout << "setup model=" << model << " -> output " << result.output.dump() << "\n";
  }
  std::cout << "(setup_calls stays 1 for the repeated model: that instance was warm)\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
