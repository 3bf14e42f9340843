#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client_core.hpp"
#include "file_transfer.hpp"

namespace inferencesh::detail {

/// The key of the object file_path() and file_bytes() make.
inline constexpr const char* kFileValueKey = "__inferencesh_file__";

/// A file found in a task's input: what to upload, and the value its uri replaces.
struct InputFile {
  nlohmann::json* slot;  ///< inside the input given to collect_input_files()
  std::shared_ptr<const UploadSource> source;
  UploadFileOptions options;
};

/// How many uploads of one task's input run at once.
inline constexpr std::size_t kParallelInputUploads = 4;

/// The files in a task's input, found and validated as upload_input_files() says, without any
/// request. The slots point into `input`, which must not change until they are replaced.
std::vector<InputFile> collect_input_files(nlohmann::json& input, bool guess);

/// Uploads the files in a task's input and replaces each by its uri, anywhere in nested objects
/// and arrays: data URIs, values made by file_path()/file_bytes(), and File-shaped objects
/// ({path, uri?, filename?, content_type?, size?} whose path is a local file). With `guess`,
/// also plain strings that name an existing file or are base64 of 16+ characters (the Python
/// SDK's heuristics). Everything is validated before the first upload; up to four uploads run
/// at once.
void upload_input_files(const ClientCore& core, nlohmann::json& input, bool guess,
                        const CancellationToken& cancel);

}  // namespace inferencesh::detail
