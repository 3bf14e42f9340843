#pragma once

// What the server and its connections share, and how the server starts a connection. Only
// Asio's socket type shows here; Beast stays inside connection.cpp.

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
  virtual void close() = 0;        ///< closes the socket now
  virtual void drop_stream() = 0;  ///< closes the socket if it carries a stream
};

/// State shared by the server and all its connections.
struct ServerShared {
  ServerShared(HttpServerOptions options_, RequestHandler handler_, BodyPlanner plan_body_,
               ErrorResponder errors_, const Logger& log_, std::shared_ptr<LoopPoster> poster_)
      : options(std::move(options_)),
        handler(std::move(handler_)),
        plan_body(std::move(plan_body_)),
        errors(std::move(errors_)),
        log(log_),
        poster(std::move(poster_)) {}

  const HttpServerOptions options;
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

  // Live connections, for shutdown. Loop thread only.
  std::unordered_map<ConnectionControl*, std::weak_ptr<ConnectionControl>> connections;
};

/// Takes over an accepted socket and starts serving requests on it.
void start_connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerShared> shared);

}  // namespace infsh::local
