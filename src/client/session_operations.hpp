#pragma once

// The Sessions API without I/O: the calls and the decoding of their answers, shared by the
// blocking Sessions and the async client's.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_request.hpp"
#include "inferencesh/sessions.hpp"
#include "inferencesh/task.hpp"

namespace inferencesh::detail {

/// GET /sessions/{id}; InvalidArgumentError for an empty id.
ApiCall get_session_call(const std::string& session_id);
/// GET /sessions.
ApiCall list_sessions_call();
/// POST /sessions/{id}/keepalive.
ApiCall keepalive_session_call(const std::string& session_id);
/// DELETE /sessions/{id}.
ApiCall end_session_call(const std::string& session_id);

/// A Session from a payload; DecodeError naming `what` when it is not an object.
Session session_from_payload(const nlohmann::json& data, const std::string& what);
/// The sessions of GET /sessions (null is an empty list); DecodeError when not a list.
std::vector<Session> sessions_from_payload(const nlohmann::json& data);

/// The run params of sessions.open(): the first call of `app` with session "new".
nlohmann::json open_session_params(const std::string& app, const SessionOptions& options);
/// The run params of a call in session `session_id`.
nlohmann::json session_call_params(const std::string& app, const std::string& session_id,
                                   const nlohmann::json& input, const std::string& function);
/// Checks that the first call started a session (Error naming `app` otherwise).
void require_session_started(const Task& first, const std::string& app);

}  // namespace inferencesh::detail
