#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inferencesh/cancellation.hpp"

namespace inferencesh {

/// HTTP header fields in the order they are sent or were received.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// Case-insensitive lookup of the first header named `name`.
std::optional<std::string> find_header(const Headers& headers, std::string_view name);

/// A request as the transport sends it. The API layer fills in URL, headers and body.
struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;

  /// Streams the body instead of `body` when set: called with a buffer, returns the number of
  /// bytes written (0 at the end). `body_size` must then give the exact length.
  std::function<std::size_t(char* buffer, std::size_t capacity)> body_reader;
  std::optional<std::uint64_t> body_size;
  /// Called as body bytes go out: (bytes sent so far, total).
  std::function<void(std::uint64_t sent, std::uint64_t total)> upload_progress;

  /// Limit on establishing the connection. Zero means the transport's default.
  std::chrono::milliseconds connect_timeout{0};
  /// Limit on the whole exchange for send(). Zero means none.
  std::chrono::milliseconds timeout{0};
  /// Fail when no byte moves (in either direction) for this long. Zero means none. For streams
  /// and long uploads, which have no total timeout.
  std::chrono::milliseconds idle_timeout{0};
  /// Fail with TimeoutError at this moment, whatever the other limits say: the end of a longer
  /// operation (a wait with a deadline) that this request is part of. Unset: none.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  /// For send(): refuse a response body larger than this with DecodeError, from its
  /// Content-Length before the body is read, else once the bytes received pass it. Zero means no
  /// limit. Bodies of streams (open()) are not limited; their reader decides what it keeps.
  std::uint64_t max_response_bytes = 0;
};

/// A complete response.
struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  std::optional<std::string> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

/// A response whose body arrives over time. Single consumer; destroy it to close the stream.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  ResponseStream() = default;
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  virtual int status() const = 0;
  virtual const Headers& headers() const = 0;

  /// Blocks until more body bytes arrive and replaces `chunk` with them. Returns false once the
  /// body ended cleanly. Throws ConnectionError, TimeoutError (idle timeout or deadline) or
  /// CancelledError; a cancel is honoured before every chunk, also while bytes keep arriving.
  virtual bool next(std::string& chunk) = 0;
};

/// How requests reach the server. The default is libcurl with a connection pool; supply your
/// own (through ClientOptions::transport) to route calls elsewhere or to record them.
/// Implementations must be safe to call from several threads at once.
class Transport {
 public:
  virtual ~Transport() = default;

  /// Performs one exchange and returns the whole response, whatever its status.
  /// Throws ConnectionError, TimeoutError or CancelledError when no response arrives, and
  /// DecodeError for a response past `max_response_bytes` or with oversized headers.
  virtual HttpResponse send(const HttpRequest& request, const CancellationToken& cancel) = 0;

  /// Sends the request and returns once the response headers arrived; the body is read from the
  /// returned stream as it comes. Throws as send() does.
  virtual std::unique_ptr<ResponseStream> open(const HttpRequest& request,
                                               const CancellationToken& cancel) = 0;
};

/// Settings of the built-in libcurl transport.
struct CurlTransportOptions {
  bool verify_tls = true;  ///< verify the server's certificate and host name
  std::string ca_bundle;   ///< PEM file of trusted CAs; empty: the system's
  std::string proxy;       ///< e.g. "http://proxy:3128"; empty: curl's environment rules
  std::chrono::milliseconds connect_timeout{10000};
  std::size_t max_idle_handles = 16;  ///< easy handles kept warm for reuse
};

/// The built-in transport: libcurl, one pool of handles per instance, each handle keeping its
/// keep-alive connection for the next call that takes it, from whichever thread.
std::shared_ptr<Transport> make_curl_transport(const CurlTransportOptions& options = {});

}  // namespace inferencesh
