#include "download.hpp"

#include <algorithm>
#include <memory>
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

/// The blocking driver: each attempt over the transport's streams, retries with waits on the
/// calling thread.
class Download {
 public:
  Download(Transport& transport, const DownloadRequest& request, const CancellationToken& cancel)
      : transport_(transport), request_(request), cancel_(cancel) {}

  std::filesystem::path run() {
    for (int retry = 0;; ++retry) {
      std::chrono::milliseconds delay{0};
      try {
        return attempt();
      } catch (const ApiError&) {
        delay = download_retry_delay(request_, retry, std::current_exception());
      } catch (const ConnectionError&) {  // timeouts and short bodies too
        delay = download_retry_delay(request_, retry, std::current_exception());
      }
      if (cancel_.wait_for(delay)) throw CancelledError("the download was cancelled");
    }
  }

 private:
  std::filesystem::path attempt() const {
    DownloadAttempt attempt(request_);
    for (;;) {
      std::unique_ptr<ResponseStream> stream;
      try {
        stream = transport_.open(attempt.request(), cancel_);
      } catch (...) {
        std::rethrow_exception(attempt.reworded(std::current_exception()));
      }
      switch (attempt.on_head(stream->status(), stream->headers())) {
        case DownloadAttempt::Head::redirect:
          continue;
        case DownloadAttempt::Head::error: {
          std::string chunk;
          try {
            while (attempt.error_body_room() > 0 && stream->next(chunk)) {
              attempt.append_error_body(chunk);
            }
          } catch (const ConnectionError&) {
            // The status is the answer; a body cut short only shortens its detail.
          }
          attempt.fail();
        }
        case DownloadAttempt::Head::body: {
          std::string chunk;
          for (;;) {
            bool more = false;
            try {
              more = stream->next(chunk);
            } catch (...) {
              std::rethrow_exception(attempt.reworded(std::current_exception()));
            }
            if (!more) break;
            attempt.write(chunk);
          }
          return attempt.finish();
        }
      }
    }
  }

  Transport& transport_;
  const DownloadRequest& request_;
  const CancellationToken& cancel_;
};

}  // namespace

DownloadAttempt::DownloadAttempt(const DownloadRequest& request)
    : request_(request), url_(request.url), send_key_(!request.api_key.empty()) {
  if (!is_http_url(url_)) {
    throw InvalidArgumentError("\"" + shown(url_) + "\" is not an http(s) URL");
  }
  if (request_.attempt_timeout.count() > 0) deadline_ = Clock::now() + request_.attempt_timeout;
}

std::string DownloadAttempt::shown(const std::string& url) const {
  return request_.hide_queries ? url_without_query(url) : url;
}

HttpRequest DownloadAttempt::request() {
  send_key_ = send_key_ && same_origin(url_, request_.base_url);
  HttpRequest http;
  http.url = url_;
  http.headers = request_.headers;
  if (send_key_) http.headers.emplace_back("Authorization", "Bearer " + request_.api_key);
  http.connect_timeout = request_.connect_timeout;
  http.idle_timeout = request_.idle_timeout;
  http.deadline = deadline_;
  return http;
}

DownloadAttempt::Head DownloadAttempt::on_head(int status, const Headers& headers) {
  if (status < 200 || status >= 300) {
    const auto location = find_header(headers, "Location");
    if (!is_redirect(status) || !location) {
      status_ = status;
      headers_ = headers;
      error_body_.clear();
      return Head::error;
    }
    if (redirects_ == kMaxDownloadRedirects) {
      throw InvalidArgumentError("GET " + shown(request_.url) + ": more than " +
                                 std::to_string(kMaxDownloadRedirects) + " redirects");
    }
    auto next_url = resolve_redirect(url_, *location);
    if (!next_url) {
      throw InvalidArgumentError("GET " + shown(url_) +
                                 ": redirected to a URL that is not http(s)");
    }
    url_ = std::move(*next_url);
    ++redirects_;
    return Head::redirect;
  }
  total_ = 0;
  if (auto length = find_header(headers, "Content-Length")) {
    try {
      total_ = std::stoull(*length);
    } catch (const std::exception&) {
      total_ = 0;
    }
  }
  if (request_.max_bytes != 0 && total_ > request_.max_bytes) {
    throw DecodeError("GET " + shown(url_) + ": larger than the limit of " +
                      std::to_string(request_.max_bytes) + " bytes");
  }
  try {
    file_.emplace(request_.target(url_, headers), request_.durability);
  } catch (const std::system_error& e) {
    throw Error(e.what());
  }
  return Head::body;
}

