#include "curl_exchange.hpp"

#include <cctype>
#include <string>
#include <utility>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {

void ensure_curl_global_init() {
  // curl_global_init is not thread-safe; a function-local static runs it exactly once.
  // curl_global_cleanup is deliberately never called: other static objects may still hold
  // handles during static destruction, and the process exit releases everything anyway.
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK) {
    throw ConnectionError(
        std::string("libcurl could not be initialised: ") + curl_easy_strerror(result), false);
  }
}

// ---------------------------------------------------------------------------------------------

CurlShare::CurlShare() : handle_(curl_share_init()) {
  if (handle_ == nullptr) throw ConnectionError("libcurl: curl_share_init failed", false);
  curl_share_setopt(handle_, CURLSHOPT_LOCKFUNC, &CurlShare::lock);
  curl_share_setopt(handle_, CURLSHOPT_UNLOCKFUNC, &CurlShare::unlock);
  curl_share_setopt(handle_, CURLSHOPT_USERDATA, this);
  // Not CURL_LOCK_DATA_CONNECT: libcurl does not support one connection cache for handles in
  // use on several threads at once (its documentation of that option; KNOWN_BUGS "A shared
  // connection cache is not thread-safe"). With it, 1,000 agents' turns on 1,000 threads of one
  // client corrupted the heap in one run out of three. Each pooled handle keeps its own.
  curl_share_setopt(handle_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(handle_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

CurlShare::~CurlShare() { curl_share_cleanup(handle_); }

void CurlShare::lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  static_cast<CurlShare*>(user)->mutex_for(data).lock();
}

void CurlShare::unlock(CURL*, curl_lock_data data, void* user) {
  static_cast<CurlShare*>(user)->mutex_for(data).unlock();
}

std::mutex& CurlShare::mutex_for(curl_lock_data data) {
  const auto index = static_cast<std::size_t>(data);
  return mutexes_[index < mutexes_.size() ? index : 0];
}

// ---------------------------------------------------------------------------------------------

namespace {

// Receive buffer of each easy handle, and send buffer of uploads (see configure()).
constexpr long kReceiveBufferBytes = 256L * 1024;
// A stream's received but not yet taken bytes stop growing here: libcurl may deliver many
// pieces in one curl_multi_perform, so without a cap a fast download would pile up in memory.
constexpr std::size_t kMaxStreamBufferBytes = std::size_t{1024} * 1024;
// Response headers, all lines together. libcurl refuses a single line over
// CURL_MAX_HTTP_HEADER (100 KiB) itself, reporting it as running out of memory; this bounds
// the number of lines too, and so what the transport keeps of them.
constexpr std::size_t kMaxHeaderBytes = std::size_t{256} * 1024;

}  // namespace

CurlExchange::CurlExchange(CURL* easy, CURLSH* share, const CurlTransportOptions& options,
                           const HttpRequest& request, CancellationToken cancel, bool streaming,
                           std::function<void(std::string_view)> body_sink)
    : easy_(easy),
      request_(request),
      cancel_(std::move(cancel)),
      body_sink_(std::move(body_sink)),
      streaming_(streaming) {
  configure(share, options);
}

void CurlExchange::configure(CURLSH* share, const CurlTransportOptions& options) {
  CURL* easy = easy_;
  const HttpRequest& request = request_;

  curl_easy_setopt(easy, CURLOPT_SHARE, share);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer_.data());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &CurlExchange::on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  // Larger receive pieces than curl's 16 KiB default: a big download then costs a sixth of the
  // wake-ups and system calls (the curl program uses 100 KiB).
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &CurlExchange::on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
  // Redirects are not followed: a redirect to another host must not receive the API key.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_bundle.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_bundle.c_str());
  if (!options.proxy.empty()) curl_easy_setopt(easy, CURLOPT_PROXY, options.proxy.c_str());

  const auto connect_timeout =
      request.connect_timeout.count() > 0 ? request.connect_timeout : options.connect_timeout;
  if (connect_timeout.count() > 0) {
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  }
  if (!streaming_) max_body_bytes_ = request.max_response_bytes;
  if (streaming_) {
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  } else if (request.timeout.count() > 0) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  }

  curl_slist* list = nullptr;
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line += value.empty() ? ";" : ": ";
    line += value;
    list = curl_slist_append(list, line.c_str());
  }
  // No "Expect: 100-continue" round trip before bodies.
  list = curl_slist_append(list, "Expect:");
  header_list_.reset(list);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list_.get());

  const std::string& method = request.method;
  if (request.body_reader) {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &CurlExchange::on_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, this);
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, kReceiveBufferBytes);
    if (request.body_size) {
      curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(*request.body_size));
    }
    if (method != "PUT") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else if (method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else {
    if (method == "POST" || !request.body.empty()) {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    }
    if (method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (request.upload_progress) {
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &CurlExchange::on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, this);
  }
}

void CurlExchange::finish(CURLcode result) {
  finished_ = true;
  result_ = result;
  long code = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &code);
  status_ = static_cast<int>(code);
}

