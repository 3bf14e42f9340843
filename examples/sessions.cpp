// Sessions keep a warm app instance across calls, with its state.
//
// Python:  result = client.tasks.run({..., "session": "new"}); session_id = result["session_id"]
#include <iostream>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;

int main() try {
  auto client = inf::inference();

  // Start a new session with a 5-minute idle timeout; continue it with its id.
  inf::Task first = client.tasks.run({{"app", "infsh/counter"},
                                      {"input", nlohmann::json::object()},
                                      {"session", "new"},
                                      {"session_timeout", 300}});
  std::cout << "Session ID: " << first.session_id << ", output " << first.output.dump() << "\n";
  inf::Task second = client.tasks.run({{"app", "infsh/counter"},
                                       {"input", nlohmann::json::object()},
                                       {"session", first.session_id}});
  std::cout << "same session again: output " << second.output.dump() << "\n";

  inf::Session info = client.sessions.get(first.session_id);
  std::cout << "status " << info.status << ", " << info.call_count << " calls, expires at "
            << info.expires_at << "\n";
  client.sessions.end(first.session_id);

  // A call in an ended session fails with a typed error.
  try {
    client.tasks.run({{"app", "infsh/counter"}, {"session", first.session_id}});
  } catch (const inf::ApiError& e) {
    std::cout << "after end: " << e.what() << "\n";
  }

  // Or let a handle end the session when it goes out of scope.
  {
    auto session = client.sessions.open("infsh/counter");
    std::cout << "handle " << session.id() << ": " << session.first_result().output.dump();
    std::cout << " then " << session.call({}).output.dump() << " then "
              << session.call({}).output.dump() << "\n";
  }  // ended here
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