void DownloadAttempt::write(std::string_view bytes) {
  if (request_.max_bytes != 0 && file_->bytes_written() + bytes.size() > request_.max_bytes) {
    file_.reset();
    throw DecodeError("GET " + shown(url_) + ": larger than the limit of " +
                      std::to_string(request_.max_bytes) + " bytes");
  }
  try {
    file_->write(bytes);
  } catch (const std::system_error& e) {
    file_.reset();
    throw Error(e.what());
  }
  if (request_.on_progress) request_.on_progress(file_->bytes_written(), total_);
}

std::filesystem::path DownloadAttempt::finish() {
  const std::uint64_t written = file_->bytes_written();
  if (total_ != 0 && written != total_) {
    file_.reset();
    throw ConnectionError("GET " + shown(url_) + ": received " + std::to_string(written) + " of " +
                              std::to_string(total_) + " bytes",
                          true);
  }
  try {
    file_->commit();
  } catch (const std::system_error& e) {
    file_.reset();
    throw Error(e.what());
  }
  auto target = file_->target();
  file_.reset();
  return target;
}

std::size_t DownloadAttempt::error_body_room() const noexcept {
  return kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body_.size());
}

void DownloadAttempt::append_error_body(std::string_view bytes) {
  error_body_.append(bytes.substr(0, error_body_room()));
}

void DownloadAttempt::fail() const {
  HttpResponse response;
  response.status = status_;
  response.headers = headers_;
  response.body = error_body_;
  throw_api_error(response, "GET", shown(url_), request_.api_key);
}

std::exception_ptr DownloadAttempt::reworded(std::exception_ptr error) const {
  const std::string replacement = shown(url_);
  if (replacement == url_) return error;
  // The transport's messages quote the URL of the request: shown as shown() shows it.
  const auto reword = [&](std::string text) {
    for (auto at = text.find(url_); at != std::string::npos;
         at = text.find(url_, at + replacement.size())) {
      text.replace(at, url_.size(), replacement);
    }
    return text;
  };
  try {
    std::rethrow_exception(error);
  } catch (const TimeoutError& e) {
    return std::make_exception_ptr(TimeoutError(reword(e.what()), e.request_sent()));
  } catch (const ConnectionError& e) {
    return std::make_exception_ptr(ConnectionError(reword(e.what()), e.request_sent()));
  } catch (const DecodeError& e) {
    return std::make_exception_ptr(DecodeError(reword(e.what())));
  } catch (...) {
    return error;
  }
}

std::chrono::milliseconds download_retry_delay(const DownloadRequest& request, int retry,
                                               const std::exception_ptr& failure) {
  std::optional<std::chrono::milliseconds> delay;
  std::string reason;
  try {
    std::rethrow_exception(failure);
  } catch (const ApiError& e) {
    if (!is_retryable_status(e.status())) throw;
    delay = retry_delay(request.retry, retry, e.retry_after(), jitter_random());
    if (!delay) throw;
    reason = "HTTP " + std::to_string(e.status());
  } catch (const ConnectionError& e) {  // timeouts and short bodies too
    delay = retry_delay(request.retry, retry, std::nullopt, jitter_random());
    if (!delay) throw;
    reason = e.what();
  }
  if (request.on_retry) request.on_retry(reason, *delay);
  return *delay;
}

std::string url_without_query(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

std::filesystem::path download(Transport& transport, const DownloadRequest& request,
                               const CancellationToken& cancel) {
  return Download(transport, request, cancel).run();
}

}  // namespace inferencesh::detail
