#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "agent_operations.hpp"
#include "async_loop.hpp"
#include "client_core.hpp"
#include "handler_executor.hpp"
#include "inferencesh/agents.hpp"
#include "inferencesh/future.hpp"

namespace inferencesh::detail {

/// The chat an agent is in, shared by the agent's copies and its turns in flight.
class ChatCell {
 public:
  std::string get() const {
    std::lock_guard lock(mutex_);
    return id_;
  }
  /// Takes the chat a first message started, unless reset() and another message came first.
  void set_if_empty(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (id_.empty()) id_ = id;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    id_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::string id_;
};

/// What a turn on the async loop uses. It holds the loop and the ClientCore, never the
/// AsyncCore, so that the client's destruction shuts the loop down and fails the turn.
struct AsyncTurnContext {
  std::shared_ptr<AsyncLoop> loop;
  std::shared_ptr<const ClientCore> core;
  std::shared_ptr<HandlerExecutor> executor;
  std::shared_ptr<ChatCell> chat;
};

/// Agent::send_message on the async loop, with TurnFollowCore's rules: uploads the attachments
/// on the calling thread, then sends the message and follows the turn on the loop (stream or
/// poll), runs handlers (blocking ones on the executor, asynchronous ones from the loop) and
/// approvals (on the executor), submits their outcomes, and completes the future once the turn
/// ended and its handlers returned. The options' token, the deadline and the loop's shutdown
/// end it with CancelledError / TimeoutError at any stage. Any thread.
future<AgentResponse> send_message_async(const AsyncTurnContext& context,
                                         const AgentDefinition& definition,
                                         const ToolHandlerMap& handlers, const std::string& text,
                                         const SendMessageOptions& options);

}  // namespace inferencesh::detail
