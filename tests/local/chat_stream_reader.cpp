#include "chat_stream_reader.hpp"

#include <stdexcept>

namespace infsh::local::testing {

ChatStreamReader::ChatStreamReader(std::uint16_t port, const std::string& chat_id,
                                   const std::string& accept)
    : connection_(port) {
  const std::string request = "GET /chats/" + chat_id + "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              "Authorization: Bearer test-key\r\nAccept: " + accept + "\r\n\r\n";
  if (!connection_.send(request)) throw std::runtime_error("sending the stream request failed");
}

ChatStreamReader::~ChatStreamReader() = default;

bool ChatStreamReader::read_more(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  if (connection_.receive(deadline, raw_) == RawConnection::Received::closed) {
    closed_ = true;
    return false;
  }
  return true;  // bytes, or the deadline passed: the caller checks its deadline
}

void ChatStreamReader::read_head(std::chrono::steady_clock::time_point deadline) {
  while (!head_done_) {
    const auto end = raw_.find("\r\n\r\n");
    if (end != std::string::npos) {
      const RawResponse head = parse_response_head(raw_.substr(0, end));
      raw_.erase(0, end + 4);
      status_ = head.status;
      content_type_ = head.header("Content-Type").value_or("");
      sse_ = content_type_.find("text/event-stream") != std::string::npos;
      head_done_ = true;
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) throw std::runtime_error("no response head");
    if (!read_more(deadline)) throw std::runtime_error("closed before a response head");
  }
}

int ChatStreamReader::status() {
  read_head(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  return status_;
}

std::string ChatStreamReader::content_type() {
  read_head(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  return content_type_;
}

void ChatStreamReader::parse() {
  // Chunk framing: "<hex>\r\n<bytes>\r\n"; a 0 chunk ends the body. Error responses have a
  // Content-Length instead and are not parsed here.
  for (;;) {
    const auto line_end = raw_.find("\r\n");
    if (line_end == std::string::npos) break;
    const std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
    if (size == 0) {
      body_ended_ = true;
      raw_.clear();
      break;
    }
    if (raw_.size() < line_end + 2 + size + 2) break;
    body_.append(raw_, line_end + 2, size);
    raw_.erase(0, line_end + 2 + size + 2);
  }
  const std::string separator = sse_ ? "\n\n" : "\n";
  for (;;) {
    const auto end = body_.find(separator);
    if (end == std::string::npos) break;
    const std::string frame = body_.substr(0, end);
    body_.erase(0, end + separator.size());
    if (!sse_) {
      const auto line = nlohmann::json::parse(frame);
      if (line.value("type", "") == "heartbeat") {
        ++heartbeats_;
      } else {
        events_.push_back(line);
      }
      continue;
    }
    if (frame.rfind(":", 0) == 0) {
      ++heartbeats_;
      continue;
    }
    nlohmann::json event = nlohmann::json::object();
    std::size_t start = 0;
    while (start < frame.size()) {
      auto stop = frame.find('\n', start);
      if (stop == std::string::npos) stop = frame.size();
      const std::string field = frame.substr(start, stop - start);
      if (field.rfind("event: ", 0) == 0) event["event"] = field.substr(7);
      if (field.rfind("data: ", 0) == 0) event["data"] = nlohmann::json::parse(field.substr(6));
      start = stop + 1;
    }
    events_.push_back(event);
  }
}

std::string ChatStreamReader::seen() const {
  std::string text;
  for (const auto& event : events_) {
    text += "\n  " + event.value("event", std::string("?"));
    const auto& data = event.contains("data") ? event.at("data") : nlohmann::json();
    if (data.is_object()) {
      text += " " + data.value("role", std::string()) + " " +
              (data.contains("status") ? data.at("status").dump() : std::string()) + " " +
              data.value("id", std::string());
      if (data.contains("content")) text += " " + data.at("content").dump().substr(0, 80);
      if (data.contains("delta")) text += " " + data.at("delta").dump();
    }
  }
  return text;
}

nlohmann::json ChatStreamReader::wait_for(const std::function<bool(const nlohmann::json&)>& match,
                                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  read_head(deadline);
  for (;;) {
    parse();
    while (returned_ < events_.size()) {
      const nlohmann::json& event = events_[returned_++];
      if (match(event)) return event;
    }
    if (body_ended_ || closed_) throw std::runtime_error("the stream ended; events:" + seen());
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("timed out; events:" + seen());
    }
    read_more(deadline);
  }
}

nlohmann::json ChatStreamReader::wait_for_chat(const std::string& status) {
  return wait_for([&](const nlohmann::json& event) {
    return event.value("event", "") == "chats" && event.at("data").value("status", "") == status;
  });
}

nlohmann::json ChatStreamReader::wait_for_message(const std::string& role,
                                                  const std::string& status) {
  return wait_for([&](const nlohmann::json& event) {
    return event.value("event", "") == "chat_messages" &&
           event.at("data").value("role", "") == role &&
           event.at("data").value("status", "") == status;
  });
}

bool ChatStreamReader::ended(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  read_head(deadline);
  while (!body_ended_ && !closed_) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    read_more(deadline);
    parse();
  }
  return true;
}

std::string message_text(const nlohmann::json& message) {
  for (const auto& content : message.at("content")) {
    if (content.at("type") == "text") return content.value("text", "");
  }
  return {};
}

}  // namespace infsh::local::testing
