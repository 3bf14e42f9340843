#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "client_core.hpp"
#include "inferencesh/errors.hpp"
#include "ndjson_decoder.hpp"
#include "reconnect_backoff.hpp"
#include "sse_decoder.hpp"
#include "stream_event.hpp"

namespace inferencesh::detail {

/// The error a chat stream gives up with after `failures` connections in a row without an event.
StreamError chat_stream_gave_up(const std::string& chat_id, const std::string& reason,
                                int failures);

/// The events of one chat (`GET /chats/{id}/stream`), one at a time, across connections: when
/// the connection ends or breaks it is reopened after a backoff with jitter, and StreamError
/// is raised once `max_reconnects` connections in a row brought no event. Heartbeats and
/// refused lines are skipped (the latter logged). The token and the deadline are checked
/// before every chunk read.
class ChatEventSource {
 public:
  using Clock = std::chrono::steady_clock;

  ChatEventSource(std::shared_ptr<const ClientCore> core, std::string chat_id, int max_reconnects,
                  CancellationToken cancel, std::optional<Clock::time_point> deadline);
  ~ChatEventSource();
  ChatEventSource(const ChatEventSource&) = delete;
  ChatEventSource& operator=(const ChatEventSource&) = delete;

  /// Opens the connection now, if it is not open, so that no later event is missed.
  void open();
  /// Blocks for the next event (typed, full object or partial update).
  StreamEvent next();
  /// Called after a connection was reopened, before its events are handed out: what happened
  /// in between is not replayed by every server, so the caller may fetch the state.
  void on_reopened(std::function<void()> callback) { on_reopened_ = std::move(callback); }
  void close();
  const std::string& chat_id() const noexcept { return chat_id_; }

 private:
  void drop();
  void schedule_reconnect(const std::string& reason);
  void check_cancel_and_deadline() const;

  std::shared_ptr<const ClientCore> core_;
  std::string chat_id_;
  ReconnectBackoff backoff_;
  CancellationToken cancel_;
  std::optional<Clock::time_point> deadline_;
  std::function<void()> on_reopened_;

  std::unique_ptr<ResponseStream> stream_;
  std::optional<NdjsonDecoder> ndjson_;
  std::optional<SseDecoder> sse_;
  std::deque<StreamEvent> pending_;
  std::string chunk_;
  int connections_ = 0;
  bool reopen_pending_ = false;
  int skipped_ = 0;
};

}  // namespace inferencesh::detail
