#pragma once

#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "api_request.hpp"
#include "api_response.hpp"
#include "inferencesh/agents.hpp"

namespace inferencesh::detail {

/// What an agent sends with every message: a template ref or an ad-hoc config.
struct AgentDefinition {
  std::string agent_ref;        ///< template agents
  nlohmann::json agent_config;  ///< ad-hoc agents (tool handlers taken out)
  std::string agent_name;       ///< ad-hoc agents with a name
  std::map<std::string, std::string> context;
};

/// The handler of a client tool: the blocking kind or the asynchronous one (or neither).
struct ToolHandlers {
  ToolHandler run;
  AsyncToolHandler run_async;
  explicit operator bool() const noexcept {
    return static_cast<bool>(run) || static_cast<bool>(run_async);
  }
};
/// Client tools with a handler, by name.
using ToolHandlerMap = std::unordered_map<std::string, ToolHandlers>;

/// The handlers of `options`' client tools.
ToolHandlerMap client_tool_handlers(const AdHocAgentOptions& options);

/// The ad-hoc definition of `options`: `agent_config` with the tools' schemas only. Throws
/// InvalidArgumentError without a core_app ref.
AgentDefinition ad_hoc_definition(const AdHocAgentOptions& options);

/// The body of POST /agents/run. `chat_id` empty: a new chat (left out). `attachments`: FileRef
/// objects, left out when empty.
nlohmann::json run_body(const AgentDefinition& agent, const std::string& chat_id,
                        const std::string& text, const nlohmann::json& attachments);

ApiCall agent_run_call(nlohmann::json body);
ApiCall get_chat_call(std::string_view chat_id);
ApiCall chat_status_call(std::string_view chat_id);
ApiCall stop_chat_call(std::string_view chat_id);
ApiCall tool_result_call(std::string_view invocation_id, const std::string& result);
ApiCall approve_call(std::string_view invocation_id);
ApiCall reject_call(std::string_view invocation_id, const std::string& reason);
ApiCall always_allow_call(std::string_view chat_id, std::string_view invocation_id,
                          const std::string& tool_name);

ApiCall get_agent_call(std::string_view agent_id);
ApiCall list_agents_call(const nlohmann::json& request);
/// GET /agents/{id}'s payload as an AgentTemplate; DecodeError when it is not an object.
AgentTemplate agent_from_payload(const ApiResult& payload, const std::string& agent_id);
/// POST /agents/list's payload as a page of agents.
AgentList agent_list_from_payload(const ApiResult& payload);

/// A widget action as a tool result: `{"action": ..., "form_data": ...}` as JSON text.
std::string tool_action_result(const ToolAction& action);

/// The text a thrown handler submits: `{"error":"<what>"}`.
std::string handler_error_result(const std::string& what);
/// The text submitted for a handler that failed with `error`: `{"error":"<what()>"}`.
std::string handler_error_result(const std::exception_ptr& error);

/// A stored file as an attachment (FileRef object) of a message.
nlohmann::json file_ref_json(const FileRef& file);

/// Reads a message of POST /agents/run's answer (`user_message`, `assistant_message`); throws
/// DecodeError when it is missing.
ChatMessage message_from(const nlohmann::json& data, const char* key);

}  // namespace inferencesh::detail
