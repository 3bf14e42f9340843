#pragma once

// Outgoing HTTP of tools (http tools, hook tools' payloads), sent off the event loop and off the
// agent loop, on threads of its own, through the client library's transport (no redirects
// followed). Requests in flight are cancelled by stop(). URLs and headers are never logged:
// they may carry secrets.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "apps/worker_pool.hpp"
#include "inferencesh/transport.hpp"
#include "support/logger.hpp"

namespace infsh::local {

struct ToolHttpResult {
  int status = 0;     ///< 0 when no response came
  std::string body;   ///< at most ToolRequests::kMaxBodyBytes
  std::string error;  ///< why no response came
};

class ToolRequests {
 public:
  /// A response body larger than this fails the request (a tool result is text for an LLM).
  static constexpr std::uint64_t kMaxBodyBytes = std::uint64_t{4} * 1024 * 1024;

  ToolRequests(std::shared_ptr<inferencesh::Transport> transport, std::size_t threads,
               std::chrono::milliseconds timeout, const Logger& log);
  ~ToolRequests();
  ToolRequests(const ToolRequests&) = delete;
  ToolRequests& operator=(const ToolRequests&) = delete;

  /// Sends `request` (its timeout set here) and calls `done` with what came back, on one of
  /// this object's threads; at once with an error after stop().
  void send(inferencesh::HttpRequest request, const std::function<void(ToolHttpResult)>& done);

  /// Cancels what is in flight and joins the threads. Idempotent.
  void stop();

 private:
  std::shared_ptr<inferencesh::Transport> transport_;
  std::chrono::milliseconds timeout_;
  inferencesh::CancellationToken cancel_;
  WorkerPool pool_;
};

}  // namespace infsh::local
