#pragma once

// Reading the bodies of the chat and agent endpoints. Null and absent are the same (the Python
// SDK sends many nulls); every refusal is an ApiProblem naming the field: 400 for a body that
// is not a JSON object, 422 for a field of the wrong type or value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chats/chat_records.hpp"

namespace infsh::local {

/// POST /agents/run (ApiAgentRunRequest; protocol-agents-tools.md 2.1).
struct AgentRunRequest {
  std::optional<std::string> chat_id;          ///< absent, null or "": a new chat
  std::optional<std::string> agent;            ///< a template reference
  std::optional<nlohmann::json> agent_config;  ///< an ad-hoc AgentConfig (checked)
  std::string agent_name;                      ///< the ad-hoc agent's name (or agent_config.name)
  TurnInput input;
  nlohmann::json context = nlohmann::json::object();  ///< the JS `context` map
};
AgentRunRequest parse_agent_run_request(std::string_view text);

/// POST /chats: {agent, context?, name?}.
struct CreateChatRequest {
  std::string agent;
  nlohmann::json context = nlohmann::json::object();
  std::string name;
};
CreateChatRequest parse_create_chat_request(std::string_view text);

/// POST /chats/{id}/messages: {message: "text"} (the React client), or {input: ChatTaskInput},
/// or {text, attachments}.
TurnInput parse_chat_message_request(std::string_view text);

/// POST /chats/{id}: the fields of a ChatDTO that can change (name, description).
struct ChatUpdateRequest {
  std::optional<std::string> name;
  std::optional<std::string> description;
};
ChatUpdateRequest parse_chat_update_request(std::string_view text);

/// POST /tools/{id}: {"result": "..."} (a non-string result is sent on as its JSON text), or
/// the raw widget action object {action, form_data} (sent on as its JSON text).
std::string parse_tool_result_request(std::string_view text);

/// POST /tools/{id}/reject: {"reason"?: "..."}.
std::string parse_reject_request(std::string_view text);

/// POST /chats/{chat_id}/tools/{id}/always-allow: {"tool_name"?: "..."}.
std::string parse_always_allow_request(std::string_view text);

/// A CursorListRequest (POST /chats/list, POST /agents/list): its cursor, limit (1..200,
/// default 25), search term and filters.
struct ListRequest {
  std::optional<std::int64_t> cursor;
  std::size_t limit = 25;
  std::string search;
  std::optional<std::string> status;     ///< filter {field: "status", operator: "eq"}
  std::optional<std::string> parent_id;  ///< filter on parent_id ("" for is_null)
};
ListRequest parse_list_request(std::string_view text);

/// POST /agents (CreateAgentRequest): {id?, name, namespace?, images?, version?: AgentConfig}
/// (the config's fields may also come at the top level).
struct CreateAgentRequest {
  std::string id;
  std::string namespace_name = "local";
  std::string name;
  nlohmann::json images;
  nlohmann::json config;  ///< checked
};
CreateAgentRequest parse_create_agent_request(std::string_view text);

/// The query of GET /chats/{id}/messages: limit (1..200, default 50) and cursor.
struct MessagePageQuery {
  std::size_t limit = 50;
  std::optional<std::int64_t> cursor;
};
MessagePageQuery parse_message_page_query(std::string_view query);

}  // namespace infsh::local
