#pragma once

// The AgentConfig (protocol-agents-tools.md 1.2): checking one a client sent (every refusal
// names the field), and what the core sees of it: the tools in OpenAI function format, the
// internal tools switched on.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace infsh::local {

/// The tool types an AgentTool may have.
inline constexpr std::array<std::string_view, 7> kToolTypes = {"client", "app", "agent",   "hook",
                                                               "http",   "mcp", "internal"};

/// Checks an AgentConfig and returns it normalised: `core_app` given as a bare string becomes
/// {"ref": ...}; null fields are dropped. Throws ApiProblem 422 naming the field under `field`
/// (e.g. "agent_config.tools[1].type"). `require_core` for ad-hoc configs, which must name
/// their core_app.ref.
nlohmann::json checked_agent_config(const nlohmann::json& config, const std::string& field,
                                    bool require_core);

/// The internal tools an agent's config switches on, by group: "plan", "memory", "finish".
bool internal_tool_enabled(const nlohmann::json& config, std::string_view group);

/// The function names of the internal tools (plan_create, plan_update, memory_set, memory_get,
/// finish), and the group each belongs to; empty for a name that is none of them.
std::string internal_tool_group(std::string_view function_name);

/// Every tool the core may call, in OpenAI function format
/// ({"type":"function","function":{"name","description","parameters"}}): the config's tools, then
/// the enabled internal ones.
nlohmann::json core_tools(const nlohmann::json& config);

/// The config's tool called `name`, or null.
const nlohmann::json* find_tool(const nlohmann::json& config, std::string_view name);

/// GET /agents/internal-tools: [{id, name, description, tools, scope, default_enabled}].
nlohmann::json internal_tools_catalog();

}  // namespace infsh::local
