#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "client_core.hpp"
#include "inferencesh/agents.hpp"

namespace inferencesh::detail {

/// Uploads the attachments of a message that are not stored files yet (paths, `data:` URIs,
/// bytes) and returns them all as FileRef objects, in order: nothing is sent to the chat unless
/// every upload worked. Blocking (the client's file transfer code).
nlohmann::json upload_attachments(const ClientCore& core, const std::vector<Attachment>& files,
                                  const CancellationToken& cancel);

}  // namespace inferencesh::detail
