#pragma once

// Downloads over HTTP(S) with libcurl, for Files given as URLs. The only file that includes curl.

#include <filesystem>
#include <string>

#include "infsh/file.hpp"

namespace infsh::detail {

/// Downloads `url` to `destination` through a common::AtomicFile beside it (flushed to disk,
/// renamed into place when complete, removed otherwise). Follows up to 5 redirects (http and
/// https only). Up to options.attempts tries, options.retry_delay apart; connection errors,
/// timeouts and the statuses of common::is_retryable_status() are retried, other statuses and
/// the size limit are not.
/// Throws FileError naming the URL without its query (which may hold a signature).
void download_to(const std::string& url, const std::filesystem::path& destination,
                 const FileResolveOptions& options);

/// "https://host/path?sig=..." → "https://host/path", for messages.
std::string url_for_messages(const std::string& url);

}  // namespace infsh::detail
