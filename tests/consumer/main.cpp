// Uses the installed SDK: builds a client, parses statuses, and makes one call that must fail
// cleanly because nothing listens on the port (proves libcurl came along at link time).
#include <cstdio>
#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() {
  inf::ClientOptions options;
  options.api_key = "sk-consumer";
  options.base_url = "http://127.0.0.1:9/";  // the discard port: nothing answers
  options.retry.max_retries = 0;
  const auto client = inf::inference(options);
  if (client.base_url() != "http://127.0.0.1:9") return 1;
  if (inf::parse_task_status(10) != inf::TaskStatus::completed) return 2;
  try {
    client.tasks.get("task_1");
    return 3;
  } catch (const inf::ConnectionError& e) {
    std::printf("consumer OK: %s (version %s)\n", e.what(), inf::kVersion);
  }
  return 0;
}
