#include "chats/chat_records.hpp"

#include <array>
#include <stdexcept>
#include <type_traits>

#include "support/time_format.hpp"

namespace infsh::local {

using nlohmann::json;

namespace {

constexpr auto kChatStatuses =
    std::to_array<std::string_view>({"idle", "busy", "awaiting_input", "completed"});
constexpr auto kMessageStatuses =
    std::to_array<std::string_view>({"pending", "ready", "failed", "cancelled", "queued"});
constexpr auto kRoles = std::to_array<std::string_view>({"system", "user", "assistant", "tool"});
constexpr auto kInvocationStatuses =
    std::to_array<std::string_view>({"pending", "in_progress", "awaiting_input",
                                     "awaiting_approval", "completed", "failed", "cancelled"});

template <class E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::string_view, N>& names,
                            std::string_view text) noexcept {
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
  if (it != object.end()) return *it;
  return fallback;
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
  if (!value.is_object())
    throw std::invalid_argument(std::string("a stored ") + what + " is not a JSON object");
}

bool is_image(const json& file) { return text_of(file, "content_type").rfind("image/", 0) == 0; }

}  // namespace

std::string_view to_string(ChatStatus status) noexcept {
  return kChatStatuses[static_cast<std::size_t>(status)];
}
std::string_view to_string(MessageStatus status) noexcept {
  return kMessageStatuses[static_cast<std::size_t>(status)];
}
std::string_view to_string(MessageRole role) noexcept {
  return kRoles[static_cast<std::size_t>(role)];
}
std::string_view to_string(InvocationStatus status) noexcept {
  return kInvocationStatuses[static_cast<std::size_t>(status)];
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
      calls.push_back(
          {{"id", invocation.call_id},
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
//
// Each record's stored fields are listed once (`fields(io, record)`); FieldWriter turns them into
// JSON, FieldReader reads them back, tolerating missing fields and wrong types (the fallback).

namespace {

std::optional<ChatStatus> enum_from(std::string_view text, ChatStatus) {
  return chat_status_from(text);
}
std::optional<MessageStatus> enum_from(std::string_view text, MessageStatus) {
  return message_status_from(text);
}
std::optional<MessageRole> enum_from(std::string_view text, MessageRole) {
  return message_role_from(text);
}
std::optional<InvocationStatus> enum_from(std::string_view text, InvocationStatus) {
  return invocation_status_from(text);
}

class FieldWriter {
 public:
  explicit FieldWriter(json& out) : out_(out) {}
  void operator()(const char* key, const std::string& value) { out_[key] = value; }
  void operator()(const char* key, const json& value, const json& /*fallback*/ = nullptr) {
    out_[key] = value;
  }
  template <class Number>  // bool too
  requires std::is_integral_v<Number>
  void operator()(const char* key, Number value) { out_[key] = value; }
  template <class Enum>
  requires std::is_enum_v<Enum>
  void operator()(const char* key, Enum value, Enum /*fallback*/) { out_[key] = to_string(value); }
  // A nested record, or null.
  template <class Record, class Fields>
  void operator()(const char* key, const std::optional<Record>& value, Fields fields) {
    json nested;
    if (value) {
      FieldWriter writer(nested);
      fields(writer, *value);
    }
    out_[key] = std::move(nested);
  }

 private:
  json& out_;
};

class FieldReader {
 public:
  explicit FieldReader(const json& in) : in_(in) {}
  void operator()(const char* key, std::string& value) { value = text_of(in_, key); }
  void operator()(const char* key, bool& value) {
    const auto it = in_.find(key);
    value = it != in_.end() && it->is_boolean() && it->get<bool>();
  }
  void operator()(const char* key, json& value, json fallback = nullptr) {
    value = value_of(in_, key, std::move(fallback));
  }
  template <class Number>
  requires std::is_integral_v<Number>
  void operator()(const char* key, Number& value) {
    const auto it = in_.find(key);
    value = it != in_.end() && it->is_number_integer() ? it->get<Number>() : Number{0};
  }
  template <class Enum>
  requires std::is_enum_v<Enum>
  void operator()(const char* key, Enum& value, Enum fallback) {
    value = enum_from(text_of(in_, key), fallback).value_or(fallback);
  }
  // A nested record when the field is an object; otherwise none.
  template <class Record, class Fields>
  void operator()(const char* key, std::optional<Record>& value, Fields fields) {
    const auto it = in_.find(key);
    if (it == in_.end() || !it->is_object()) return;
    Record record;
    FieldReader reader(*it);
    fields(reader, record);
    value = std::move(record);
  }

 private:
  const json& in_;
};

// The stored fields of each record: `record` is const when written, mutable when read.
constexpr auto invocation_fields = [](auto& io, auto& invocation) {
  io("id", invocation.id);
  io("chat_id", invocation.chat_id);
  io("message_id", invocation.message_id);
  io("call_id", invocation.call_id);
  io("type", invocation.type);
  io("name", invocation.name);
  io("display_name", invocation.display_name);
  io("arguments", invocation.arguments, json::object());
  io("status", invocation.status, InvocationStatus::failed);
  io("result", invocation.result);
  io("data", invocation.data);
  io("execution_id", invocation.execution_id);
  io("callback_token", invocation.callback_token);
  io("created_at", invocation.created_at);
  io("updated_at", invocation.updated_at);
};

constexpr auto message_fields = [](auto& io, auto& message) {  // not its invocations
  io("id", message.id);
  io("chat_id", message.chat_id);
  io("order", message.order);
  io("status", message.status, MessageStatus::failed);
  io("role", message.role, MessageRole::user);
  io("text", message.text);
  io("reasoning", message.reasoning);
  io("attachments", message.attachments, json::array());
  io("task_id", message.task_id);
  io("error", message.error);
  io("usage", message.usage);
  io("created_at", message.created_at);
  io("updated_at", message.updated_at);
};

constexpr auto turn_fields = [](auto& io, auto& turn) {
  io("user_message_id", turn.user_message_id);
  io("assistant_message_id", turn.assistant_message_id);
  io("steps", turn.steps);
};

constexpr auto chat_fields = [](auto& io, auto& chat) {
  io("id", chat.id);
  io("name", chat.name);
  io("description", chat.description);
  io("status", chat.status, ChatStatus::idle);
  io("parent_id", chat.parent_id);
  io("parent_invocation_id", chat.parent_invocation_id);
  io("depth", chat.depth);
  io("agent_id", chat.agent_id);
  io("agent_version_id", chat.agent_version_id);
  io("agent_config", chat.agent_config, json::object());
  io("output", chat.output);
  io("context", chat.context, json::object());
  io("agent_data", chat.agent_data, json::object());
  io("turn", chat.turn, turn_fields);
  io("created_at", chat.created_at);
  io("updated_at", chat.updated_at);
};

constexpr auto agent_fields = [](auto& io, auto& agent) {
  io("id", agent.id);
  io("namespace", agent.namespace_name);
  io("name", agent.name);
  io("ad_hoc", agent.ad_hoc);
  io("version_id", agent.version_id);
  io("config", agent.config, json::object());
  io("images", agent.images);
  io("created_at", agent.created_at);
  io("updated_at", agent.updated_at);
};

template <class Record, class Fields>
json write_stored(const Record& record, Fields fields) {
  json out = json::object();
  FieldWriter writer(out);
  fields(writer, record);
  return out;
}

// `what` names the record in errors ("a stored chat has no id").
template <class Record, class Fields>
Record read_stored(const json& in, const char* what, Fields fields) {
  require_object(in, what);
  Record record;
  FieldReader reader(in);
  fields(reader, record);
  if (record.id.empty()) {
    throw std::invalid_argument(std::string("a stored ") + what + " has no id");
  }
  return record;
}

}  // namespace

json invocation_to_json(const ToolInvocationRecord& invocation) {
  return write_stored(invocation, invocation_fields);
}
ToolInvocationRecord invocation_from_json(const json& j) {
  return read_stored<ToolInvocationRecord>(j, "tool invocation", invocation_fields);
}

json message_to_json(const MessageRecord& message) { return write_stored(message, message_fields); }
MessageRecord message_from_json(const json& j) {
  return read_stored<MessageRecord>(j, "chat message", message_fields);
}

json chat_to_json(const ChatRecord& chat) { return write_stored(chat, chat_fields); }
ChatRecord chat_from_json(const json& j) { return read_stored<ChatRecord>(j, "chat", chat_fields); }

json agent_to_json(const AgentRecord& agent) { return write_stored(agent, agent_fields); }
AgentRecord agent_from_json(const json& j) {
  return read_stored<AgentRecord>(j, "agent", agent_fields);
}

}  // namespace infsh::local
