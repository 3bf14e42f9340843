#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "inferencesh/agents.hpp"
#include "inferencesh/chat.hpp"
#include "inferencesh/future.hpp"

namespace inferencesh {

namespace detail {
class AsyncCore;
class HandlerExecutor;
struct AsyncAgentState;
}  // namespace detail

/// A conversation with an agent on the async client: Agent's methods, each returning a future
/// at once. Made by `async_client.agents.create()`; nothing is sent until the first message.
/// Copies share the conversation (its chat id). One send_message at a time per conversation.
///
///     auto agent = client.agents.create("my-org/assistant@abc123");
///     inf::AgentResponse reply = co_await agent.send_message("Hello!");
///
/// Threads: the callbacks of SendMessageOptions (on_message, on_chat, on_tool_call, on_delta)
/// run on the loop thread. A client tool's handler of the blocking kind, and on_approval, run on
/// a small pool of the client's threads, never on the loop; an asynchronous handler (returning
/// inf::future<std::string>) is called on the loop thread and must not block.
class AsyncAgent {
 public:
  /// Sends a message and follows the turn with Agent::send_message's rules; the future holds
  /// the outcome once the turn ended or waits on this program (pending calls listed). Files are
  /// uploaded first, on the calling thread.
  future<AgentResponse> send_message(const std::string& text, const SendMessageOptions& options);
  // Overloads rather than default arguments: GCC 12 destroys a default argument's temporary
  // twice when the call is the operand of co_await.
  future<AgentResponse> send_message(const std::string& text);

  /// Sends a message, waits for the turn and gives the chat's `output` (null when none).
  future<nlohmann::json> run(const std::string& text, const SendMessageOptions& options);
  future<nlohmann::json> run(const std::string& text);

  /// The chat (default: this agent's) with its messages; nullopt without a chat.
  future<std::optional<Chat>> get_chat() const;
  future<std::optional<Chat>> get_chat(const std::string& chat_id) const;
  /// Stops the chat's current turn; does nothing without a chat.
  future<void> stop_chat() const;
  future<void> stop_chat(const std::string& chat_id) const;

  /// Submits the result of a client tool call.
  future<void> submit_tool_result(const std::string& invocation_id,
                                  const std::string& result) const;
  /// Submits a widget action as the result of a tool call.
  future<void> submit_tool_result(const std::string& invocation_id, const ToolAction& action) const;
  /// Approves a call waiting for approval.
  future<void> approve(const std::string& invocation_id) const;
  /// Refuses a call waiting for approval; the agent is told `reason`.
  future<void> reject(const std::string& invocation_id) const;
  future<void> reject(const std::string& invocation_id, const std::string& reason) const;
  /// Approves the call and every later call of `tool_name` in this chat; nothing without a chat.
  future<void> always_allow(const std::string& invocation_id, const std::string& tool_name) const;

  /// Forgets the chat: the next message starts a new one. Sends nothing.
  void reset();
  /// The current chat's id; empty before the first message was answered.
  std::string chat_id() const;

 private:
  friend class AsyncAgents;
  explicit AsyncAgent(std::shared_ptr<detail::AsyncAgentState> state);
  std::shared_ptr<detail::AsyncAgentState> state_;
};

/// The Agents API of the async client. Reached as `async_client.agents`.
class AsyncAgents {
 public:
  /// An agent from a template, `"namespace/name@version"`.
  AsyncAgent create(const std::string& agent_ref, const TemplateAgentOptions& options) const;
  AsyncAgent create(const std::string& agent_ref) const;
  AsyncAgent create(const char* agent_ref) const { return create(std::string(agent_ref)); }
  /// An ad-hoc agent. Throws InvalidArgumentError without a core_app.
  AsyncAgent create(const AdHocAgentOptions& options) const;

  /// A saved agent by id.
  future<AgentTemplate> get(const std::string& agent_id) const;
  /// Saved agents; `request` is the list request (cursor, limit, filters, ...).
  future<AgentList> list(const nlohmann::json& request) const;
  future<AgentList> list() const;

 private:
  friend class AsyncClient;
  explicit AsyncAgents(std::shared_ptr<detail::AsyncCore> core);
  std::shared_ptr<detail::AsyncCore> core_;
  std::shared_ptr<detail::HandlerExecutor> handlers_;
};

}  // namespace inferencesh
