#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api_request.hpp"
#include "inferencesh/files.hpp"

namespace inferencesh::detail {

/// What is known about a file before it is uploaded.
struct UploadMetadata {
  std::string filename;
  std::string content_type;
  std::uint64_t size = 0;
  std::string path;  ///< storage path hint
  bool is_public = false;
};

/// The content type to declare: the explicit option, else the data URI's type, else the one
/// the file name's extension implies, else application/octet-stream.
std::string choose_content_type(std::string_view option, std::string_view data_uri_type,
                                std::string_view file_name);

/// POST /files with one upload slot.
ApiCall create_file_call(const UploadMetadata& metadata);

/// GET /files/{id}; InvalidArgumentError for an empty id.
ApiCall get_file_call(const std::string& file_id);
/// DELETE /files/{id}; InvalidArgumentError for an empty id.
ApiCall delete_file_call(const std::string& file_id);
/// The file of GET /files/{id}; DecodeError when the payload is not an object.
FileRef file_from_payload(const nlohmann::json& data, const std::string& file_id);

/// The created file from the POST /files payload (an array; the first element is ours) and
/// its upload URL. Throws DecodeError when the answer has no file or no upload URL.
struct CreatedFile {
  FileRef file;
  std::string upload_url;
};
CreatedFile created_file(const nlohmann::json& data);

/// A file name safe to create inside a directory: the last path component, percent-decoding
/// undone, without separators, control characters or leading dots, at most 200 bytes;
/// "download" when nothing usable is left. Server-supplied names never escape the directory.
std::string safe_file_name(std::string_view candidate);

/// The last path segment of a URL (without query or fragment).
std::string url_file_name(std::string_view url);

/// The filename parameter of a Content-Disposition header, if any.
std::optional<std::string> content_disposition_file_name(std::string_view header);

/// True when both URLs have the same scheme, host and port: the API key may be sent to `url`
/// only when it shares the API base URL's origin.
bool same_origin(std::string_view url, std::string_view base_url);

/// True for an absolute http:// or https:// URL (the scheme in any case) with a host.
bool is_http_url(std::string_view url);

/// Where a redirect from `base` with this Location leads (RFC 3986 reference resolution:
/// absolute, "//host/...", "/path", "?query" and relative paths; the fragment dropped), or
/// nullopt when that is not an http(s) URL.
std::optional<std::string> resolve_redirect(std::string_view base, std::string_view location);

}  // namespace inferencesh::detail
