#pragma once

// The event-driven HTTP/1.1 server: one event-loop thread holds every connection; handlers run
// on that thread and must not block. Boost stays behind the pimpl.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/http_message.hpp"
#include "support/logger.hpp"

namespace infsh::local {

/// The server's limits; see RuntimeOptions for what each one means to clients.
struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::vector<std::string> allowed_hosts;  ///< Host names accepted on a loopback bind
  std::size_t max_body_bytes = std::size_t{8} * 1024 * 1024;
  std::size_t max_header_bytes =
      std::size_t{16} * 1024;  ///< also chunk extensions + trailers, together
  std::size_t max_connections = 20000;
  std::size_t max_buffered_body_bytes =
      std::size_t{64} * 1024 * 1024;  ///< all connections together
  std::chrono::milliseconds request_timeout{30000};
  std::size_t min_body_rate = 1024;  ///< bytes per second of streamed bodies
  std::chrono::milliseconds write_timeout{30000};
  std::size_t max_stream_backlog_bytes = std::size_t{4} * 1024 * 1024;
  std::size_t max_total_stream_backlog_bytes = std::size_t{64} * 1024 * 1024;
};

struct HttpServerStats {
  std::size_t open_connections = 0;
  std::size_t open_streams = 0;
  std::uint64_t streams_opened = 0;
  std::uint64_t requests = 0;
};

/// Builds the error response the server itself sends (malformed request, too large, ...), so
/// it has the same body as the API's own errors.
using ErrorResponder = std::function<Response(int status, const std::string& message)>;

/// A one-shot timer whose callback runs on the event loop. Arming again replaces the pending
/// callback. Safe to use from any thread; nothing fires once the server stopped.
class LoopTimer {
 public:
  virtual ~LoopTimer() = default;
  /// Runs `fire` on the loop at `when` (at once when that has passed).
  virtual void arm(std::chrono::steady_clock::time_point when, std::function<void()> fire) = 0;
  virtual void cancel() = 0;
};

class HttpServer {
 public:
  /// `plan_body` decides how each request body is read (whole, streamed, or refused); empty:
  /// always whole.
  HttpServer(const HttpServerOptions& options, RequestHandler handler, BodyPlanner plan_body,
             ErrorResponder errors, const Logger& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts the event-loop thread. Throws std::runtime_error naming the address.
  void start();
  std::uint16_t port() const noexcept;

  /// Runs `task` on the event loop. Dropped once the server stopped.
  void post(std::function<void()> task);

  /// A timer on the event loop; valid until the server is destroyed.
  std::unique_ptr<LoopTimer> make_timer();

  /// Closes the listening socket; open connections stay, but answer with Connection: close.
  void stop_accepting();
  /// Closes every open stream abruptly (no final chunk).
  void drop_streams();
  /// Waits until no stream is open, or `timeout` passes; returns whether none is open.
  bool wait_for_streams_closed(std::chrono::milliseconds timeout);
  /// Closes every connection, stops the loop and joins its thread. Idempotent.
  void stop();

  HttpServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace infsh::local
