#pragma once

#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "client_core.hpp"
#include "download.hpp"
#include "file_operations.hpp"
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

/// What POST /files declares for `source` with these options: the options' file name, else the
/// path's; the content type choose_content_type() picks; the size; the path hint; public.
UploadMetadata upload_metadata(const UploadSource& source, const UploadFileOptions& options);

/// One PUT of the content to the upload URL: only the content type (the URL is signed, and the
/// API key must not leave with it), the client's connect and idle timeouts and response limit,
/// `on_progress`, and the body streamed from `source` from its start (a path opened here and
/// read in pieces as the transfer asks for them, InvalidArgumentError when it cannot be opened;
/// bytes from memory). Build one per attempt.
HttpRequest upload_request(const ResolvedOptions& options,
                           std::shared_ptr<const UploadSource> source, const std::string& url,
                           const std::string& content_type, ProgressCallback on_progress);

/// After attempt number `retry` (0 first) of the PUT.
struct UploadAttemptOutcome {
  bool stored = false;                    ///< the content is stored: the upload is done
  std::chrono::milliseconds retry_in{0};  ///< otherwise, the pause before the next attempt
};

/// The retry rule of the PUT, without I/O: judges attempt `retry` from its `response`, or from
/// `failure` when none came. A 2xx stores the content; a retryable status or a ConnectionError
/// is tried again after a backoff (logged) while retries last; anything else is final: throws
/// the ApiError of the status, or rethrows `failure`.
UploadAttemptOutcome judge_upload_attempt(const ClientCore& core, const std::string& url, int retry,
                                          const HttpResponse* response,
                                          const std::exception_ptr& failure);

/// The uploaded file: the server's answer, with what the client declared filling its gaps.
FileRef uploaded_file(CreatedFile created, const UploadMetadata& metadata);

/// The DownloadRequest of files.download(): the client's key (for the API's origin only),
/// timeouts, retry rule and log, and the target inside `destination` (a directory: the name of
/// Content-Disposition, else `name_hint`, else the URL's, made safe; else a file path whose
/// directory must exist; an existing file refused unless options.overwrite). Refers to `core`,
/// which must outlive it. InvalidArgumentError when `uri` is not an http(s) URL.
DownloadRequest file_download_request(const ClientCore& core, const std::string& uri,
                                      const std::string& name_hint,
                                      const std::filesystem::path& destination,
                                      const DownloadOptions& options);

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
