#include "file_transfer.hpp"

#include <cstdio>
#include <memory>
#include <system_error>

#include "api_response.hpp"
#include "common/base64.hpp"
#include "common/data_uri.hpp"
#include "download.hpp"
#include "file_operations.hpp"
#include "inferencesh/errors.hpp"
#include "retry_policy.hpp"

namespace inferencesh::detail {
namespace {

namespace fs = std::filesystem;

struct FileCloser {
  void operator()(std::FILE* file) const noexcept {
    std::fclose(file);  // NOLINT(cppcoreguidelines-owning-memory): the deleter is the owner
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

std::string preview(std::string_view text) {
  constexpr std::size_t kMax = 60;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

/// The body of one PUT: the file opened for this attempt, or the position in the bytes.
struct UploadBody {
  std::shared_ptr<const UploadSource> source;
  FilePtr file;
  std::size_t offset = 0;

  std::size_t read(char* buffer, std::size_t capacity) {
    if (file) {
      const std::size_t n = std::fread(buffer, 1, capacity, file.get());
      if (n == 0 && std::ferror(file.get()) != 0) throw Error("reading the file to upload failed");
      return n;
    }
    const std::size_t n = std::min(capacity, source->bytes.size() - offset);
    std::copy_n(source->bytes.data() + offset, n, buffer);
    offset += n;
    return n;
  }
};

}  // namespace

UploadSource source_from_path(const fs::path& path) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (error || !fs::exists(status)) {
    throw InvalidArgumentError("no such file: " + path.string());
  }
  if (!fs::is_regular_file(status)) {
    throw InvalidArgumentError("not a regular file: " + path.string());
  }
  UploadSource source;
  source.kind = UploadSource::Kind::path;
  source.path = path;
  source.size = fs::file_size(path, error);
  if (error) throw InvalidArgumentError("cannot read the size of " + path.string());
  source.default_filename = path.filename().string();
  return source;
}

UploadSource source_from_bytes(std::string bytes) {
  UploadSource source;
  source.kind = UploadSource::Kind::bytes;
  source.size = bytes.size();
  source.bytes = std::move(bytes);
  return source;
}

UploadSource source_from_string(std::string_view text) {
  if (text.substr(0, 5) == "data:") {
    std::string reason;
    auto uri = common::parse_data_uri(text, &reason);
    if (!uri) throw InvalidArgumentError("invalid data URI: " + reason);
    UploadSource source = source_from_bytes(std::move(uri->bytes));
    source.data_uri_type = std::move(uri->media_type);
    return source;
  }
  std::error_code error;
  if (!text.empty() && fs::exists(fs::path(text), error)) return source_from_path(fs::path(text));
  if (common::is_strict_base64(text, 1)) return source_from_bytes(*common::decode_base64(text));
  if (text.find_first_of("/\\.") != std::string_view::npos) {
    throw InvalidArgumentError("no such file: " + std::string(text));
  }
  throw InvalidArgumentError("files.upload: \"" + preview(text) +
                             "\" is not an existing file, a data: URI or base64 text");
}

UploadMetadata upload_metadata(const UploadSource& source, const UploadFileOptions& options) {
  UploadMetadata metadata;
  metadata.filename = options.filename.empty() ? source.default_filename : options.filename;
  metadata.content_type =
      choose_content_type(options.content_type, source.data_uri_type,
                          metadata.filename.empty() ? source.path.string() : metadata.filename);
  metadata.size = source.size;
  metadata.path = options.path;
  metadata.is_public = options.is_public;
  return metadata;
}

HttpRequest upload_request(const ResolvedOptions& options,
                           std::shared_ptr<const UploadSource> source, const std::string& url,
                           const std::string& content_type, ProgressCallback on_progress) {
  HttpRequest request;
  request.method = "PUT";
  request.url = url;
  // Only the content type: the upload URL is signed, and the API key must not leave with it.
  request.headers = {{"Content-Type", content_type}};
  request.connect_timeout = options.connect_timeout;
  request.idle_timeout = options.wait.stream_idle_timeout;
  request.max_response_bytes = options.max_response_bytes;
  request.upload_progress = std::move(on_progress);
  request.body_size = source->size;

  auto body = std::make_shared<UploadBody>();
  if (source->kind == UploadSource::Kind::path) {
    body->file = FilePtr(std::fopen(source->path.c_str(), "rb"));
    if (!body->file) {
      throw InvalidArgumentError("cannot read " + source->path.string() + ": " +
                                 std::error_code(errno, std::generic_category()).message());
    }
  }
  body->source = std::move(source);
  request.body_reader = [body](char* buffer, std::size_t capacity) {
    return body->read(buffer, capacity);
  };
  return request;
}

UploadAttemptOutcome judge_upload_attempt(const ClientCore& core, const std::string& url, int retry,
                                          const HttpResponse* response,
                                          const std::exception_ptr& failure) {
  std::optional<std::chrono::milliseconds> delay;
  std::string reason;
  if (response != nullptr) {
    if (response->status >= 200 && response->status < 300) return {true, {}};
    if (is_retryable_status(response->status)) {
      delay = retry_delay(core.options().retry, retry, std::nullopt, jitter_random());
    }
    if (!delay) throw_api_error(*response, "PUT", url, core.options().api_key);
    reason = "HTTP " + std::to_string(response->status);
  } else {
    try {
      std::rethrow_exception(failure);
    } catch (const ConnectionError& e) {  // timeouts too
      delay = retry_delay(core.options().retry, retry, std::nullopt, jitter_random());
      if (!delay) throw;
      reason = e.what();
    }
  }
  core.log(LogLevel::warning, "uploading file content failed (" + reason + "); retrying in " +
                                  std::to_string(delay->count()) + " ms");
  return {false, *delay};
}

FileRef uploaded_file(CreatedFile created, const UploadMetadata& metadata) {
  FileRef file = std::move(created.file);
  if (file.filename.empty()) file.filename = metadata.filename;
  if (file.content_type.empty()) file.content_type = metadata.content_type;
  if (file.size == 0) file.size = metadata.size;
  return file;
}

FileRef upload_file(const ClientCore& core, const UploadSource& source,
                    const UploadFileOptions& options) {
  const UploadMetadata metadata = upload_metadata(source, options);
  const ApiResult result = core.call(create_file_call(metadata), options.cancel);
  CreatedFile created = created_file(result.data);

  // Not owned: `source` outlives this blocking call and every request it builds.
  const std::shared_ptr<const UploadSource> borrowed(std::shared_ptr<const UploadSource>(),
                                                     &source);
  for (int retry = 0;; ++retry) {
    UploadAttemptOutcome outcome;
    try {
      const HttpResponse response =
          core.transport().send(upload_request(core.options(), borrowed, created.upload_url,
                                               metadata.content_type, options.on_progress),
                                options.cancel);
      outcome = judge_upload_attempt(core, created.upload_url, retry, &response, nullptr);
    } catch (const ConnectionError&) {
      outcome =
          judge_upload_attempt(core, created.upload_url, retry, nullptr, std::current_exception());
    }
    if (outcome.stored) break;
    if (options.cancel.wait_for(outcome.retry_in)) throw CancelledError("the upload was cancelled");
  }
  return uploaded_file(std::move(created), metadata);
}

DownloadRequest file_download_request(const ClientCore& core, const std::string& uri,
                                      const std::string& name_hint, const fs::path& destination,
                                      const DownloadOptions& options) {
  if (!is_http_url(uri)) {
    throw InvalidArgumentError("files.download: \"" + preview(uri) + "\" is not an http(s) URL");
  }
  DownloadRequest request;
  request.url = uri;
  request.headers.emplace_back("User-Agent", core.options().user_agent);
  request.api_key = core.options().api_key;
  request.base_url = core.options().base_url;
  request.connect_timeout = core.options().connect_timeout;
  request.idle_timeout = core.options().wait.stream_idle_timeout;
  request.retry = core.options().retry;
  request.on_progress = options.on_progress;
  request.on_retry = [&core](const std::string& reason, std::chrono::milliseconds delay) {
    core.log(LogLevel::warning, "downloading a file failed (" + reason + "); retrying in " +
                                    std::to_string(delay.count()) + " ms");
  };
  request.target = [destination, name_hint, overwrite = options.overwrite](const std::string& url,
                                                                           const Headers& headers) {
    std::error_code error;
    fs::path target = destination;
    const bool into_directory = fs::is_directory(destination, error) ||
                                (!destination.empty() && destination.string().back() == '/');
    if (into_directory) {
      fs::create_directories(destination, error);
      std::string name = name_hint;
      if (auto header = find_header(headers, "Content-Disposition")) {
        if (auto from_header = content_disposition_file_name(*header)) name = *from_header;
      }
      if (name.empty()) name = url_file_name(url);
      target = destination / safe_file_name(name);
    } else if (!target.parent_path().empty() && !fs::is_directory(target.parent_path(), error)) {
      throw InvalidArgumentError("files.download: the directory " + target.parent_path().string() +
                                 " does not exist");
    }
    if (!overwrite && fs::exists(target, error)) {
      throw InvalidArgumentError("files.download: " + target.string() + " already exists");
    }
    return target;
  };
  return request;
}

fs::path download_file(const ClientCore& core, const std::string& uri, const std::string& name_hint,
                       const fs::path& destination, const DownloadOptions& options) {
  return download(core.transport(),
                  file_download_request(core, uri, name_hint, destination, options),
                  options.cancel);
}

}  // namespace inferencesh::detail
