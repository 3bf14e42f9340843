#pragma once

// What the server and its connections share, and how the server starts a connection. Only
// Asio's socket type shows here; Beast stays inside request_reader.cpp.

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "host_policy.hpp"
#include "http_message.hpp"
#include "http_server.hpp"
#include "logger.hpp"

namespace infsh::local {

/// Posts work to the event loop while it runs; a no-op once it stopped. Held by stream sinks so
/// threads that outlive the loop never touch a destroyed io_context.
class LoopPoster {
 public:
  explicit LoopPoster(boost::asio::io_context& context) : context_(&context) {}
  void post(std::function<void()> task);
  void disable();

 private:
  std::mutex mutex_;
  boost::asio::io_context* context_;
};

/// A connection as the server sees it, for shutdown and stream dropping. Loop thread only.
class ConnectionControl {
 public:
  virtual ~ConnectionControl() = default;
  virtual void close() noexcept = 0;  ///< closes the socket now
  virtual void drop_stream() = 0;     ///< closes the socket if it carries a stream
  /// Bytes of a stream queued and not yet written (0 for other connections).
  virtual std::size_t stream_backlog() const noexcept = 0;
};

/// State shared by the server and all its connections.
struct ServerShared {
  ServerShared(HttpServerOptions options_, RequestHandler handler_, BodyPlanner plan_body_,
               ErrorResponder errors_, const Logger& log_, std::shared_ptr<LoopPoster> poster_,
               bool loopback_bind)
      : options(std::move(options_)),
        host_policy(loopback_bind, options.allowed_hosts),
        handler(std::move(handler_)),
        plan_body(std::move(plan_body_)),
        errors(std::move(errors_)),
        log(log_),
        poster(std::move(poster_)) {}

  const HttpServerOptions options;
  const HostPolicy host_policy;
  const RequestHandler handler;
  const BodyPlanner plan_body;
  const ErrorResponder errors;
  const Logger& log;
  const std::shared_ptr<LoopPoster> poster;

  std::atomic<std::size_t> open_connections{0};
  std::atomic<std::size_t> open_streams{0};
  std::atomic<std::uint64_t> streams_opened{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<bool> draining{false};  ///< answer with Connection: close from now on

  // Signalled whenever a stream closes, for wait_for_streams_closed().
  std::mutex streams_mutex;
  std::condition_variable streams_closed;

  // Loop thread only:
  // Live connections, for shutdown and for shedding stream backlogs.
  std::unordered_map<ConnectionControl*, std::weak_ptr<ConnectionControl>> connections;
  // Request body bytes in memory: whole bodies being read (a declared length is held at the
  // head), and streamed pieces handed to readers and not yet consumed.
  std::size_t body_bytes_held = 0;
  // Stream bytes queued and not yet written, all streams together.
  std::size_t stream_backlog_bytes = 0;
  // Where connections read bytes they drop (after a refusal, or while streaming). Shared: its
  // content is never looked at, and every read into it runs on the loop thread.
  std::array<char, 64 * 1024> scratch{};
};

/// Takes over an accepted socket and starts serving requests on it.
void start_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerShared> shared);

}  // namespace infsh::local