TimeoutError CurlExchange::idle_timeout_error() const {
  return {request_.method + " " + request_.url + ": no data for " +
              std::to_string(request_.idle_timeout.count()) + " ms (idle timeout)",
          true};
}

TimeoutError CurlExchange::deadline_error() const { return deadline_passed_error(request_); }

TimeoutError deadline_passed_error(const HttpRequest& request) {
  return {request.method + " " + request.url + ": the deadline passed", true};
}

std::string CurlExchange::describe_failure() const {
  std::string message = request_.method + " " + request_.url + ": " + curl_easy_strerror(result_);
  if (error_buffer_[0] != '\0') message += " (" + std::string(error_buffer_.data()) + ")";
  return message;
}

void CurlExchange::throw_if_failed() const {
  if (callback_error_) std::rethrow_exception(callback_error_);
  switch (result_) {
    case CURLE_OK:
      return;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      throw ConnectionError(describe_failure(), false);
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connect_time = 0;
      curl_easy_getinfo(easy_, CURLINFO_CONNECT_TIME_T, &connect_time);
      throw TimeoutError(describe_failure(), connect_time > 0);
    }
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
      throw ConnectionError("TLS failure: " + describe_failure(), false);
    case CURLE_ABORTED_BY_CALLBACK:
      throw CancelledError("the call was cancelled");
    case CURLE_OUT_OF_MEMORY:
      // What libcurl reports for a header line longer than it accepts.
      if (!headers_complete_) {
        throw DecodeError(request_.method + " " + request_.url +
                          ": a response header line is too large (libcurl accepts up to " +
                          std::to_string(CURL_MAX_HTTP_HEADER / 1024) + " KiB per line)");
      }
      throw ConnectionError(describe_failure(), true);
    default:
      throw ConnectionError(describe_failure(), true);
  }
}

void CurlExchange::fail_in_callback(std::exception_ptr error) noexcept {
  if (!callback_error_) callback_error_ = std::move(error);
}

std::size_t CurlExchange::on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* self = static_cast<CurlExchange*>(user);
  const std::size_t bytes = size * count;
  if (self->body_sink_) {
    if (self->hold_) {
      self->paused_ = true;
      return CURL_WRITEFUNC_PAUSE;  // delivered again, whole, after resume()
    }
    try {
      self->body_sink_(std::string_view(data, bytes));
    } catch (...) {
      self->fail_in_callback(std::current_exception());
      return CURL_WRITEFUNC_ERROR;
    }
    self->last_activity_ = Clock::now();
    return bytes;
  }
  if (self->streaming_ && self->body_.size() >= kMaxStreamBufferBytes) {
    self->paused_ = true;
    return CURL_WRITEFUNC_PAUSE;  // delivered again, whole, after resume()
  }
  try {
    const std::uint64_t limit = self->max_body_bytes_;
    if (limit != 0 && self->body_.size() + bytes > limit) {
      // Chunked and close-delimited bodies announce no length: they are counted as they come.
      throw DecodeError(self->request_.method + " " + self->request_.url +
                        ": the response body grew past the limit of " + std::to_string(limit) +
                        " bytes and was refused (max_response_bytes in ClientOptions)");
    }
    self->body_.append(data, bytes);
  } catch (...) {
    self->fail_in_callback(std::current_exception());
    return CURL_WRITEFUNC_ERROR;
  }
  self->last_activity_ = Clock::now();
  return bytes;
}

