#pragma once

// The download cache shared with the other SDKs (app-side.md 3.2):
//   URL      → <root>/<sha256(netloc + path [+ "?" + query])[:12]>/<basename or "download">
//   data URI → <root>/data_uri/<sha256(uri)[:16]>/file<ext>
// A cached file is reused as it is, without revalidation.

#include <filesystem>
#include <string>

#include "infsh/file.hpp"

namespace infsh::detail {

/// Where the cache keeps `url` (an http or https URL) under `root`.
std::filesystem::path url_cache_path(const std::string& url, const std::filesystem::path& root);

/// The cache directory of a data URI under `root`.
std::filesystem::path data_uri_cache_dir(const std::string& uri, const std::filesystem::path& root);

/// The local file for an http(s) URL: the cached copy, else a fresh download.
std::filesystem::path resolve_url(const std::string& url, const FileResolveOptions& options);

/// The local file for a data URI: the cached copy, else the decoded bytes written to the cache.
/// Sets `content_type` to the URI's media type.
std::filesystem::path resolve_data_uri(const std::string& uri, const FileResolveOptions& options,
                                       std::string& content_type);

}  // namespace infsh::detail
