// The built-in Transport: libcurl easy handles driven by a per-transfer multi handle.
//
// Each transfer runs on the calling thread: curl_multi_perform + curl_multi_poll in a loop. The
// multi interface (rather than curl_easy_perform) is what makes a call cancellable from another
// thread (curl_multi_wakeup interrupts the poll at once), lets a stream hand out body bytes as
// they arrive (pull model, no extra thread) and lets us apply an idle timeout to streams.
// Connections live in one share handle per transport, so keep-alive connections are reused by
// every handle of the pool, whichever thread runs the call.

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "inferencesh/errors.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh {
namespace {

using Clock = std::chrono::steady_clock;

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

struct EasyDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
struct MultiDeleter {
  void operator()(CURLM* handle) const noexcept { curl_multi_cleanup(handle); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

/// The connection cache, DNS cache and TLS sessions shared by all handles of one transport.
class Share {
 public:
  Share() : handle_(curl_share_init()) {
    if (handle_ == nullptr) throw ConnectionError("libcurl: curl_share_init failed", false);
    curl_share_setopt(handle_, CURLSHOPT_LOCKFUNC, &Share::lock);
    curl_share_setopt(handle_, CURLSHOPT_UNLOCKFUNC, &Share::unlock);
    curl_share_setopt(handle_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(handle_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(handle_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(handle_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~Share() { curl_share_cleanup(handle_); }
  Share(const Share&) = delete;
  Share& operator=(const Share&) = delete;

  CURLSH* get() const noexcept { return handle_; }

 private:
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Share*>(user)->mutex_for(data).lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Share*>(user)->mutex_for(data).unlock();
  }
  std::mutex& mutex_for(curl_lock_data data) {
    const auto index = static_cast<std::size_t>(data);
    return mutexes_[index < mutexes_.size() ? index : 0];
  }

  CURLSH* handle_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> mutexes_;
};

/// An easy handle with the multi handle that drives it.
struct Handle {
  EasyPtr easy;
  MultiPtr multi;
};

class CurlTransport;

/// One request/response exchange on a pooled handle.
class Transfer {
 public:
  Transfer(std::shared_ptr<CurlTransport> owner, const HttpRequest& request,
           CancellationToken cancel, bool streaming);
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  /// Drives the transfer until `ready()` holds or it finished. Throws on cancellation or on the
  /// idle timeout; a curl failure is kept in result() for the caller to map.
  template <typename Ready>
  void pump(Ready ready);

  bool finished() const noexcept { return finished_; }
  bool headers_complete() const noexcept { return headers_complete_; }
  int status() const noexcept { return status_; }
  Headers& headers() noexcept { return headers_; }
  const Headers& headers() const noexcept { return headers_; }
  std::string& body() noexcept { return body_; }
  /// Lets a stream that paused because its reader fell behind receive again.
  void resume();

  /// Throws the exception that describes a failed transfer; returns if it succeeded.
  void throw_if_failed() const;

  /// Throws CancelledError once the token fired and TimeoutError once the request's deadline
  /// passed: checked before every step, so neither waits for the data to pause.
  void check_cancel_and_deadline();

 private:
  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user);
  static std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user);
  static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

  void configure(const HttpRequest& request, bool streaming);
  void finish(CURLcode result);
  std::string describe_failure() const;
  /// Records an error a callback raises, for pump() or throw_if_failed() to rethrow.
  void fail_in_callback(std::exception_ptr error) noexcept;
  /// Applies the limits to one header line: throws DecodeError when the headers grow too large
  /// or a Content-Length announces a body past max_body_bytes_.
  void check_header(std::string_view line);

  std::shared_ptr<CurlTransport> owner_;
  std::unique_ptr<Handle> handle_;
  const HttpRequest& request_;
  CancellationToken cancel_;
  CancellationToken::Registration wake_on_cancel_;
  SlistPtr header_list_;
  std::array<char, CURL_ERROR_SIZE> error_buffer_{};
  std::chrono::milliseconds idle_timeout_{0};
  Clock::time_point last_activity_ = Clock::now();
  std::exception_ptr callback_error_;
  std::uint64_t reported_upload_ = 0;
  std::uint64_t max_body_bytes_ = 0;  // unary bodies only; 0: no limit
  std::size_t header_bytes_ = 0;      // of every response head so far (1xx ones included)

  bool added_ = false;
  bool finished_ = false;
  bool headers_complete_ = false;
  bool aborted_by_timeout_ = false;
  bool streaming_ = false;
  bool paused_ = false;  // a stream's body_ is full: curl holds the next piece until resume()
  CURLcode result_ = CURLE_OK;
  int status_ = 0;
  Headers headers_;
  std::string body_;
};

class CurlTransport final : public Transport, public std::enable_shared_from_this<CurlTransport> {
 public:
  explicit CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {}

  HttpResponse send(const HttpRequest& request, const CancellationToken& cancel) override;
  std::unique_ptr<ResponseStream> open(const HttpRequest& request,
                                       const CancellationToken& cancel) override;

  const CurlTransportOptions& options() const noexcept { return options_; }
  CURLSH* share() const noexcept { return share_.get(); }

  std::unique_ptr<Handle> acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex_);
      if (!idle_.empty()) {
        auto handle = std::move(idle_.back());
        idle_.pop_back();
        return handle;
      }
    }
    auto handle = std::make_unique<Handle>();
    handle->easy.reset(curl_easy_init());
    handle->multi.reset(curl_multi_init());
    if (!handle->easy || !handle->multi) {
      throw ConnectionError("libcurl: could not create a handle", false);
    }
    return handle;
  }

  void release(std::unique_ptr<Handle> handle) {
    curl_easy_reset(handle->easy.get());
    std::lock_guard<std::mutex> lock(pool_mutex_);
    if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(handle));
  }

