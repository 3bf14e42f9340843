#pragma once

// The agent, chat and tool endpoint groups (protocol-agents-tools.md 2, 3, 5, 7;
// protocol-latest.md 7, 8, 10), answered in the envelope each client expects (http/api_envelope).

#include <chrono>

#include "chats/agent_catalog.hpp"
#include "chats/chat_engine.hpp"
#include "http/router.hpp"
#include "infsh/local/app.hpp"

namespace infsh::local {

struct ChatApiSettings {
  /// Idle interval after which a chat stream gets a heartbeat line.
  std::chrono::milliseconds heartbeat_interval{15000};
};

void register_chat_routes(Router& router, ChatEngine& chats, AgentCatalog& agents,
                          const AppRegistry& apps, ChatApiSettings settings);

}  // namespace infsh::local