void CurlExchange::resume() {
  hold_ = false;
  if (!paused_ || finished_) return;
  paused_ = false;
  // Delivers the held piece to on_write at once, then lets the connection be read again.
  const CURLcode code = curl_easy_pause(easy_, CURLPAUSE_CONT);
  if (callback_error_) std::rethrow_exception(callback_error_);
  if (code != CURLE_OK) {
    throw ConnectionError(request_.method + " " + request_.url +
                              ": resuming the transfer failed: " + curl_easy_strerror(code),
                          true);
  }
}

void CurlExchange::check_header(std::string_view line) {
  header_bytes_ += line.size();
  if (header_bytes_ > kMaxHeaderBytes) {
    throw DecodeError(request_.method + " " + request_.url +
                      ": the response headers are too large (over " +
                      std::to_string(kMaxHeaderBytes / 1024) + " KiB in all)");
  }
  // The Content-Length of a HEAD response is the resource's, and no body follows.
  if (max_body_bytes_ == 0 || request_.method == "HEAD") return;
  static constexpr std::string_view kLength = "content-length:";
  if (line.size() <= kLength.size()) return;
  for (std::size_t i = 0; i < kLength.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != kLength[i]) return;
  }
  std::string_view value = line.substr(kLength.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  std::uint64_t length = 0;
  bool digits = !value.empty();
  for (const char c : value) {
    if (c < '0' || c > '9') {
      digits = false;
      break;
    }
    // A length too large for 64 bits is past any limit too.
    const auto digit = static_cast<std::uint64_t>(c - '0');
    length = length > (UINT64_MAX - digit) / 10 ? UINT64_MAX : length * 10 + digit;
  }
  // A malformed length is left to libcurl, which refuses it.
  if (digits && length > max_body_bytes_) {
    throw DecodeError(request_.method + " " + request_.url + ": the response declares " +
                      "Content-Length " + std::string(value) + ", more than the limit of " +
                      std::to_string(max_body_bytes_) +
                      " bytes, and was refused before its body was read (max_response_bytes "
                      "in ClientOptions)");
  }
}

std::size_t CurlExchange::on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* self = static_cast<CurlExchange*>(user);
  const std::size_t bytes = size * count;
  self->last_activity_ = Clock::now();
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  try {
    self->check_header(line);
    if (line.empty()) {
      long code = 0;
      curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &code);
      if (code >= 200) {
        self->headers_complete_ = true;
        self->status_ = static_cast<int>(code);
        if (self->on_head_) self->on_head_();
      }
    } else if (line.size() > 5 && line.substr(0, 5) == "HTTP/") {
      self->headers_.clear();  // a new response (after 1xx) starts
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      self->headers_.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
  } catch (...) {
    self->fail_in_callback(std::current_exception());
    return 0;
  }
  return bytes;
}

std::size_t CurlExchange::on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* self = static_cast<CurlExchange*>(user);
  self->last_activity_ = Clock::now();
  try {
    return self->request_.body_reader(buffer, size * count);
  } catch (...) {
    self->fail_in_callback(std::current_exception());
    return CURL_READFUNC_ABORT;
  }
}

int CurlExchange::on_progress(void* user, curl_off_t, curl_off_t, curl_off_t upload_total,
                              curl_off_t upload_now) {
  auto* self = static_cast<CurlExchange*>(user);
  if (self->cancel_.is_cancelled()) return 1;
  const auto now = static_cast<std::uint64_t>(upload_now);
  if (now != self->reported_upload_) {
    self->reported_upload_ = now;
    try {
      const auto total = self->request_.body_size ? *self->request_.body_size
                                                  : static_cast<std::uint64_t>(upload_total);
      self->request_.upload_progress(now, total);
    } catch (...) {
      self->fail_in_callback(std::current_exception());
      return 1;
    }
  }
  return 0;
}

}  // namespace inferencesh::detail