 private:
  CurlTransportOptions options_;
  Share share_;  // declared before the pool: handles are cleaned up before the share
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// ---------------------------------------------------------------------------------------------

Transfer::Transfer(std::shared_ptr<CurlTransport> owner, const HttpRequest& request,
                   CancellationToken cancel, bool streaming)
    : owner_(std::move(owner)),
      handle_(owner_->acquire()),
      request_(request),
      cancel_(std::move(cancel)) {
  if (cancel_.is_cancelled()) {
    owner_->release(std::move(handle_));
    throw CancelledError("the call was cancelled before it started");
  }
  configure(request, streaming);
  CURLM* multi = handle_->multi.get();
  if (curl_multi_add_handle(multi, handle_->easy.get()) != CURLM_OK) {
    owner_->release(std::move(handle_));
    throw ConnectionError("libcurl: could not start the transfer", false);
  }
  added_ = true;
  wake_on_cancel_ = cancel_.on_cancel([multi] { curl_multi_wakeup(multi); });
}

Transfer::~Transfer() {
  if (!handle_) return;
  // Unregister first so a concurrent cancel() cannot touch the multi handle once it is pooled.
  wake_on_cancel_ = CancellationToken::Registration();
  if (added_) {
    // Removing an unfinished transfer makes curl close its connection instead of reusing it.
    curl_multi_remove_handle(handle_->multi.get(), handle_->easy.get());
  }
  owner_->release(std::move(handle_));
}

// Receive buffer of each easy handle, and send buffer of uploads (see configure()).
constexpr long kReceiveBufferBytes = 256L * 1024;
// A stream's received but not yet taken bytes stop growing here: libcurl may deliver many
// pieces in one curl_multi_perform, so without a cap a fast download would pile up in memory.
constexpr std::size_t kMaxStreamBufferBytes = std::size_t{1024} * 1024;
// Response headers, all lines together. libcurl refuses a single line over
// CURL_MAX_HTTP_HEADER (100 KiB) itself, reporting it as running out of memory; this bounds
// the number of lines too, and so what the transport keeps of them.
constexpr std::size_t kMaxHeaderBytes = std::size_t{256} * 1024;

void Transfer::configure(const HttpRequest& request, bool streaming) {
  CURL* easy = handle_->easy.get();
  const auto& options = owner_->options();
  streaming_ = streaming;

  curl_easy_setopt(easy, CURLOPT_SHARE, owner_->share());
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer_.data());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  // Larger receive pieces than curl's 16 KiB default: a big download then costs a sixth of the
  // wake-ups and system calls (the curl program uses 100 KiB).
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
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
  // The idle timeout applies to both kinds of call: it is what guards a long upload, which has
  // no total timeout.
  idle_timeout_ = request.idle_timeout;
  if (!streaming) max_body_bytes_ = request.max_response_bytes;
  if (streaming) {
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
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &Transfer::on_read);
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
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &Transfer::on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, this);
  }
}

void Transfer::check_cancel_and_deadline() {
  if (cancel_.is_cancelled()) throw CancelledError("the call was cancelled");
  if (request_.deadline && Clock::now() >= *request_.deadline) {
    aborted_by_timeout_ = true;
    throw TimeoutError(request_.method + " " + request_.url + ": the deadline passed", true);
  }
}

template <typename Ready>
void Transfer::pump(Ready ready) {
  CURLM* multi = handle_->multi.get();
  while (!finished_) {
    // Before each step, not only when the connection is quiet: a server that never stops
    // sending must not keep a cancelled call alive.
    check_cancel_and_deadline();
    int running = 0;
    const CURLMcode code = curl_multi_perform(multi, &running);
    if (callback_error_) std::rethrow_exception(callback_error_);
    if (code != CURLM_OK) {
      throw ConnectionError(std::string("libcurl: ") + curl_multi_strerror(code), true);
    }
    if (running == 0) {
      int queued = 0;
      CURLcode result = CURLE_OK;
      while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
        if (message->msg == CURLMSG_DONE) result = message->data.result;
      }
      finish(result);
      return;
    }
    if (ready()) return;
    check_cancel_and_deadline();

    int wait_ms = 1000;
    if (request_.deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*request_.deadline - Clock::now());
      if (left.count() < wait_ms)
        wait_ms = static_cast<int>(std::max<long long>(left.count(), 0)) + 1;
    }
    if (idle_timeout_.count() > 0) {
      const auto idle_left = std::chrono::duration_cast<std::chrono::milliseconds>(
          last_activity_ + idle_timeout_ - Clock::now());
      if (idle_left.count() <= 0) {
        aborted_by_timeout_ = true;
        throw TimeoutError(request_.method + " " + request_.url + ": no data for " +
                               std::to_string(idle_timeout_.count()) + " ms (idle timeout)",
                           true);
      }
      if (idle_left.count() < wait_ms) wait_ms = static_cast<int>(idle_left.count()) + 1;
    }
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
}

