#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "async_loop.hpp"
#include "client_core.hpp"
#include "ndjson_decoder.hpp"
#include "reconnect_backoff.hpp"
#include "sse_decoder.hpp"
#include "stream_event.hpp"

namespace inferencesh::detail {

/// The events of one chat (`GET /chats/{id}/stream`) on the async loop, across connections, with
/// the blocking ChatEventSource's rules: the same decoders, a connection that ends or breaks is
/// reopened after ReconnectBackoff's delay, StreamError once `max_reconnects` connections in a
/// row brought no event, a status that will not pass (401, 404, ...) ends it; heartbeats are
/// skipped, refused lines logged. Loop thread only (create() may be called anywhere).
///
/// Events can be held (hold()/release(), counted): they queue while held, so the driver can
/// take in a fetched chat, or the answer of the message it sends, before the events after it.
/// A connection that ended is reopened only once its events were handed out.
class AsyncChatEventSource : public std::enable_shared_from_this<AsyncChatEventSource> {
 public:
  struct Handlers {
    /// A connection opened (2xx head). `reopened`: not the first one.
    std::function<void(bool reopened)> on_open;
    std::function<void(const StreamEvent& event)> on_event;
    /// The source gave up: StreamError, the ApiError of a refused request, CancelledError (the
    /// token fired, or the loop shut down). Nothing is delivered afterwards.
    std::function<void(std::exception_ptr error)> on_error;
  };

  static std::shared_ptr<AsyncChatEventSource> create(std::shared_ptr<AsyncLoop> loop,
                                                      std::shared_ptr<const ClientCore> core,
                                                      std::string chat_id, int max_reconnects,
                                                      CancellationToken cancel, Handlers handlers);

  AsyncChatEventSource(std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core,
                       std::string chat_id, int max_reconnects, CancellationToken cancel,
                       Handlers handlers);
  AsyncChatEventSource(const AsyncChatEventSource&) = delete;
  AsyncChatEventSource& operator=(const AsyncChatEventSource&) = delete;

  /// Opens the first connection.
  void start();
  /// Queues events instead of delivering them, until as many release() calls.
  void hold() noexcept { ++holds_; }
  /// Delivers what queued meanwhile once nothing holds the events any longer.
  void release();
  /// Stops: closes the connection and forgets queued events; no handler is called afterwards.
  /// Idempotent.
  void close();

 private:
  void open();
  void on_headers(int status, const Headers& headers);
  void on_data(std::string_view bytes);
  void on_end(const std::exception_ptr& error);
  void take(StreamEvent&& event);
  void deliver();
  void reconnect(const std::string& reason);
  void fail(std::exception_ptr error);
  bool success_status() const noexcept { return status_ >= 200 && status_ < 300; }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  std::string chat_id_;
  CancellationToken cancel_;
  Handlers handlers_;
  ReconnectBackoff backoff_;
  bool closed_ = false;
  int holds_ = 0;
  bool delivering_ = false;
  int connections_ = 0;
  int skipped_ = 0;

  std::uint64_t stream_ = 0;
  std::string url_;
  int status_ = 0;
  Headers headers_;
  std::string error_body_;
  std::optional<NdjsonDecoder> ndjson_;
  std::optional<SseDecoder> sse_;
  std::deque<StreamEvent> pending_;
  std::optional<std::string> reconnect_due_;  // the connection ended, for this reason
};

}  // namespace inferencesh::detail
