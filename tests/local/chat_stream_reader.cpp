#include "chat_stream_reader.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace infsh::local::testing {

namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

ChatStreamReader::ChatStreamReader(std::uint16_t port, const std::string& chat_id,
                                   const std::string& accept) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error(std::string("connect() failed: ") + std::strerror(errno));
  }
  const std::string request = "GET /chats/" + chat_id + "/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              "Authorization: Bearer test-key\r\nAccept: " + accept + "\r\n\r\n";
  if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    throw std::runtime_error("sending the stream request failed");
  }
}

ChatStreamReader::~ChatStreamReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool ChatStreamReader::read_more(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return false;
  pollfd descriptor{fd_, POLLIN, 0};
  const int ready = ::poll(&descriptor, 1, remaining_ms(deadline));
  if (ready == 0) return true;  // the caller checks its deadline
  char chunk[16384];
  const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  raw_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

void ChatStreamReader::read_head(std::chrono::steady_clock::time_point deadline) {
  while (!head_done_) {
    const auto end = raw_.find("\r\n\r\n");
    if (end != std::string::npos) {
      const std::string head = raw_.substr(0, end);
      raw_.erase(0, end + 4);
      status_ = std::stoi(head.substr(9, 3));
      std::size_t line = head.find("\r\n");
      while (line != std::string::npos) {
        const auto next = head.find("\r\n", line + 2);
        const std::string text = head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
        const auto colon = text.find(':');
        if (colon != std::string::npos && lower(text.substr(0, colon)) == "content-type") {
          content_type_ = text.substr(colon + 2);
        }
        line = next;
      }
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

}  // namespace infsh::local::testing
