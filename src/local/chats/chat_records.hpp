#pragma once

// Chats, their messages, tool invocations and agents as the runtime keeps them, and their wire
// forms (ChatDTO, ChatMessageDTO, ToolInvocationDTO, AgentDTO; protocol-agents-tools.md 4).
// Records are plain values; ChatEngine owns them and ChatStore writes them to SQLite.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// ChatStatus values.
enum class ChatStatus { idle, busy, awaiting_input, completed };
/// ChatMessageStatus values (`queued`: sent while the chat was busy, waiting for its turn).
enum class MessageStatus { pending, ready, failed, cancelled, queued };
/// ChatMessageRole values.
enum class MessageRole { system, user, assistant, tool };
/// ToolInvocationStatus values.
enum class InvocationStatus {
  pending,
  in_progress,
  awaiting_input,
  awaiting_approval,
  completed,
  failed,
  cancelled
};

std::string_view to_string(ChatStatus status) noexcept;
std::string_view to_string(MessageStatus status) noexcept;
std::string_view to_string(MessageRole role) noexcept;
std::string_view to_string(InvocationStatus status) noexcept;
/// The value named `text`, or nullopt.
std::optional<ChatStatus> chat_status_from(std::string_view text) noexcept;
std::optional<MessageStatus> message_status_from(std::string_view text) noexcept;
std::optional<MessageRole> message_role_from(std::string_view text) noexcept;
std::optional<InvocationStatus> invocation_status_from(std::string_view text) noexcept;

/// Completed, failed or cancelled: the invocation will not change again.
constexpr bool is_settled(InvocationStatus status) noexcept {
  return status == InvocationStatus::completed || status == InvocationStatus::failed ||
         status == InvocationStatus::cancelled;
}

/// Waiting for someone outside the runtime: a client's result or a user's approval.
constexpr bool is_waiting(InvocationStatus status) noexcept {
  return status == InvocationStatus::awaiting_input ||
         status == InvocationStatus::awaiting_approval;
}

/// The short form of an id, accepted wherever the id is: its type prefix and the first 8
/// characters after it ("chat_1a2b3c4d"), a prefix of the id as the platform's short ids are.
std::string short_id_of(const std::string& id);

/// One call of a tool by the core, and what became of it.
struct ToolInvocationRecord {
  std::string id;  ///< "tinv_…": the handle clients submit results to
  std::string chat_id;
  std::string message_id;  ///< the assistant message whose step made the call
  std::string call_id;     ///< the core's id for the call (tool_invocation_id)
  std::string type;        ///< client, app, agent, http, hook, mcp, internal
  std::string name;        ///< the function name the core called
  std::string display_name;
  nlohmann::json arguments = nlohmann::json::object();
  InvocationStatus status = InvocationStatus::pending;
  std::string result;        ///< the text handed back to the core
  nlohmann::json data;       ///< structured result (an app's output, a finish output), or null
  std::string execution_id;  ///< the task or child chat doing the work, when there is one
  /// A hook waiting for its callback: the token of its callback URL (never in the DTO).
  std::string callback_token;
  std::string created_at;
  std::string updated_at;
};

/// One message of a chat. An assistant message is one step of the core: its text, reasoning
/// and the tool calls it made (as invocations).
struct MessageRecord {
  std::string id;  ///< "msg_…"
  std::string chat_id;
  std::int64_t order = 0;
  MessageStatus status = MessageStatus::pending;
  MessageRole role = MessageRole::user;
  std::string text;
  std::string reasoning;
  /// FileRef objects ({uri, filename, content_type, size?, id?}) sent with a user message.
  nlohmann::json attachments = nlohmann::json::array();
  std::string task_id;   ///< the core's task for an assistant message
  std::string error;     ///< why it failed or was cancelled
  nlohmann::json usage;  ///< the core's LLMUsage for this step, or null
  std::vector<ToolInvocationRecord> invocations;
  std::string created_at;
  std::string updated_at;
};

/// The turn a chat is in, kept with the chat so that a restart can resume it (a turn waiting
/// for a tool result goes on when the result comes) or fail it.
struct TurnState {
  std::string user_message_id;
  std::string assistant_message_id;  ///< the current step's message
  int steps = 0;                     ///< core calls made in this turn
};

struct ChatRecord {
  std::string id;  ///< "chat_…"
  std::string name;
  std::string description;
  ChatStatus status = ChatStatus::idle;
  std::string parent_id;             ///< a sub-agent's chat: its parent's id
  std::string parent_invocation_id;  ///< … and the invocation waiting for it
  int depth = 0;                     ///< 0 for a chat started by a client
  std::string agent_id;
  std::string agent_version_id;
  /// The AgentConfig turns run with (a template's, or the ad-hoc one sent last).
  nlohmann::json agent_config = nlohmann::json::object();
  nlohmann::json output;                              ///< the finish tool's output, or null
  nlohmann::json context = nlohmann::json::object();  ///< the JS `context` map
  nlohmann::json agent_data =
      nlohmann::json::object();   ///< plan_steps, memory, always_allowed_tools
  std::optional<TurnState> turn;  ///< set while a turn is under way
  std::string created_at;
  std::string updated_at;
};

/// An agent: a template (`--agent`, POST /agents) or an ad-hoc config kept under its name.
struct AgentRecord {
  std::string id;              ///< "agent_…"
  std::string namespace_name;  ///< "local" for ad-hoc agents
  std::string name;
  bool ad_hoc = false;
  std::string version_id;                            ///< changes whenever the config does
  nlohmann::json config = nlohmann::json::object();  ///< the AgentConfig
  nlohmann::json images;                             ///< {card, thumbnail, banner} or null
  std::string created_at;
  std::string updated_at;
};

/// What a new message says: its text and its attachments (FileRef objects).
struct TurnInput {
  std::string text;
  nlohmann::json attachments = nlohmann::json::array();
};

/// The agent a chat runs with: its record and its (checked) config.
struct AgentChoice {
  std::string agent_id;
  std::string agent_version_id;
  nlohmann::json config = nlohmann::json::object();
};

/// The ToolInvocationDTO.
nlohmann::json to_invocation_dto(const ToolInvocationRecord& invocation);
/// The ChatMessageDTO, with its tool_invocations.
nlohmann::json to_message_dto(const MessageRecord& message);
/// The ChatDTO; `messages` (in order) become its chat_messages, `agent` its agent when given.
nlohmann::json to_chat_dto(const ChatRecord& chat,
                           const std::vector<const MessageRecord*>& messages,
                           const AgentRecord* agent = nullptr);
/// The ResourceStatusDTO of GET /chats/{id}/status: {id, status, updated_at}.
nlohmann::json to_chat_status_dto(const ChatRecord& chat);
/// The AgentDTO: {id, namespace, name, version_id, version: AgentVersionDTO, …}.
nlohmann::json to_agent_dto(const AgentRecord& agent);

/// How records are kept in the database (the record's own fields, not its DTO), and back.
/// The readers throw std::invalid_argument for JSON that is not such a record.
nlohmann::json invocation_to_json(const ToolInvocationRecord& invocation);
ToolInvocationRecord invocation_from_json(const nlohmann::json& json);
nlohmann::json message_to_json(const MessageRecord& message);  ///< without its invocations
MessageRecord message_from_json(const nlohmann::json& json);
nlohmann::json chat_to_json(const ChatRecord& chat);
ChatRecord chat_from_json(const nlohmann::json& json);
nlohmann::json agent_to_json(const AgentRecord& agent);
AgentRecord agent_from_json(const nlohmann::json& json);

}  // namespace infsh::local
