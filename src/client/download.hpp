#pragma once

// The SDK's one download path: GET a URL over a Transport into a file, following redirects,
// retrying by the client's rule and writing through a common::AtomicFile. client.files.download
// uses it with the client's transport; the app library's File (which links this library
// privately) uses it with a transport of its own and no credential.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/atomic_file.hpp"
#include "inferencesh/cancellation.hpp"
#include "inferencesh/client_options.hpp"
#include "inferencesh/files.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh::detail {

/// Redirects followed before giving up (curl's and the other SDKs' habit is a handful).
inline constexpr int kMaxDownloadRedirects = 5;

struct DownloadRequest {
  std::string url;  ///< http or https
  Headers headers;  ///< sent with every request (User-Agent)
  /// The API key goes with a request only while every URL so far (the one asked for, then each
  /// redirect) has the origin of `base_url`: a redirect to another host drops it for good.
  /// Empty: no key is ever sent.
  std::string api_key;
  std::string base_url;
  std::chrono::milliseconds connect_timeout{0};  ///< 0: the transport's default
  std::chrono::milliseconds idle_timeout{0};  ///< no byte for this long fails an attempt; 0: none
  std::chrono::milliseconds attempt_timeout{0};  ///< one attempt, redirects included; 0: none
  std::uint64_t max_bytes = 0;  ///< a larger body is refused (not retried); 0: none
  RetryOptions retry;           ///< with is_retryable_status(): when to try again
  common::Durability durability = common::Durability::rename;
  /// Messages show URLs without query and fragment (which may hold a signature).
  bool hide_queries = false;
  /// The file to write, chosen when a 2xx response's headers arrived: (its URL, its headers).
  /// Called again on a retry. May throw to refuse (e.g. an existing file).
  std::function<std::filesystem::path(const std::string& url, const Headers& headers)> target;
  ProgressCallback on_progress;  ///< bytes written in this attempt, and the announced length
  /// Told before each retry what failed and how long the pause is.
  std::function<void(const std::string& reason, std::chrono::milliseconds delay)> on_retry;
};

/// Downloads request.url into the file request.target picks and returns its path. The file
/// appears whole or not at all. Follows up to kMaxDownloadRedirects redirects (301, 302, 303,
/// 307, 308) to http(s) URLs. Retries connection failures, timeouts, short bodies and the
/// statuses of is_retryable_status() as RetryOptions says (honouring Retry-After); any other
/// answer is final. Throws the ApiError of the status, ConnectionError, TimeoutError,
/// CancelledError, DecodeError (past max_bytes), InvalidArgumentError (not an http(s) URL, a
/// redirect away from http(s), too many redirects) or Error (the disk).
std::filesystem::path download(Transport& transport, const DownloadRequest& request,
                               const CancellationToken& cancel);

/// "https://host/path?sig=...#x" → "https://host/path".
std::string url_without_query(std::string_view url);

}  // namespace inferencesh::detail
