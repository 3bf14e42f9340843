// The async client: one event loop carries every call, each call returns a future that can be
// co_awaited in a coroutine, chained with then(), or waited on with get().
//
// Python:  client = async_inference(api_key="...")
//          result = await client.tasks.run(params)
//          async for update in await client.tasks.run(params, stream=True): ...
#include <iostream>
#include <string>
#include <vector>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

namespace {

// A coroutine: each co_await suspends it until the call's future is ready, without holding a
// thread; it then goes on on the client's loop thread. (JSON and options are built before the
// co_await expressions: GCC 12 cannot compile a braced list inside one.)
inf::future<void> tour(inf::AsyncClient client) {
  const nlohmann::json params = {{"app", "infsh/echo"}, {"input", {{"key", "value"}}}};
  const nlohmann::json progress = {{"app", "infsh/progress"},
                                   {"input", {{"steps", 3}, {"delay_ms", 150}}}};

  // Simple usage: wait for completion.
  inf::Task result = co_await client.tasks.run(params);
  std::cout << "Output: " << result.output.dump() << "\n";

  // Return at once without waiting.
  const inf::RunOptions no_wait{.wait = false};
  inf::Task task = co_await client.tasks.run(progress, no_wait);
  std::cout << "Created: " << task.id << " (status " << task.status << ")\n";

  // Stream updates: each next() is a future of the next update, nullopt after the last one.
  auto updates = client.tasks.run(progress, inf::stream);
  while (auto update = co_await updates.next()) {
    std::cout << "Status: " << update->status << "\n";
    if (update->status == inf::TaskStatus::completed) {
      std::cout << "Output: " << update->output.dump() << "\n";
    }
  }

  // Task management.
  inf::Task now = co_await client.tasks.get(task.id);
  std::cout << "get: " << now.id << " status " << now.status << "\n";
  inf::Task done = co_await client.tasks.wait_for_completion(task.id);
  std::cout << "wait_for_completion: status " << done.status << ", output " << done.output.dump()
            << "\n";

  const nlohmann::json slow = {{"app", "infsh/progress"},
                               {"input", {{"steps", 50}, {"delay_ms", 100}}}};
  inf::Task long_task = co_await client.tasks.run(slow, no_wait);
  co_await client.tasks.cancel(long_task.id);
  try {
    co_await client.tasks.wait_for_completion(long_task.id);
  } catch (const inf::CancelledError& e) {
    std::cout << "cancel: " << long_task.id << " -> " << e.what() << "\n";
  }

  // Stream an existing task.
  inf::Task queued = co_await client.tasks.run(progress, no_wait);
  auto stream = client.tasks.stream(queued.id);
  while (auto update = co_await stream.next()) {
    std::cout << "Update: status " << update->status << "\n";
  }
  std::cout << "Final result: " << stream.result().output.dump() << "\n";
}

}  // namespace

int main() try {
  auto client = inf::async_inference();  // INFERENCE_API_KEY and INFERENCE_API_BASE_URL

  // get() from main: blocks this thread until the coroutine is done; the loop runs on its own.
  tour(client).get();

  // Without coroutines: then() chains continuations, which run on the loop thread.
  const nlohmann::json params = {{"app", "infsh/echo"}, {"input", {{"text", "chained"}}}};
  auto length = client.tasks.run(params)
                    .then([](const inf::Task& done) { return done.output.value("text", ""); })
                    .then([](const std::string& text) { return text.size(); });
  std::cout << "then(): the echoed text has " << length.get() << " characters\n";

  // Many calls in flight on one loop thread, waited on together.
  std::vector<inf::future<inf::Task>> runs;
  runs.reserve(5);
  for (int i = 0; i < 5; ++i) {
    runs.push_back(client.tasks.run({{"app", "infsh/echo"}, {"input", {{"i", i}}}}));
  }
  for (auto& run : runs) std::cout << "echo " << run.get().output.dump() << "\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
