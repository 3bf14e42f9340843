#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace inferencesh {

/// Status of a chat. `busy` and `awaiting_input` mean a turn is going on.
enum class ChatStatus { unknown, idle, busy, awaiting_input, completed };
/// Status of a chat message.
enum class MessageStatus { unknown, pending, ready, failed, cancelled, queued };
/// Status of a tool invocation.
enum class ToolInvocationStatus {
  unknown,
  pending,
  in_progress,
  awaiting_input,
  awaiting_approval,
  completed,
  failed,
  cancelled,
};

ChatStatus parse_chat_status(std::string_view text) noexcept;
MessageStatus parse_message_status(std::string_view text) noexcept;
ToolInvocationStatus parse_tool_invocation_status(std::string_view text) noexcept;
std::string_view to_string(ChatStatus status) noexcept;
std::string_view to_string(MessageStatus status) noexcept;
std::string_view to_string(ToolInvocationStatus status) noexcept;

/// One call of a tool by an agent. `id` is the handle for submit_tool_result, approve and
/// reject. `arguments` is always an object: servers send it as an object or as JSON text, and
/// both arrive here parsed (text that is not a JSON object is kept as a string).
struct ToolInvocation {
  std::string id;
  std::string tool_invocation_id;  ///< the model's tool-call id
  std::string chat_message_id;
  std::string type;  ///< client, app, agent, http, hook, mcp, internal
  std::string name;  ///< function.name
  std::string display_name;
  nlohmann::json arguments = nlohmann::json::object();
  ToolInvocationStatus status = ToolInvocationStatus::unknown;
  std::string result;
  std::string execution_id;
  nlohmann::json raw = nlohmann::json::object();

  /// Fields of the wrong type are left empty, never thrown on.
  static ToolInvocation from_json(const nlohmann::json& object);

  /// A client tool waiting for this program's result (status awaiting_input or in_progress).
  bool awaits_client_result() const noexcept;
  /// Waiting for a person to approve or reject it.
  bool awaits_approval() const noexcept {
    return status == ToolInvocationStatus::awaiting_approval;
  }
};

/// The name the official SDKs give a tool call handed to `on_tool_call`.
using ToolCall = ToolInvocation;

/// One part of a message's content: `text`, `reasoning`, `image`, `file` or `tool`.
struct MessageContent {
  std::string type;
  std::string text;
  nlohmann::json raw = nlohmann::json::object();
};

/// A message of a chat. `raw` keeps every field the server sent.
struct ChatMessage {
  std::string id;
  std::string chat_id;
  std::int64_t order = 0;
  MessageStatus status = MessageStatus::unknown;
  std::string role;  ///< user, assistant, system, tool (and others servers add)
  std::vector<MessageContent> content;
  std::vector<ToolInvocation> tool_invocations;
  std::string task_id;
  std::string created_at;
  std::string updated_at;
  nlohmann::json raw = nlohmann::json::object();

  static ChatMessage from_json(const nlohmann::json& object);

  /// The text parts of the content, joined.
  std::string text() const;
  /// ready, failed or cancelled.
  bool is_terminal() const noexcept;
};

/// A chat with an agent. `messages` holds `chat_messages` when the server sent them.
struct Chat {
  std::string id;
  ChatStatus status = ChatStatus::unknown;
  std::string name;
  std::string description;
  std::string parent_id;
  std::string agent_id;
  nlohmann::json output;  ///< what the agent's finish tool returned, else null
  nlohmann::json context;
  nlohmann::json agent_data;
  nlohmann::json active_run;  ///< the current agent run, when the server reports one
  std::vector<ChatMessage> messages;
  std::string created_at;
  std::string updated_at;
  nlohmann::json raw = nlohmann::json::object();

  static Chat from_json(const nlohmann::json& object);

  /// A turn is going on: by `active_run.state` when the chat carries a run (working, submitted,
  /// input_required), else by status (busy, awaiting_input).
  bool is_busy() const noexcept;
};

}  // namespace inferencesh
