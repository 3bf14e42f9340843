#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api_request.hpp"
#include "inferencesh/agents.hpp"

namespace inferencesh::detail {

/// What an agent sends with every message: a template ref or an ad-hoc config.
struct AgentDefinition {
  std::string agent_ref;        ///< template agents
  nlohmann::json agent_config;  ///< ad-hoc agents (tool handlers taken out)
  std::string agent_name;       ///< ad-hoc agents with a name
  std::map<std::string, std::string> context;
};

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

/// The text a thrown handler submits: `{"error":"<what>"}`.
std::string handler_error_result(const std::string& what);

}  // namespace inferencesh::detail
