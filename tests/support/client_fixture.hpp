#pragma once

// Shared set-up for tests of the client against the scripted server.

#include <chrono>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "inferencesh/client_options.hpp"
#include "support/scripted_server.hpp"

namespace inferencesh::testing {

inline constexpr const char* kTestApiKey = "sk-test-0123456789abcdef";

/// Options pointing at `server`, with the short backoffs and intervals tests want.
inline ClientOptions test_options(const ScriptedServer& server) {
  ClientOptions options;
  options.api_key = kTestApiKey;
  options.base_url = server.base_url();
  options.request_timeout = std::chrono::seconds(20);
  options.retry.initial_backoff = std::chrono::milliseconds(1);
  options.retry.max_backoff = std::chrono::milliseconds(4);
  options.wait.reconnect_backoff = std::chrono::milliseconds(1);
  options.wait.max_reconnect_backoff = std::chrono::milliseconds(4);
  options.wait.poll_interval = std::chrono::milliseconds(5);
  options.wait.stream_idle_timeout = std::chrono::seconds(20);
  return options;
}

/// NDJSON text: one compact JSON value per line.
inline std::string ndjson(std::initializer_list<nlohmann::json> lines) {
  std::string text;
  for (const auto& line : lines) text += line.dump() + "\n";
  return text;
}

/// A chunked NDJSON reply with each line as its own chunk.
inline Reply ndjson_reply(std::initializer_list<nlohmann::json> lines) {
  auto reply = Reply::status(200).header("Content-Type", "application/x-ndjson").chunked();
  for (const auto& line : lines) reply.send(line.dump() + "\n");
  return reply;
}

}  // namespace inferencesh::testing
