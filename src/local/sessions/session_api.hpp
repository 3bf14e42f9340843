#pragma once

// The session endpoint group: GET /sessions, GET /sessions/{id}, POST /sessions/{id}/keepalive,
// DELETE /sessions/{id}. Sessions start through POST /apps/run with `session: "new"`.

#include "http/router.hpp"
#include "sessions/session_manager.hpp"

namespace infsh::local {

void register_session_routes(Router& router, SessionManager& sessions);

}  // namespace infsh::local
