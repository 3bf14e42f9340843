#pragma once

// The agent template endpoint group (protocol-agents-tools.md 7): POST /agents,
// GET /agents/{id}, GET /agents/{namespace}/{name}, POST /agents/list, DELETE /agents/{id},
// GET /agents/internal-tools. POST /agents/run belongs to the chats (chat_api).

#include "chats/agent_catalog.hpp"
#include "http/router.hpp"

namespace infsh::local {

/// Adds the routes. Register after POST /agents/run: the fixed paths come before
/// /agents/{id} here, and run must too.
void register_agent_routes(Router& router, AgentCatalog& agents);

}  // namespace infsh::local