void Transfer::finish(CURLcode result) {
  finished_ = true;
  result_ = result;
  long code = 0;
  curl_easy_getinfo(handle_->easy.get(), CURLINFO_RESPONSE_CODE, &code);
  status_ = static_cast<int>(code);
  wake_on_cancel_ = CancellationToken::Registration();
  curl_multi_remove_handle(handle_->multi.get(), handle_->easy.get());
  added_ = false;
}

std::string Transfer::describe_failure() const {
  std::string message = request_.method + " " + request_.url + ": " + curl_easy_strerror(result_);
  if (error_buffer_[0] != '\0') message += " (" + std::string(error_buffer_.data()) + ")";
  return message;
}

void Transfer::throw_if_failed() const {
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
      curl_easy_getinfo(handle_->easy.get(), CURLINFO_CONNECT_TIME_T, &connect_time);
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

void Transfer::fail_in_callback(std::exception_ptr error) noexcept {
  if (!callback_error_) callback_error_ = std::move(error);
}

std::size_t Transfer::on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* self = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
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

void Transfer::resume() {
  if (!paused_ || finished_) return;
  paused_ = false;
  // Delivers the held piece to on_write at once, then lets the connection be read again.
  const CURLcode code = curl_easy_pause(handle_->easy.get(), CURLPAUSE_CONT);
  if (callback_error_) std::rethrow_exception(callback_error_);
  if (code != CURLE_OK) {
    throw ConnectionError(request_.method + " " + request_.url +
                              ": resuming the transfer failed: " + curl_easy_strerror(code),
                          true);
  }
}

void Transfer::check_header(std::string_view line) {
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

std::size_t Transfer::on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* self = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  self->last_activity_ = Clock::now();
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  try {
    self->check_header(line);
    if (line.empty()) {
      long code = 0;
      curl_easy_getinfo(self->handle_->easy.get(), CURLINFO_RESPONSE_CODE, &code);
      if (code >= 200) {
        self->headers_complete_ = true;
        self->status_ = static_cast<int>(code);
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

std::size_t Transfer::on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* self = static_cast<Transfer*>(user);
  self->last_activity_ = Clock::now();
  try {
    return self->request_.body_reader(buffer, size * count);
  } catch (...) {
    self->fail_in_callback(std::current_exception());
    return CURL_READFUNC_ABORT;
  }
}

int Transfer::on_progress(void* user, curl_off_t, curl_off_t, curl_off_t upload_total,
                          curl_off_t upload_now) {
  auto* self = static_cast<Transfer*>(user);
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

// ---------------------------------------------------------------------------------------------

class CurlResponseStream final : public ResponseStream {
 public:
  CurlResponseStream(std::shared_ptr<CurlTransport> owner, HttpRequest request,
                     const CancellationToken& cancel)
      : request_(std::move(request)),
        transfer_(std::move(owner), request_, cancel, /*streaming=*/true) {
    transfer_.pump([this] { return transfer_.headers_complete(); });
    if (!transfer_.headers_complete()) transfer_.throw_if_failed();
  }

  int status() const override { return transfer_.status(); }
  const Headers& headers() const override { return transfer_.headers(); }

  bool next(std::string& chunk) override {
    transfer_.check_cancel_and_deadline();
    if (transfer_.body().empty() && !transfer_.finished()) {
      transfer_.pump([this] { return !transfer_.body().empty(); });
    }
    if (!transfer_.body().empty()) {
      chunk.clear();
      chunk.swap(transfer_.body());
      transfer_.resume();
      return true;
    }
    transfer_.throw_if_failed();
    return false;
  }

 private:
  HttpRequest request_;  // owned here: the transfer points into it for its whole life
  Transfer transfer_;
};

HttpResponse CurlTransport::send(const HttpRequest& request, const CancellationToken& cancel) {
  Transfer transfer(shared_from_this(), request, cancel, /*streaming=*/false);
  transfer.pump([] { return false; });
  transfer.throw_if_failed();
  HttpResponse response;
  response.status = transfer.status();
  response.headers = std::move(transfer.headers());
  response.body = std::move(transfer.body());
  return response;
}

std::unique_ptr<ResponseStream> CurlTransport::open(const HttpRequest& request,
                                                    const CancellationToken& cancel) {
  return std::make_unique<CurlResponseStream>(shared_from_this(), request, cancel);
}

}  // namespace

std::shared_ptr<Transport> make_curl_transport(const CurlTransportOptions& options) {
  ensure_curl_global_init();
  return std::make_shared<CurlTransport>(options);
}

}  // namespace inferencesh
