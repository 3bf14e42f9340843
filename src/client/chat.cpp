#include "inferencesh/chat.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "common/json_fields.hpp"
#include "common/json_parse.hpp"

namespace inferencesh {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<std::string_view, ChatStatus>, 4> kChatStatuses = {{
    {"idle", ChatStatus::idle},
    {"busy", ChatStatus::busy},
    {"awaiting_input", ChatStatus::awaiting_input},
    {"completed", ChatStatus::completed},
}};
constexpr std::array<std::pair<std::string_view, MessageStatus>, 5> kMessageStatuses = {{
    {"pending", MessageStatus::pending},
    {"ready", MessageStatus::ready},
    {"failed", MessageStatus::failed},
    {"cancelled", MessageStatus::cancelled},
    {"queued", MessageStatus::queued},
}};
constexpr std::array<std::pair<std::string_view, ToolInvocationStatus>, 7> kToolStatuses = {{
    {"pending", ToolInvocationStatus::pending},
    {"in_progress", ToolInvocationStatus::in_progress},
    {"awaiting_input", ToolInvocationStatus::awaiting_input},
    {"awaiting_approval", ToolInvocationStatus::awaiting_approval},
    {"completed", ToolInvocationStatus::completed},
    {"failed", ToolInvocationStatus::failed},
    {"cancelled", ToolInvocationStatus::cancelled},
}};

template <class Enum, std::size_t N>
Enum parse(const std::array<std::pair<std::string_view, Enum>, N>& table, std::string_view text) {
  for (const auto& [name, value] : table) {
    if (name == text) return value;
  }
  return Enum::unknown;
}

template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<std::string_view, Enum>, N>& table,
                         Enum value) {
  for (const auto& [name, entry] : table) {
    if (entry == value) return name;
  }
  return "unknown";
}

// `arguments` as an object: servers write an object or JSON text holding one.
json arguments_of(const json& function) {
  const json* arguments = common::find_field(function, "arguments");
  if (arguments == nullptr) return json::object();
  if (arguments->is_string()) {
    const auto& text = arguments->get_ref<const std::string&>();
    if (text.empty()) return json::object();
    if (auto parsed = common::parse_untrusted_json(text); parsed && parsed->is_object()) {
      return std::move(*parsed);
    }
  }
  return *arguments;
}

template <class T>
std::vector<T> list_of(const json& object, const char* key) {
  std::vector<T> items;
  const json* list = common::find_field(object, key);
  if (list == nullptr || !list->is_array()) return items;
  items.reserve(list->size());
  for (const auto& item : *list) {
    if (item.is_object()) items.push_back(T::from_json(item));
  }
  return items;
}

}  // namespace

ChatStatus parse_chat_status(std::string_view text) noexcept { return parse(kChatStatuses, text); }
MessageStatus parse_message_status(std::string_view text) noexcept {
  return parse(kMessageStatuses, text);
}
ToolInvocationStatus parse_tool_invocation_status(std::string_view text) noexcept {
  return parse(kToolStatuses, text);
}
std::string_view to_string(ChatStatus status) noexcept { return name_of(kChatStatuses, status); }
std::string_view to_string(MessageStatus status) noexcept {
  return name_of(kMessageStatuses, status);
}
std::string_view to_string(ToolInvocationStatus status) noexcept {
  return name_of(kToolStatuses, status);
}

ToolInvocation ToolInvocation::from_json(const json& object) {
  ToolInvocation invocation;
  if (!object.is_object()) return invocation;
  invocation.raw = object;
  invocation.id = common::string_field_or(object, "id");
  invocation.tool_invocation_id = common::string_field_or(object, "tool_invocation_id");
  invocation.chat_message_id = common::string_field_or(object, "chat_message_id");
  invocation.type = common::string_field_or(object, "type");
  invocation.display_name = common::string_field_or(object, "display_name");
  if (const json* function = common::find_field(object, "function");
      function != nullptr && function->is_object()) {
    invocation.name = common::string_field_or(*function, "name");
    invocation.arguments = arguments_of(*function);
  }
  invocation.status = parse_tool_invocation_status(common::string_field_or(object, "status"));
  invocation.result = common::string_field_or(object, "result");
  invocation.execution_id = common::string_field_or(object, "execution_id");
  return invocation;
}

bool ToolInvocation::awaits_client_result() const noexcept {
  return type == "client" && (status == ToolInvocationStatus::awaiting_input ||
                              status == ToolInvocationStatus::in_progress);
}

ChatMessage ChatMessage::from_json(const json& object) {
  ChatMessage message;
  if (!object.is_object()) return message;
  message.raw = object;
  message.id = common::string_field_or(object, "id");
  message.chat_id = common::string_field_or(object, "chat_id");
  message.order = common::integer_field_or(object, "order");
  message.status = parse_message_status(common::string_field_or(object, "status"));
  message.role = common::string_field_or(object, "role");
  if (const json* content = common::find_field(object, "content");
      content != nullptr && content->is_array()) {
    for (const auto& part : *content) {
      if (!part.is_object()) continue;
      message.content.push_back(
          {common::string_field_or(part, "type"), common::string_field_or(part, "text"), part});
    }
  }
  message.tool_invocations = list_of<ToolInvocation>(object, "tool_invocations");
  message.task_id = common::string_field_or(object, "task_id");
  message.created_at = common::string_field_or(object, "created_at");
  message.updated_at = common::string_field_or(object, "updated_at");
  return message;
}

std::string ChatMessage::text() const {
  std::string text;
  for (const auto& part : content) {
    if (part.type == "text") text += part.text;
  }
  return text;
}

bool ChatMessage::is_terminal() const noexcept {
  return status == MessageStatus::ready || status == MessageStatus::failed ||
         status == MessageStatus::cancelled;
}

Chat Chat::from_json(const json& object) {
  Chat chat;
  if (!object.is_object()) return chat;
  chat.raw = object;
  chat.id = common::string_field_or(object, "id");
  chat.status = parse_chat_status(common::string_field_or(object, "status"));
  chat.name = common::string_field_or(object, "name");
  chat.description = common::string_field_or(object, "description");
  chat.parent_id = common::string_field_or(object, "parent_id");
  chat.agent_id = common::string_field_or(object, "agent_id");
  chat.output = common::field_or_null(object, "output");
  chat.context = common::field_or_null(object, "context");
  chat.agent_data = common::field_or_null(object, "agent_data");
  chat.active_run = common::field_or_null(object, "active_run");
  chat.messages = list_of<ChatMessage>(object, "chat_messages");
  std::stable_sort(chat.messages.begin(), chat.messages.end(),
                   [](const ChatMessage& a, const ChatMessage& b) { return a.order < b.order; });
  chat.created_at = common::string_field_or(object, "created_at");
  chat.updated_at = common::string_field_or(object, "updated_at");
  return chat;
}

bool Chat::is_busy() const noexcept {
  if (active_run.is_object()) {
    const std::string state = common::string_field_or(active_run, "state");
    return state == "working" || state == "submitted" || state == "input_required";
  }
  return status == ChatStatus::busy || status == ChatStatus::awaiting_input;
}

}  // namespace inferencesh
