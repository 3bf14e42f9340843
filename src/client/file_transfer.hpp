#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "client_core.hpp"
#include "inferencesh/files.hpp"

namespace inferencesh::detail {

/// Content to upload, validated and (for data URIs and base64) decoded before any request.
struct UploadSource {
  enum class Kind { path, bytes };
  Kind kind = Kind::bytes;
  std::filesystem::path path;  ///< Kind::path: a regular file
  std::string bytes;           ///< Kind::bytes
  std::uint64_t size = 0;
  std::string data_uri_type;     ///< media type a data URI declared
  std::string default_filename;  ///< a path's file name
};

/// A regular file; InvalidArgumentError naming the path when it is missing or not a file.
UploadSource source_from_path(const std::filesystem::path& path);
/// A data URI, an existing file's path, or base64 text (in that order of checking).
UploadSource source_from_string(std::string_view text);
UploadSource source_from_bytes(std::string bytes);

/// POST /files, then PUT the content to the upload URL (no API key, streamed from disk for
/// paths, retried on transient failures), reporting progress.
FileRef upload_file(const ClientCore& core, const UploadSource& source,
                    const UploadFileOptions& options);

/// GET `uri` into `destination` (a directory, or a file path) through download(): redirects
/// followed (the API key only ever to the API's origin), retried as API calls are, the file
/// renamed into place once complete. `name_hint` names the file inside a directory when the
/// server gives no Content-Disposition name; else the name comes from the URL the bytes came from.
std::filesystem::path download_file(const ClientCore& core, const std::string& uri,
                                    const std::string& name_hint,
                                    const std::filesystem::path& destination,
                                    const DownloadOptions& options);

}  // namespace inferencesh::detail
