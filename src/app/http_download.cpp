#include "http_download.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "common/atomic_file.hpp"
#include "common/retryable_status.hpp"
#include "infsh/errors.hpp"
#include "infsh/version.hpp"

namespace infsh::detail {
namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  inferencesh::common::AtomicFile* file = nullptr;
  std::uint64_t written = 0;
  std::uint64_t max_bytes = 0;
  bool too_large = false;
  bool write_failed = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * count;
  if (sink->written + bytes > sink->max_bytes) {
    sink->too_large = true;
    return 0;  // aborts the transfer
  }
  try {
    sink->file->write(std::string_view(data, bytes));
  } catch (const std::system_error&) {
    sink->write_failed = true;
    return 0;
  }
  sink->written += bytes;
  return bytes;
}

enum class Outcome { done, retry, fail };

struct Attempt {
  Outcome outcome = Outcome::fail;
  std::string error;
};

Attempt attempt_download(const std::string& url, inferencesh::common::AtomicFile& file,
                         const FileResolveOptions& options) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return {Outcome::fail, "cannot create a libcurl handle"};

  Sink sink;
  sink.file = &file;
  sink.max_bytes = options.max_bytes;
  const std::string user_agent = std::string("inferencesh-cpp-infsh/") + kVersion;
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str());

  const CURLcode code = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  const std::string limit =
      "larger than the limit of " + std::to_string(options.max_bytes) + " bytes";
  if (sink.too_large || code == CURLE_FILESIZE_EXCEEDED) return {Outcome::fail, limit};
  if (sink.write_failed) return {Outcome::fail, "cannot write " + file.temporary_path().string()};
  if (code != CURLE_OK) {
    const bool transient = code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT ||
                           code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
                           code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE ||
                           code == CURLE_COULDNT_RESOLVE_HOST;
    return {transient ? Outcome::retry : Outcome::fail, curl_easy_strerror(code)};
  }
  if (status < 200 || status > 299) {
    const bool transient = inferencesh::common::is_retryable_status(static_cast<int>(status));
    return {transient ? Outcome::retry : Outcome::fail, "HTTP status " + std::to_string(status)};
  }
  return {Outcome::done, {}};
}

}  // namespace

std::string url_for_messages(const std::string& url) {
  const auto cut = url.find_first_of("?#");
  return cut == std::string::npos ? url : url.substr(0, cut);
}

void download_to(const std::string& url, const std::filesystem::path& destination,
                 const FileResolveOptions& options) {
  init_curl_once();
  const int attempts = options.attempts < 1 ? 1 : options.attempts;
  std::string last_error;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1 && options.retry_delay.count() > 0)
      std::this_thread::sleep_for(options.retry_delay);
    std::optional<inferencesh::common::AtomicFile> file;
    try {
      file.emplace(destination, inferencesh::common::Durability::sync);
    } catch (const std::system_error& e) {
      throw FileError("downloading " + url_for_messages(url) + " failed: " + e.what());
    }
    const Attempt result = attempt_download(url, *file, options);
    if (result.outcome == Outcome::done) {
      try {
        file->commit();
        return;
      } catch (const std::system_error& e) {
        throw FileError("cannot move the download of " + url_for_messages(url) +
                        " into place: " + e.what());
      }
    }
    file->discard();
    last_error = result.error;
    if (result.outcome == Outcome::fail) {
      throw FileError("downloading " + url_for_messages(url) + " failed: " + last_error);
    }
  }
  throw FileError("downloading " + url_for_messages(url) + " failed after " +
                  std::to_string(attempts) + (attempts == 1 ? " attempt: " : " attempts: ") +
                  last_error);
}

}  // namespace infsh::detail
