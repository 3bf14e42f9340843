#pragma once

// One HTTP exchange on a libcurl easy handle, whoever drives it: the blocking transport (a
// multi handle per call, on the calling thread) and the async loop (one multi handle for all
// calls, on the loop thread) configure and read their transfers here, so TLS, proxy, timeouts,
// body and header limits and the mapping of failures to exceptions exist once.

#include <curl/curl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "inferencesh/errors.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh::detail {

/// The TimeoutError of a request whose deadline passed (before or while it was on the network).
TimeoutError deadline_passed_error(const HttpRequest& request);

/// Runs curl_global_init once per process (throws ConnectionError when it fails).
void ensure_curl_global_init();

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

/// The DNS cache and TLS sessions shared by the handles of one transport (not the connection
/// cache, which libcurl cannot share between threads: each handle keeps its own connections).
class CurlShare {
 public:
  CurlShare();
  ~CurlShare();
  CurlShare(const CurlShare&) = delete;
  CurlShare& operator=(const CurlShare&) = delete;

  CURLSH* get() const noexcept { return handle_; }

 private:
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user);
  static void unlock(CURL*, curl_lock_data data, void* user);
  std::mutex& mutex_for(curl_lock_data data);

  CURLSH* handle_;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> mutexes_;
};

/// The request/response state of one transfer on an easy handle: the options set from the
/// request and the transport settings, the callbacks that collect headers and body within their
/// limits, and the exception a failed transfer stands for. Not thread-safe: it lives on the
/// thread that drives the handle.
class CurlExchange {
 public:
  using Clock = std::chrono::steady_clock;

  /// Configures `easy` (reset, or fresh) for `request`, which must outlive the exchange.
  /// `streaming`: the body is handed out in pieces (no total timeout, no body limit; buffered
  /// up to a bound, then the transfer pauses) instead of collected whole. `body_sink`, when
  /// given for a stream, receives each piece as it arrives instead of the buffer.
  /// `cancel` aborts an upload from its progress callback.
  CurlExchange(CURL* easy, CURLSH* share, const CurlTransportOptions& options,
               const HttpRequest& request, CancellationToken cancel, bool streaming,
               std::function<void(std::string_view)> body_sink = {});
  CurlExchange(const CurlExchange&) = delete;
  CurlExchange& operator=(const CurlExchange&) = delete;

  CURL* easy() const noexcept { return easy_; }
  const HttpRequest& request() const noexcept { return request_; }

  bool headers_complete() const noexcept { return headers_complete_; }
  /// Calls `callback` once the final response's head (status and headers) is in, before any of
  /// its body: a stream is known to be open even when no byte of its body comes for a while.
  void on_head(std::function<void()> callback) { on_head_ = std::move(callback); }
  int status() const noexcept { return status_; }
  Headers& headers() noexcept { return headers_; }
  const Headers& headers() const noexcept { return headers_; }
  std::string& body() noexcept { return body_; }
  bool paused() const noexcept { return paused_; }
  /// When a byte last moved, either way: what the idle timeout counts from.
  Clock::time_point last_activity() const noexcept { return last_activity_; }
  /// An exception a callback raised (a limit, a throwing body reader or sink), if any.
  const std::exception_ptr& callback_error() const noexcept { return callback_error_; }

  /// Records the transfer's end: curl's result code and the final status.
  void finish(CURLcode result);
  /// Stops a stream with a body sink from receiving: the next piece is refused with
  /// CURL_WRITEFUNC_PAUSE, which libcurl holds (its connection is then not read) and delivers
  /// again, whole, after resume(). Works from inside the sink too.
  void hold() noexcept { hold_ = true; }
  /// Lets a stream that paused (its reader fell behind, or hold()) receive again.
  void resume();

  /// Throws the exception that describes a failed transfer; returns if it succeeded.
  void throw_if_failed() const;

  /// The TimeoutError of an idle connection, and of a passed deadline.
  TimeoutError idle_timeout_error() const;
  TimeoutError deadline_error() const;

 private:
  static std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user);
  static std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user);
  static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

  void configure(CURLSH* share, const CurlTransportOptions& options);
  std::string describe_failure() const;
  void fail_in_callback(std::exception_ptr error) noexcept;
  /// Applies the limits to one header line: throws DecodeError when the headers grow too large
  /// or a Content-Length announces a body past max_body_bytes_.
  void check_header(std::string_view line);

  CURL* easy_;
  const HttpRequest& request_;
  CancellationToken cancel_;
  std::function<void(std::string_view)> body_sink_;
  SlistPtr header_list_;
  std::array<char, CURL_ERROR_SIZE> error_buffer_{};
  Clock::time_point last_activity_ = Clock::now();
  std::exception_ptr callback_error_;
  std::uint64_t reported_upload_ = 0;
  std::uint64_t max_body_bytes_ = 0;  // unary bodies only; 0: no limit
  std::size_t header_bytes_ = 0;      // of every response head so far (1xx ones included)

  bool finished_ = false;
  bool headers_complete_ = false;
  std::function<void()> on_head_;
  bool streaming_ = false;
  bool paused_ = false;  // a stream's body_ is full: curl holds the next piece until resume()
  bool hold_ = false;    // hold() was asked: the sink takes no piece until resume()
  CURLcode result_ = CURLE_OK;
  int status_ = 0;
  Headers headers_;
  std::string body_;
};

}  // namespace inferencesh::detail
