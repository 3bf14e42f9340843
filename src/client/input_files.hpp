#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "client_core.hpp"

namespace inferencesh::detail {

/// The key of the object file_path() and file_bytes() make.
inline constexpr const char* kFileValueKey = "__inferencesh_file__";

/// Uploads the files in a task's input and replaces each by its uri, anywhere in nested objects
/// and arrays: data URIs, values made by file_path()/file_bytes(), and File-shaped objects
/// ({path, uri?, filename?, content_type?, size?} whose path is a local file). With `guess`,
/// also plain strings that name an existing file or are base64 of 16+ characters (the Python
/// SDK's heuristics). Everything is validated before the first upload; up to four uploads run
/// at once.
void upload_input_files(const ClientCore& core, nlohmann::json& input, bool guess,
                        const CancellationToken& cancel);

}  // namespace inferencesh::detail
