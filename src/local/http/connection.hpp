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

#include "http/host_policy.hpp"
#include "http/http_message.hpp"
#include "http/http_server.hpp"
#include "support/logger.hpp"

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
};

/// What streams hold: bytes handed to their sinks and not yet written to the socket (queued on
/// the loop, or still on their way there from the thread that sent them), all streams together.
/// Shared with the sinks, which count from any thread.
struct StreamBudget {
  StreamBudget(std::size_t max_per_stream_, std::size_t max_total_)
      : max_per_stream(max_per_stream_), max_total(max_total_) {}
  const std::size_t max_per_stream;
  const std::size_t max_total;
  std::atomic<std::size_t> total{0};
  std::atomic<std::size_t> streams{0};  ///< open streams, for each one's fair share of max_total
};

/// State shared by the server and all its connections.
struct ServerShared {
  ServerShared(HttpServerOptions options_, RequestHandler handler_, BodyPlanner plan_body_,
               ErrorResponder errors_, const Logger& log_, std::shared_ptr<LoopPoster> poster_,
               bool loopback_bind)
      : options(std::move(options_)),
        host_policy(loopback_bind, options.allowed_hosts),
        stream_budget(std::make_shared<StreamBudget>(options.max_stream_backlog_bytes,
                                                     options.max_total_stream_backlog_bytes)),
        handler(std::move(handler_)),
        plan_body(std::move(plan_body_)),
        errors(std::move(errors_)),
        log(log_),
        poster(std::move(poster_)) {}

  const HttpServerOptions options;
  const HostPolicy host_policy;
  const std::shared_ptr<StreamBudget> stream_budget;
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
  // Live connections, for shutdown.
  std::unordered_map<ConnectionControl*, std::weak_ptr<ConnectionControl>> connections;
  // Request body bytes in memory: whole bodies being read (a declared length is held at the
  // head), and streamed pieces handed to readers and not yet consumed.
  std::size_t body_bytes_held = 0;
  // Where connections read bytes they drop (after a refusal, or while streaming). Shared: its
  // content is never looked at, and every read into it runs on the loop thread.
  std::array<char, std::size_t{64} * 1024> scratch{};
};

/// Takes over an accepted socket and starts serving requests on it.
void start_connection(boost::asio::ip::tcp::socket socket,
                      const std::shared_ptr<ServerShared>& shared);

}  // namespace infsh::local
