#pragma once

// The SDK's one download path: GET a URL over a Transport into a file, following redirects,
// retrying by the client's rule and writing through a common::AtomicFile. client.files.download
// uses it with the client's transport; the app library's File (which links this library
// privately) uses it with a transport of its own and no credential.

#include <chrono>
#include <cstdint>
#include <exception>
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

/// One attempt of a download, without I/O: the GET for each URL (the API key only while every
/// URL so far had the API's origin), what a response head means (the body to save, a redirect
/// to follow, an error), and the body written through a common::AtomicFile with the size
/// checks. The blocking download() and the async client drive it with their own transfers.
/// Destroyed before finish(), it removes the file it was writing.
class DownloadAttempt {
 public:
  /// What a response head means for the attempt.
  enum class Head {
    body,      ///< a 2xx: the file is open, feed the body to write(), then finish()
    redirect,  ///< url() moved on: send request() again
    error,     ///< an error status: feed up to error_body_room() bytes, then fail()
  };

  /// `request` must outlive the attempt. Throws InvalidArgumentError for a URL that is not
  /// http(s).
  explicit DownloadAttempt(const DownloadRequest& request);

  /// The URL the next request goes to.
  const std::string& url() const noexcept { return url_; }
  /// The GET for url(), with the key while the origin has been the API's all along.
  HttpRequest request();
  /// Judges the head of the answer to request(). Throws InvalidArgumentError for too many
  /// redirects or one away from http(s); DecodeError past max_bytes; what `target` throws; Error
  /// when the file cannot be created.
  Head on_head(int status, const Headers& headers);

  /// Appends body bytes to the file and reports progress. Throws DecodeError past max_bytes,
  /// Error for the disk.
  void write(std::string_view bytes);
  /// The body ended cleanly: checks it has the announced length (ConnectionError otherwise,
  /// which is retried) and renames the file into place. Returns its path.
  std::filesystem::path finish();

  /// Bytes of an error answer's body still worth keeping for the ApiError.
  std::size_t error_body_room() const noexcept;
  void append_error_body(std::string_view bytes);
  /// Throws the ApiError of the error answer.
  [[noreturn]] void fail() const;

  /// A transport's failure of this attempt, with the URL in its message shown as the request's
  /// hide_queries says.
  std::exception_ptr reworded(std::exception_ptr error) const;

 private:
  std::string shown(const std::string& url) const;

  const DownloadRequest& request_;
  std::string url_;
  bool send_key_;
  int redirects_ = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  int status_ = 0;
  Headers headers_;
  std::string error_body_;
  std::uint64_t total_ = 0;  // the announced length; 0 when unknown
  std::optional<common::AtomicFile> file_;
};

/// The retry rule of a download: after attempt number `retry` (0 first) failed with `failure`,
/// the delay before the next one (told to request.on_retry). Rethrows `failure` when it is
/// final: a status other than is_retryable_status(), retries used up, anything but an ApiError
/// or a ConnectionError (timeouts and short bodies included).
std::chrono::milliseconds download_retry_delay(const DownloadRequest& request, int retry,
                                               const std::exception_ptr& failure);

/// "https://host/path?sig=...#x" → "https://host/path".
std::string url_without_query(std::string_view url);

}  // namespace inferencesh::detail
