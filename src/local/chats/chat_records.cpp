#include "chats/chat_records.hpp"

#include <stdexcept>

namespace infsh::local {

using nlohmann::json;

namespace {

constexpr std::string_view kChatStatuses[] = {"idle", "busy", "awaiting_input", "completed"};
constexpr std::string_view kMessageStatuses[] = {"pending", "ready", "failed", "cancelled",
                                                 "queued"};
constexpr std::string_view kRoles[] = {"system", "user", "assistant", "tool"};
constexpr std::string_view kInvocationStatuses[] = {
    "pending", "in_progress", "awaiting_input", "awaiting_approval", "completed", "failed",
    "cancelled"};

template <class E, std::size_t N>
std::optional<E> parse_enum(const std::string_view (&names)[N], std::string_view text) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

json null_if_empty(const std::string& text) { return text.empty() ? json() : json(text); }

std::string text_of(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

json value_of(const json& object, const char* key, json fallback = nullptr) {
  const auto it = object.find(key);
  return it != object.end() ? *it : fallback;
}

// The fields every platform DTO has (BaseModelDTO + PermissionModelDTO).
json base_dto(const std::string& id, const std::string& created_at, const std::string& updated_at) {
  return {{"id", id},
          {"short_id", short_id_of(id)},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"deleted_at", nullptr},
          {"user_id", "local"},
          {"team_id", "local"},
          {"visibility", "private"}};
}

void require_object(const json& value, const char* what) {
  if (!value.is_object()) throw std::invalid_argument(std::string("a stored ") + what +
                                                      " is not a JSON object");
}

bool is_image(const json& file) {
  return text_of(file, "content_type").rfind("image/", 0) == 0;
}

}  // namespace

std::string_view to_string(ChatStatus status) noexcept {
  return kChatStatuses[static_cast<int>(status)];
}
std::string_view to_string(MessageStatus status) noexcept {
  return kMessageStatuses[static_cast<int>(status)];
}
std::string_view to_string(MessageRole role) noexcept { return kRoles[static_cast<int>(role)]; }
std::string_view to_string(InvocationStatus status) noexcept {
  return kInvocationStatuses[static_cast<int>(status)];
}

std::optional<ChatStatus> chat_status_from(std::string_view text) noexcept {
  return parse_enum<ChatStatus>(kChatStatuses, text);
}
std::optional<MessageStatus> message_status_from(std::string_view text) noexcept {
  return parse_enum<MessageStatus>(kMessageStatuses, text);
}
std::optional<MessageRole> message_role_from(std::string_view text) noexcept {
  return parse_enum<MessageRole>(kRoles, text);
}
std::optional<InvocationStatus> invocation_status_from(std::string_view text) noexcept {
  return parse_enum<InvocationStatus>(kInvocationStatuses, text);
}

std::string short_id_of(const std::string& id) {
  const auto underscore = id.find('_');
  const std::size_t start = underscore == std::string::npos ? 0 : underscore + 1;
  return id.substr(0, std::min(id.size(), start + 8));
}

// ---- DTOs ---------------------------------------------------------------------------------------

json to_invocation_dto(const ToolInvocationRecord& invocation) {
  json dto = base_dto(invocation.id, invocation.created_at, invocation.updated_at);
  dto["chat_message_id"] = invocation.message_id;
  dto["tool_invocation_id"] = invocation.call_id;
  dto["type"] = invocation.type;
  dto["display_name"] = invocation.display_name.empty() ? invocation.name : invocation.display_name;
  dto["execution_id"] = null_if_empty(invocation.execution_id);
  dto["function"] = {{"name", invocation.name}, {"arguments", invocation.arguments}};
  dto["status"] = to_string(invocation.status);
  dto["result"] = is_settled(invocation.status) ? json(invocation.result) : json();
  dto["data"] = invocation.data;
  dto["widget"] = nullptr;
  return dto;
}

json to_message_dto(const MessageRecord& message) {
  json dto = base_dto(message.id, message.created_at, message.updated_at);
  dto["chat_id"] = message.chat_id;
  dto["order"] = message.order;
  dto["status"] = to_string(message.status);
  dto["task_id"] = null_if_empty(message.task_id);
  dto["role"] = to_string(message.role);
  json content = json::array();
  if (!message.reasoning.empty()) {
    content.push_back({{"type", "reasoning"}, {"text", message.reasoning}});
  }
  json text = {{"type", "text"}, {"text", message.text}};
  if (!message.invocations.empty()) {
    json calls = json::array();
    for (const auto& invocation : message.invocations) {
      calls.push_back({{"id", invocation.call_id},
                       {"type", "function"},
                       {"function", {{"name", invocation.name}, {"arguments", invocation.arguments}}}});
    }
    text["tool_calls"] = std::move(calls);
  }
  if (!message.error.empty()) text["error"] = message.error;
  content.push_back(std::move(text));
  for (const auto& file : message.attachments) {
    const std::string uri = text_of(file, "uri");
    if (is_image(file)) {
      content.push_back({{"type", "image"}, {"image", uri}});
    } else {
      content.push_back({{"type", "file"}, {"file", uri}});
    }
  }
  dto["content"] = std::move(content);
  dto["tools"] = nullptr;
  dto["tool_call_id"] = nullptr;
  json invocations = json::array();
  for (const auto& invocation : message.invocations) {
    invocations.push_back(to_invocation_dto(invocation));
  }
  dto["tool_invocations"] = std::move(invocations);
  dto["usage"] = message.usage;
  return dto;
}

json to_chat_dto(const ChatRecord& chat, const std::vector<const MessageRecord*>& messages,
                 const AgentRecord* agent) {
  json dto = base_dto(chat.id, chat.created_at, chat.updated_at);
  dto["parent_id"] = null_if_empty(chat.parent_id);
  dto["children"] = json::array();
  dto["status"] = to_string(chat.status);
  dto["output"] = chat.output;
  dto["context"] = chat.context;
  dto["agent_id"] = null_if_empty(chat.agent_id);
  dto["agent"] = agent != nullptr ? to_agent_dto(*agent) : json();
  dto["agent_version_id"] = null_if_empty(chat.agent_version_id);
  dto["name"] = chat.name;
  dto["description"] = chat.description;
  json items = json::array();
  for (const MessageRecord* message : messages) items.push_back(to_message_dto(*message));
  dto["chat_messages"] = std::move(items);
  json data = chat.agent_data.is_object() ? chat.agent_data : json::object();
  if (!data.contains("plan_steps")) data["plan_steps"] = json::array();
  if (!data.contains("memory")) data["memory"] = json::object();
  if (!data.contains("always_allowed_tools")) data["always_allowed_tools"] = json::array();
  dto["agent_data"] = std::move(data);
  return dto;
}

json to_chat_status_dto(const ChatRecord& chat) {
  return {{"id", chat.id}, {"status", to_string(chat.status)}, {"updated_at", chat.updated_at}};
}

json to_agent_dto(const AgentRecord& agent) {
  json dto = base_dto(agent.id, agent.created_at, agent.updated_at);
  dto["namespace"] = agent.namespace_name;
  dto["name"] = agent.name;
  dto["images"] = agent.images;
  dto["version_id"] = agent.version_id;
  json version = {{"id", agent.version_id}, {"agent_id", agent.id}};
  const json& config = agent.config;
  version["description"] = value_of(config, "description", "");
  version["system_prompt"] = value_of(config, "system_prompt", "");
  version["example_prompts"] = value_of(config, "example_prompts", json::array());
  version["core_app"] = value_of(config, "core_app", json::object());
  version["tools"] = value_of(config, "tools", json::array());
  version["skills"] = value_of(config, "skills", json::array());
  version["internal_tools"] = value_of(config, "internal_tools", json::object());
  version["output_schema"] = value_of(config, "output_schema");
  version["hooks"] = value_of(config, "hooks", json::array());
  dto["version"] = std::move(version);
  dto["is_adhoc"] = agent.ad_hoc;
  return dto;
}

// ---- storage ------------------------------------------------------------------------------------

json invocation_to_json(const ToolInvocationRecord& invocation) {
  return {{"id", invocation.id},
          {"chat_id", invocation.chat_id},
          {"message_id", invocation.message_id},
          {"call_id", invocation.call_id},
          {"type", invocation.type},
          {"name", invocation.name},
          {"display_name", invocation.display_name},
          {"arguments", invocation.arguments},
          {"status", to_string(invocation.status)},
          {"result", invocation.result},
          {"data", invocation.data},
          {"execution_id", invocation.execution_id},
          {"callback_token", invocation.callback_token},
          {"created_at", invocation.created_at},
          {"updated_at", invocation.updated_at}};
}

ToolInvocationRecord invocation_from_json(const json& j) {
  require_object(j, "tool invocation");
  ToolInvocationRecord invocation;
  invocation.id = text_of(j, "id");
  invocation.chat_id = text_of(j, "chat_id");
  invocation.message_id = text_of(j, "message_id");
  invocation.call_id = text_of(j, "call_id");
  invocation.type = text_of(j, "type");
  invocation.name = text_of(j, "name");
  invocation.display_name = text_of(j, "display_name");
  invocation.arguments = value_of(j, "arguments", json::object());
  invocation.status =
      invocation_status_from(text_of(j, "status")).value_or(InvocationStatus::failed);
  invocation.result = text_of(j, "result");
  invocation.data = value_of(j, "data");
  invocation.execution_id = text_of(j, "execution_id");
  invocation.callback_token = text_of(j, "callback_token");
  invocation.created_at = text_of(j, "created_at");
  invocation.updated_at = text_of(j, "updated_at");
  if (invocation.id.empty()) throw std::invalid_argument("a stored tool invocation has no id");
  return invocation;
}

json message_to_json(const MessageRecord& message) {
  return {{"id", message.id},
          {"chat_id", message.chat_id},
          {"order", message.order},
          {"status", to_string(message.status)},
          {"role", to_string(message.role)},
          {"text", message.text},
          {"reasoning", message.reasoning},
          {"attachments", message.attachments},
          {"task_id", message.task_id},
          {"error", message.error},
          {"usage", message.usage},
          {"created_at", message.created_at},
          {"updated_at", message.updated_at}};
}

MessageRecord message_from_json(const json& j) {
  require_object(j, "chat message");
  MessageRecord message;
  message.id = text_of(j, "id");
  message.chat_id = text_of(j, "chat_id");
  message.order = value_of(j, "order", 0).is_number_integer() ? j.at("order").get<std::int64_t>()
                                                              : 0;
  message.status = message_status_from(text_of(j, "status")).value_or(MessageStatus::failed);
  message.role = message_role_from(text_of(j, "role")).value_or(MessageRole::user);
  message.text = text_of(j, "text");
  message.reasoning = text_of(j, "reasoning");
  message.attachments = value_of(j, "attachments", json::array());
  message.task_id = text_of(j, "task_id");
  message.error = text_of(j, "error");
  message.usage = value_of(j, "usage");
  message.created_at = text_of(j, "created_at");
  message.updated_at = text_of(j, "updated_at");
  if (message.id.empty()) throw std::invalid_argument("a stored chat message has no id");
  return message;
}

json chat_to_json(const ChatRecord& chat) {
  json turn;
  if (chat.turn) {
    turn = {{"user_message_id", chat.turn->user_message_id},
            {"assistant_message_id", chat.turn->assistant_message_id},
            {"steps", chat.turn->steps}};
  }
  return {{"id", chat.id},
          {"name", chat.name},
          {"description", chat.description},
          {"status", to_string(chat.status)},
          {"parent_id", chat.parent_id},
          {"parent_invocation_id", chat.parent_invocation_id},
          {"depth", chat.depth},
          {"agent_id", chat.agent_id},
          {"agent_version_id", chat.agent_version_id},
          {"agent_config", chat.agent_config},
          {"output", chat.output},
          {"context", chat.context},
          {"agent_data", chat.agent_data},
          {"turn", std::move(turn)},
          {"created_at", chat.created_at},
          {"updated_at", chat.updated_at}};
}

ChatRecord chat_from_json(const json& j) {
  require_object(j, "chat");
  ChatRecord chat;
  chat.id = text_of(j, "id");
  chat.name = text_of(j, "name");
  chat.description = text_of(j, "description");
  chat.status = chat_status_from(text_of(j, "status")).value_or(ChatStatus::idle);
  chat.parent_id = text_of(j, "parent_id");
  chat.parent_invocation_id = text_of(j, "parent_invocation_id");
  chat.depth = value_of(j, "depth", 0).is_number_integer() ? j.at("depth").get<int>() : 0;
  chat.agent_id = text_of(j, "agent_id");
  chat.agent_version_id = text_of(j, "agent_version_id");
  chat.agent_config = value_of(j, "agent_config", json::object());
  chat.output = value_of(j, "output");
  chat.context = value_of(j, "context", json::object());
  chat.agent_data = value_of(j, "agent_data", json::object());
  if (const json turn = value_of(j, "turn"); turn.is_object()) {
    TurnState state;
    state.user_message_id = text_of(turn, "user_message_id");
    state.assistant_message_id = text_of(turn, "assistant_message_id");
    state.steps = value_of(turn, "steps", 0).is_number_integer() ? turn.at("steps").get<int>() : 0;
    chat.turn = std::move(state);
  }
  chat.created_at = text_of(j, "created_at");
  chat.updated_at = text_of(j, "updated_at");
  if (chat.id.empty()) throw std::invalid_argument("a stored chat has no id");
  return chat;
}

json agent_to_json(const AgentRecord& agent) {
  return {{"id", agent.id},
          {"namespace", agent.namespace_name},
          {"name", agent.name},
          {"ad_hoc", agent.ad_hoc},
          {"version_id", agent.version_id},
          {"config", agent.config},
          {"images", agent.images},
          {"created_at", agent.created_at},
          {"updated_at", agent.updated_at}};
}

AgentRecord agent_from_json(const json& j) {
  require_object(j, "agent");
  AgentRecord agent;
  agent.id = text_of(j, "id");
  agent.namespace_name = text_of(j, "namespace");
  agent.name = text_of(j, "name");
  agent.ad_hoc = value_of(j, "ad_hoc", false).is_boolean() && j.at("ad_hoc").get<bool>();
  agent.version_id = text_of(j, "version_id");
  agent.config = value_of(j, "config", json::object());
  agent.images = value_of(j, "images");
  agent.created_at = text_of(j, "created_at");
  agent.updated_at = text_of(j, "updated_at");
  if (agent.id.empty()) throw std::invalid_argument("a stored agent has no id");
  return agent;
}

}  // namespace infsh::local
