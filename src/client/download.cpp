#include "download.hpp"

#include <string>
#include <system_error>
#include <utility>

#include "api_response.hpp"
#include "file_operations.hpp"
#include "inferencesh/errors.hpp"
#include "retry_policy.hpp"

namespace inferencesh::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxErrorBodyBytes = 65536;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

class Download {
 public:
  Download(Transport& transport, const DownloadRequest& request, const CancellationToken& cancel)
      : transport_(transport), request_(request), cancel_(cancel) {}

  std::filesystem::path run() {
    if (!is_http_url(request_.url)) {
      throw InvalidArgumentError("\"" + shown(request_.url) + "\" is not an http(s) URL");
    }
    for (int retry = 0;; ++retry) {
      std::optional<std::chrono::milliseconds> delay;
      std::string reason;
      try {
        return attempt();
      } catch (const ApiError& e) {
        if (!is_retryable_status(e.status())) throw;
        delay = retry_delay(request_.retry, retry, e.retry_after(), jitter_random());
        if (!delay) throw;
        reason = "HTTP " + std::to_string(e.status());
      } catch (const ConnectionError& e) {  // timeouts and short bodies too
        delay = retry_delay(request_.retry, retry, std::nullopt, jitter_random());
        if (!delay) throw;
        reason = e.what();
      }
      if (request_.on_retry) request_.on_retry(reason, *delay);
      if (cancel_.wait_for(*delay)) throw CancelledError("the download was cancelled");
    }
  }

 private:
  std::string shown(const std::string& url) const {
    return request_.hide_queries ? url_without_query(url) : url;
  }

  // The transport's messages quote the URL of the request: shown as shown() shows it.
  std::string reworded(std::string text, const std::string& url) const {
    const std::string replacement = shown(url);
    if (replacement == url) return text;
    for (auto at = text.find(url); at != std::string::npos;
         at = text.find(url, at + replacement.size())) {
      text.replace(at, url.size(), replacement);
    }
    return text;
  }

  std::unique_ptr<ResponseStream> open(const HttpRequest& http) const {
    try {
      return transport_.open(http, cancel_);
    } catch (const TimeoutError& e) {
      throw TimeoutError(reworded(e.what(), http.url), e.request_sent());
    } catch (const ConnectionError& e) {
      throw ConnectionError(reworded(e.what(), http.url), e.request_sent());
    } catch (const DecodeError& e) {
      throw DecodeError(reworded(e.what(), http.url));
    }
  }

  bool next(ResponseStream& stream, std::string& chunk, const std::string& url) const {
    try {
      return stream.next(chunk);
    } catch (const TimeoutError& e) {
      throw TimeoutError(reworded(e.what(), url), e.request_sent());
    } catch (const ConnectionError& e) {
      throw ConnectionError(reworded(e.what(), url), e.request_sent());
    }
  }

  [[noreturn]] void fail_with_status(ResponseStream& stream, const std::string& url) const {
    HttpResponse response;
    response.status = stream.status();
    response.headers = stream.headers();
    std::string chunk;
    try {
      while (response.body.size() < kMaxErrorBodyBytes && stream.next(chunk)) {
        response.body += chunk;
      }
    } catch (const ConnectionError&) {
      // The status is the answer; a body cut short only shortens its detail.
    }
    throw_api_error(response, "GET", shown(url), request_.api_key);
  }

  std::filesystem::path attempt() const {
    HttpRequest http;
    http.connect_timeout = request_.connect_timeout;
    http.idle_timeout = request_.idle_timeout;
    if (request_.attempt_timeout.count() > 0)
      http.deadline = Clock::now() + request_.attempt_timeout;
    bool send_key = !request_.api_key.empty();
    std::string url = request_.url;
    for (int redirects = 0;; ++redirects) {
      send_key = send_key && same_origin(url, request_.base_url);
      http.url = url;
      http.headers = request_.headers;
      if (send_key) http.headers.emplace_back("Authorization", "Bearer " + request_.api_key);
      auto stream = open(http);
      const int status = stream->status();
      if (status >= 200 && status < 300) return save(*stream, url);
      const auto location = find_header(stream->headers(), "Location");
      if (!is_redirect(status) || !location) fail_with_status(*stream, url);
      if (redirects == kMaxDownloadRedirects) {
        throw InvalidArgumentError("GET " + shown(request_.url) + ": more than " +
                                   std::to_string(kMaxDownloadRedirects) + " redirects");
      }
      auto next_url = resolve_redirect(url, *location);
      if (!next_url) {
        throw InvalidArgumentError("GET " + shown(url) +
                                   ": redirected to a URL that is not http(s)");
      }
      url = std::move(*next_url);
    }
  }

  std::filesystem::path save(ResponseStream& stream, const std::string& url) const {
    std::uint64_t total = 0;
    if (auto length = find_header(stream.headers(), "Content-Length")) {
      try {
        total = std::stoull(*length);
      } catch (const std::exception&) {
        total = 0;
      }
    }
    const auto too_large = [&] {
      return DecodeError("GET " + shown(url) + ": larger than the limit of " +
                         std::to_string(request_.max_bytes) + " bytes");
    };
    if (request_.max_bytes != 0 && total > request_.max_bytes) throw too_large();
    std::filesystem::path target = request_.target(url, stream.headers());
    try {
      common::AtomicFile file(target, request_.durability);
      std::string chunk;
      while (next(stream, chunk, url)) {
        if (request_.max_bytes != 0 && file.bytes_written() + chunk.size() > request_.max_bytes) {
          throw too_large();
        }
        file.write(chunk);
        if (request_.on_progress) request_.on_progress(file.bytes_written(), total);
      }
      if (total != 0 && file.bytes_written() != total) {
        throw ConnectionError("GET " + shown(url) + ": received " +
                                  std::to_string(file.bytes_written()) + " of " +
                                  std::to_string(total) + " bytes",
                              true);
      }
      file.commit();
    } catch (const std::system_error& e) {
      throw Error(e.what());
    }
    return target;
  }

  Transport& transport_;
  const DownloadRequest& request_;
  const CancellationToken& cancel_;
};

}  // namespace

std::string url_without_query(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

std::filesystem::path download(Transport& transport, const DownloadRequest& request,
                               const CancellationToken& cancel) {
  return Download(transport, request, cancel).run();
}

}  // namespace inferencesh::detail
