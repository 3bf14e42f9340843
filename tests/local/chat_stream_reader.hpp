#pragma once

// A chat stream (GET /chats/{id}/stream) read over a raw socket, for the chat tests: its events
// as they arrive, NDJSON or SSE, waited for by content rather than by time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "local_runtime_fixture.hpp"

namespace infsh::local::testing {

class ChatStreamReader {
 public:
  /// Connects and sends the request; `accept` is the Accept header.
  ChatStreamReader(std::uint16_t port, const std::string& chat_id,
                   const std::string& accept = "application/x-ndjson");
  ~ChatStreamReader();
  ChatStreamReader(const ChatStreamReader&) = delete;
  ChatStreamReader& operator=(const ChatStreamReader&) = delete;

  /// The response status and Content-Type (reads the head if not yet read).
  int status();
  std::string content_type();

  /// Reads until an event after the last one returned matches, and returns it ({"event",
  /// "data"}). Throws std::runtime_error (with the events seen) on timeout or when the server
  /// closes the stream first.
  nlohmann::json wait_for(const std::function<bool(const nlohmann::json&)>& match,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
  /// Waits for the chat's `chats` event with this status.
  nlohmann::json wait_for_chat(const std::string& status);
  /// Waits for a `chat_messages` event whose message has this role and status.
  nlohmann::json wait_for_message(const std::string& role, const std::string& status);

  /// Every event so far (heartbeats left out), in order.
  const std::vector<nlohmann::json>& events() const { return events_; }
  /// Heartbeats seen so far.
  int heartbeats() const { return heartbeats_; }
  /// True once the server ended the stream (reads what is left, within `timeout`).
  bool ended(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);  // false on close
  void read_head(std::chrono::steady_clock::time_point deadline);
  void parse();
  std::string seen() const;

  RawConnection connection_;
  bool sse_ = false;
  bool head_done_ = false;
  bool closed_ = false;
  bool body_ended_ = false;
  int status_ = 0;
  std::string content_type_;
  std::string raw_;   // bytes after the head, still chunk-framed
  std::string body_;  // de-chunked bytes not yet split into events
  std::vector<nlohmann::json> events_;
  std::size_t returned_ = 0;  // events handed out by wait_for
  int heartbeats_ = 0;
};

/// The text part of a ChatMessageDTO's content ("" when it has none).
std::string message_text(const nlohmann::json& message);

}  // namespace infsh::local::testing
