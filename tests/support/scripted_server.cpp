#include "support/scripted_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <condition_variable>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

namespace inferencesh::testing {
namespace {

// Writes to a peer that went away must fail with EPIPE, not kill the test binary with SIGPIPE.
#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_NOSIGNAL;
#else
constexpr int kSendFlags = 0;  // SO_NOSIGPIPE is set on each socket instead
#endif

constexpr std::size_t kReadBufferBytes = 64 * 1024;
constexpr std::size_t kMaxHeadBytes = 1024 * 1024;
// How long a graceful close waits for the client to finish sending before closing anyway.
constexpr std::chrono::milliseconds kLingerOnClose{1000};

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::optional<std::string> lookup(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// True when the comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view reason_phrase(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string hex(std::size_t n) {
  char digits[2 * sizeof n];
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), n, 16);
  return std::string(std::begin(digits), end);
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Reply not_found(const RecordedRequest& request) {
  return Reply::json(404,
                     {{"error", "no route"}, {"method", request.method}, {"path", request.path}});
}

// Owns one file descriptor.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

void set_flags(int fd) {
  const int status_flags = ::fcntl(fd, F_GETFL);
  if (status_flags < 0 || ::fcntl(fd, F_SETFL, status_flags | O_NONBLOCK) < 0) {
    throw_errno("fcntl(O_NONBLOCK)");
  }
  const int fd_flags = ::fcntl(fd, F_GETFD);
  if (fd_flags < 0 || ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
    throw_errno("fcntl(FD_CLOEXEC)");
  }
}

// A pipe whose read end becomes readable, for good, once the server stops: every poll() in the
// server watches it, so stalls, delays and blocked reads or writes all end promptly.
class StopSignal {
 public:
  StopSignal() {
    int fds[2];
    if (::pipe(fds) != 0) throw_errno("pipe");
    read_end_ = FileDescriptor(fds[0]);
    write_end_ = FileDescriptor(fds[1]);
    set_flags(fds[0]);
    set_flags(fds[1]);
  }

  int fd() const { return read_end_.get(); }
  void raise() {
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(write_end_.get(), &byte, 1);
  }

 private:
  FileDescriptor read_end_;
  FileDescriptor write_end_;
};

int poll_timeout(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, INT_MAX));
}

enum class Readiness { ready, timed_out, stopped };

// One accepted connection: buffered reads and whole writes on a non-blocking socket, each wait
// also watching the stop signal.
class Channel {
 public:
  Channel(FileDescriptor socket, int stop_fd)
      : socket_(std::move(socket)), stop_fd_(stop_fd), scratch_(kReadBufferBytes) {}

  std::string& input() { return input_; }

  // Appends whatever arrives next to input(); false on end of stream, error or stop.
  bool receive_more() {
    for (;;) {
      if (wait(POLLIN, -1) != Readiness::ready) return false;
      const auto n = ::recv(socket_.get(), scratch_.data(), scratch_.size(), 0);
      if (n > 0) {
        input_.append(scratch_.data(), static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return false;
    }
  }

  // Writes all of `bytes`; false when the client went away or the server stops.
  bool write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(socket_.get(), bytes.data(), bytes.size(), kSendFlags);
      if (n >= 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (wait(POLLOUT, -1) != Readiness::ready) return false;
      } else if (errno != EINTR) {
        return false;
      }
    }
    return true;
  }

  // Sleeps for `duration`; false when the server stops meanwhile.
  bool pause(std::chrono::milliseconds duration) {
    const auto deadline = std::chrono::steady_clock::now() + duration;
    for (;;) {
      pollfd stop{stop_fd_, POLLIN, 0};
      const int rc = ::poll(&stop, 1, poll_timeout(deadline));
      if (rc > 0) return false;
      if (rc < 0 && errno != EINTR) return true;
      if (rc == 0 && std::chrono::steady_clock::now() >= deadline) return true;
    }
  }

  // Returns once the client closed its side (whatever it sends meanwhile is discarded) or the
  // server stops.
  void hold_until_client_leaves() {
    for (;;) {
      if (wait(POLLIN, -1) != Readiness::ready) return;
      const auto n = ::recv(socket_.get(), scratch_.data(), scratch_.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
    }
  }

  // Sends FIN, then reads until the client closes too (briefly), so that unread request bytes
  // cannot turn the close into a reset that destroys the response on its way.
  void close_gracefully() {
    ::shutdown(socket_.get(), SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + kLingerOnClose;
    for (;;) {
      if (wait(POLLIN, poll_timeout(deadline)) != Readiness::ready) break;
      const auto n = ::recv(socket_.get(), scratch_.data(), scratch_.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    }
    socket_.reset();
  }

  // Closes with a reset (RST) instead of a clean end of stream.
  void reset() {
    const linger abortive{1, 0};
    ::setsockopt(socket_.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    socket_.reset();
  }

 private:
  Readiness wait(short events, int timeout_ms) {
    for (;;) {
      pollfd fds[2] = {{socket_.get(), events, 0}, {stop_fd_, POLLIN, 0}};
      const int rc = ::poll(fds, 2, timeout_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0 || fds[1].revents != 0) return Readiness::stopped;
      if (rc == 0) return Readiness::timed_out;
      return Readiness::ready;  // includes POLLHUP/POLLERR: the next call reports it
    }
  }

  FileDescriptor socket_;
  int stop_fd_;
  std::vector<char> scratch_;
  std::string input_;
};

enum class ReadOutcome { request, closed, malformed };

// Position just past the blank line that ends the request head, or npos.
std::size_t find_head_end(const std::string& input) {
  const auto crlf = input.find("\r\n\r\n");
  const auto lf = input.find("\n\n");
  if (crlf == std::string::npos && lf == std::string::npos) return std::string::npos;
  if (lf == std::string::npos || (crlf != std::string::npos && crlf < lf)) return crlf + 4;
  return lf + 2;
}

// Reads up to the next '\n' at or after `from`; returns the line without "\r\n" and moves `from`
// past it. False when the connection ends first.
bool read_line(Channel& channel, std::size_t& from, std::string& line) {
  std::size_t eol;
  while ((eol = channel.input().find('\n', from)) == std::string::npos) {
    if (channel.input().size() - from > kMaxHeadBytes || !channel.receive_more()) return false;
  }
  line.assign(trim(std::string_view(channel.input()).substr(from, eol - from)));
  from = eol + 1;
  return true;
}

bool parse_head(std::string_view head, RecordedRequest& request) {
  bool first = true;
  while (!head.empty()) {
    const auto eol = head.find('\n');
    const auto line = trim(head.substr(0, eol));
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
    if (first) {
      first = false;
      const auto sp1 = line.find(' ');
      const auto sp2 = line.find(' ', sp1 == std::string_view::npos ? sp1 : sp1 + 1);
      if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return false;
      request.method = line.substr(0, sp1);
      request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      request.version = trim(line.substr(sp2 + 1));
      if (request.method.empty() || request.target.empty()) return false;
      const auto question = request.target.find('?');
      request.path = request.target.substr(0, question);
      if (question != std::string::npos) request.query = request.target.substr(question + 1);
    } else if (!line.empty()) {
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return false;
      request.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
  }
  return !first;
}

bool read_fixed_body(Channel& channel, std::size_t length, RecordedRequest& request) {
  auto& input = channel.input();
  while (input.size() < length) {
    if (!channel.receive_more()) return false;
  }
  request.body.assign(input, 0, length);
  input.erase(0, length);
  return true;
}

ReadOutcome read_chunked_body(Channel& channel, RecordedRequest& request) {
  std::size_t position = 0;
  std::string line;
  for (;;) {
    if (!read_line(channel, position, line)) return ReadOutcome::closed;
    std::uint64_t size = 0;
    const auto digits = line.substr(0, line.find_first_of("; \t"));
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
        size > kMaxHeadBytes * 1024) {
      return ReadOutcome::malformed;
    }
    if (size == 0) break;
    const auto length = static_cast<std::size_t>(size);
    while (channel.input().size() < position + length) {
      if (!channel.receive_more()) return ReadOutcome::closed;
    }
    request.body.append(channel.input(), position, length);
    position += length;
    if (!read_line(channel, position, line)) return ReadOutcome::closed;  // CRLF after the data
    if (!line.empty()) return ReadOutcome::malformed;
  }
  for (;;) {  // trailer fields, up to the blank line
    if (!read_line(channel, position, line)) return ReadOutcome::closed;
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string::npos) return ReadOutcome::malformed;
    request.headers.emplace_back(trim(std::string_view(line).substr(0, colon)),
                                 trim(std::string_view(line).substr(colon + 1)));
  }
  channel.input().erase(0, position);
  return ReadOutcome::request;
}

// Reads the next request from the connection into `request`.
ReadOutcome read_request(Channel& channel, RecordedRequest& request) {
  auto& input = channel.input();
  std::size_t head_end;
  for (;;) {
    // Blank lines before a request line are allowed (RFC 9112, 2.2).
    const auto start = input.find_first_not_of("\r\n");
    input.erase(0, start == std::string::npos ? input.size() : start);
    if ((head_end = find_head_end(input)) != std::string::npos) break;
    if (input.size() > kMaxHeadBytes) return ReadOutcome::malformed;
    if (!channel.receive_more()) return ReadOutcome::closed;
  }
  if (!parse_head(std::string_view(input).substr(0, head_end), request)) {
    return ReadOutcome::malformed;
  }
  input.erase(0, head_end);

  const auto transfer_encoding = request.header("Transfer-Encoding");
  const bool chunked = transfer_encoding && has_token(*transfer_encoding, "chunked");
  std::size_t content_length = 0;
  if (const auto value = request.header("Content-Length"); value && !chunked) {
    const auto [end, ec] =
        std::from_chars(value->data(), value->data() + value->size(), content_length);
    if (ec != std::errc() || end != value->data() + value->size()) return ReadOutcome::malformed;
  }

  const auto expect = request.header("Expect");
  if (expect && iequals(*expect, "100-continue") && (chunked || content_length > 0) &&
      input.empty()) {
    if (!channel.write_all("HTTP/1.1 100 Continue\r\n\r\n")) return ReadOutcome::closed;
  }

  if (chunked) return read_chunked_body(channel, request);
  return read_fixed_body(channel, content_length, request) ? ReadOutcome::request
                                                           : ReadOutcome::closed;
}

// What the request asks of its reply.
struct ReplyContext {
  bool close_after = false;   // the client said Connection: close (or spoke HTTP/1.0)
  bool headers_only = false;  // HEAD: the same head, no body bytes
};

ReplyContext context_of(const RecordedRequest& request) {
  const auto connection = request.header("Connection");
  const bool close_after =
      (connection && has_token(*connection, "close")) ||
      (request.version == "HTTP/1.0" && !(connection && has_token(*connection, "keep-alive")));
  return {close_after, request.method == "HEAD"};
}

}  // namespace

// What the connection does after a reply.
enum class AfterReply { keep_alive, close, reset, abandon };

// Runs a Reply's script on a connection.
class ReplyWriter {
 public:
  ReplyWriter(const Reply& reply, Channel& channel, ReplyContext context)
      : reply_(reply), channel_(channel), headers_only_(context.headers_only) {
    const auto& headers = reply.headers_;
    user_framing_ = lookup(headers, "Content-Length") || lookup(headers, "Transfer-Encoding");
    const bool sends_unframed =
        std::any_of(reply.actions_.begin(), reply.actions_.end(), [](const Reply::Action& a) {
          const auto* bytes = std::get_if<Reply::Bytes>(&a);
          return bytes != nullptr && !bytes->counted;
        });
    close_delimited_ =
        !reply.chunked_ && !user_framing_ && !reply.has_counted_body_ && sends_unframed;
    const auto connection = lookup(headers, "Connection");
    closing_ = reply.raw_ || reply.close_ || context.close_after || close_delimited_ ||
               (connection && has_token(*connection, "close"));
  }

  AfterReply run() {
    bool head_sent = reply_.raw_;
    for (const auto& action : reply_.actions_) {
      if (std::holds_alternative<Reply::Head>(action)) {
        pending_ += head();
        head_sent = true;
      } else if (const auto* bytes = std::get_if<Reply::Bytes>(&action)) {
        if (!write_bytes(*bytes)) return AfterReply::abandon;
      } else if (const auto* delay = std::get_if<Reply::Delay>(&action)) {
        if (!flush() || !channel_.pause(delay->duration)) return AfterReply::abandon;
      } else if (std::holds_alternative<Reply::Stall>(action)) {
        if (flush()) channel_.hold_until_client_leaves();
        return AfterReply::abandon;
      } else if (std::holds_alternative<Reply::Drop>(action)) {
        flush();
        return AfterReply::reset;
      }
    }
    if (!head_sent) pending_ += head();
    if (reply_.chunked_ && !reply_.raw_ && !headers_only_) pending_ += "0\r\n\r\n";
    if (!flush()) return AfterReply::abandon;
    return closing_ ? AfterReply::close : AfterReply::keep_alive;
  }

 private:
  std::string head() const {
    std::string out = "HTTP/1.1 " + std::to_string(reply_.code_) + ' ';
    out += reason_phrase(reply_.code_);
    out += "\r\n";
    for (const auto& [name, value] : reply_.headers_) {
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
    const int code = reply_.code_;
    const bool body_allowed = code >= 200 && code != 204 && code != 304;
    if (reply_.chunked_ && !user_framing_) {
      out += "Transfer-Encoding: chunked\r\n";
    } else if (!user_framing_ && !close_delimited_ && body_allowed) {
      out += "Content-Length: " + std::to_string(reply_.counted_bytes_) + "\r\n";
    }
    if (closing_ && !lookup(reply_.headers_, "Connection")) out += "Connection: close\r\n";
    out += "\r\n";
    return out;
  }

  bool write_bytes(const Reply::Bytes& bytes) {
    if (headers_only_ && !reply_.raw_) return true;
    const bool framed = reply_.chunked_ && !reply_.raw_;
    if (bytes.counted && !framed) {  // body(): goes out with the head in one write
      pending_ += bytes.bytes;
      return true;
    }
    if (!flush()) return false;
    const std::string_view all = bytes.bytes;
    const std::size_t piece_size = bytes.piece_size == 0 ? all.size() : bytes.piece_size;
    for (std::size_t round = 0; round < bytes.times; ++round) {
      for (std::size_t at = 0; at < all.size(); at += piece_size) {
        const auto piece = all.substr(at, piece_size);
        const bool ok =
            framed ? channel_.write_all(hex(piece.size()) + "\r\n" + std::string(piece) + "\r\n")
                   : channel_.write_all(piece);
        if (!ok) return false;
      }
    }
    return true;
  }

  bool flush() {
    const bool ok = channel_.write_all(pending_);
    pending_.clear();
    return ok;
  }

  const Reply& reply_;
  Channel& channel_;
  std::string pending_;
  bool headers_only_;
  bool user_framing_ = false;
  bool close_delimited_ = false;
  bool closing_ = false;
};

// ---------------------------------------------------------------------------------------------
// RecordedRequest

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  return lookup(headers, name);
}

nlohmann::json RecordedRequest::json() const { return nlohmann::json::parse(body); }

// ---------------------------------------------------------------------------------------------
// Reply

Reply::Reply(int code) : code_(code) {}

Reply Reply::status(int code) { return Reply(code); }

Reply Reply::json(int code, const nlohmann::json& body) {
  Reply reply(code);
  reply.header("Content-Type", "application/json");
  reply.body(dump(body));
  return reply;
}

Reply Reply::raw(std::string bytes) {
  Reply reply(0);
  reply.raw_ = true;
  reply.actions_.emplace_back(Bytes{std::move(bytes), 0, false});
  return reply;
}

Reply& Reply::header(std::string name, std::string value) {
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}

Reply& Reply::body(std::string bytes) {
  place_head();
  counted_bytes_ += bytes.size();
  has_counted_body_ = true;
  actions_.emplace_back(Bytes{std::move(bytes), 0, true});
  return *this;
}

Reply& Reply::chunked() {
  place_head();
  chunked_ = true;
  return *this;
}

Reply& Reply::send(std::string bytes) {
  place_head();
  actions_.emplace_back(Bytes{std::move(bytes), 0, false});
  return *this;
}

Reply& Reply::send_split(std::string bytes, std::size_t piece_size) {
  place_head();
  actions_.emplace_back(Bytes{std::move(bytes), std::max<std::size_t>(piece_size, 1), false});
  return *this;
}

Reply& Reply::send_repeated(std::string bytes, std::size_t times) {
  place_head();
  actions_.emplace_back(Bytes{std::move(bytes), 0, false, times});
  return *this;
}

Reply& Reply::delay(std::chrono::milliseconds duration) {
  actions_.emplace_back(Delay{duration});
  return *this;
}

Reply& Reply::stall() {
  actions_.emplace_back(Stall{});
  return *this;
}

Reply& Reply::drop() {
  actions_.emplace_back(Drop{});
  return *this;
}

Reply& Reply::close_connection() {
  close_ = true;
  return *this;
}

void Reply::place_head() {
  if (head_placed_ || raw_) return;
  actions_.emplace_back(Head{});
  head_placed_ = true;
}

// ---------------------------------------------------------------------------------------------
// ScriptedServer

class ScriptedServer::Impl {
 public:
  explicit Impl(Handler handler) { set_handler(std::move(handler)); }
  ~Impl() { stop(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void start() {
    listener_ = FileDescriptor(::socket(AF_INET, SOCK_STREAM, 0));
    if (listener_.get() < 0) throw_errno("socket");
    set_flags(listener_.get());
    const int yes = 1;
    ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw_errno("bind");
    }
    if (::listen(listener_.get(), SOMAXCONN) != 0) throw_errno("listen");
    socklen_t length = sizeof address;
    if (::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw_errno("getsockname");
    }
    port_ = ntohs(address.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  void set_handler(Handler handler) {
    auto shared = handler ? std::make_shared<const Handler>(std::move(handler)) : nullptr;
    const std::lock_guard lock(mutex_);
    handler_ = std::move(shared);
  }

  std::uint16_t port() const { return port_; }

  std::vector<RecordedRequest> requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
  }

  std::size_t request_count() const {
    const std::lock_guard lock(mutex_);
    return requests_.size();
  }

  std::size_t connection_count() const {
    const std::lock_guard lock(mutex_);
    return connections_;
  }

  std::size_t closed_connection_count() const {
    const std::lock_guard lock(mutex_);
    return closed_connections_;
  }

  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  bool wait_for_closed_connections(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return closed_connections_ >= n; });
  }

  void stop() {
    const std::lock_guard lock(stop_mutex_);
    if (stopped_) return;
    stopped_ = true;
    stop_signal_.raise();
    if (accept_thread_.joinable()) accept_thread_.join();
    // The accept thread is gone, so the worker list is ours now.
    for (auto& worker : workers_) worker.thread.join();
    workers_.clear();
    listener_.reset();
  }

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  void accept_loop() {
    for (;;) {
      pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {stop_signal_.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      if (fds[0].revents == 0) continue;
      FileDescriptor socket(::accept(listener_.get(), nullptr, nullptr));
      if (socket.get() < 0) continue;
      try {
        configure(socket.get());
      } catch (const std::system_error&) {
        continue;
      }
      reap_finished_workers();
      std::size_t id;
      {
        const std::lock_guard lock(mutex_);
        id = ++connections_;
      }
      auto& worker = workers_.emplace_back();
      worker.thread = std::thread([this, &worker, id, socket = std::move(socket)]() mutable {
        serve(std::move(socket), id);
        worker.finished = true;
      });
    }
  }

  static void configure(int fd) {
    set_flags(fd);
    const int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
#ifdef SO_NOSIGPIPE
    ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &yes, sizeof yes);
#endif
  }

  void reap_finished_workers() {
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->finished) {
        it->thread.join();
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void serve(FileDescriptor socket, std::size_t connection_id) {
    Channel channel(std::move(socket), stop_signal_.fd());
    AfterReply after = AfterReply::abandon;
    for (;;) {
      RecordedRequest request{};
      request.connection_id = connection_id;
      const auto outcome = read_request(channel, request);
      if (outcome == ReadOutcome::closed) break;
      if (outcome == ReadOutcome::malformed) {
        after = ReplyWriter(Reply::status(400), channel, {.close_after = true}).run();
        break;
      }
      {
        const std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      changed_.notify_all();
      after = ReplyWriter(answer(request), channel, context_of(request)).run();
      if (after != AfterReply::keep_alive) break;
    }
    if (after == AfterReply::close) channel.close_gracefully();
    if (after == AfterReply::reset) channel.reset();
    {
      const std::lock_guard lock(mutex_);
      ++closed_connections_;
    }
    changed_.notify_all();
  }

  Reply answer(const RecordedRequest& request) {
    std::shared_ptr<const Handler> handler;
    {
      const std::lock_guard lock(mutex_);
      handler = handler_;
    }
    if (!handler) return not_found(request);
    try {
      return (*handler)(request);
    } catch (const std::exception& e) {
      return Reply::json(500, {{"error", "handler threw"}, {"what", e.what()}});
    } catch (...) {
      return Reply::json(500, {{"error", "handler threw"}});
    }
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const Handler> handler_;
  std::vector<RecordedRequest> requests_;
  std::size_t connections_ = 0;
  std::size_t closed_connections_ = 0;

  StopSignal stop_signal_;
  FileDescriptor listener_;
  std::uint16_t port_ = 0;
  std::thread accept_thread_;
  std::list<Worker> workers_;  // only the accept thread touches it until it has been joined
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

ScriptedServer::ScriptedServer(Handler handler)
    : impl_(std::make_unique<Impl>(std::move(handler))) {
  impl_->start();
}

ScriptedServer::~ScriptedServer() { impl_->stop(); }

void ScriptedServer::set_handler(Handler handler) { impl_->set_handler(std::move(handler)); }

std::string ScriptedServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port());
}

std::uint16_t ScriptedServer::port() const { return impl_->port(); }

std::vector<RecordedRequest> ScriptedServer::requests() const { return impl_->requests(); }

std::size_t ScriptedServer::request_count() const { return impl_->request_count(); }

std::size_t ScriptedServer::connection_count() const { return impl_->connection_count(); }

std::size_t ScriptedServer::closed_connection_count() const {
  return impl_->closed_connection_count();
}

bool ScriptedServer::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->wait_for_requests(n, timeout);
}

bool ScriptedServer::wait_for_closed_connections(std::size_t n,
                                                 std::chrono::milliseconds timeout) const {
  return impl_->wait_for_closed_connections(n, timeout);
}

void ScriptedServer::stop() { impl_->stop(); }

// ---------------------------------------------------------------------------------------------
// Router

struct Router::Routes {
  struct Route {
    std::string method;
    std::string path;
    std::deque<Reply> replies;
    ScriptedServer::Handler fn;

    bool matches(const RecordedRequest& request) const {
      if (method != "*" && method != request.method) return false;
      if (!path.empty() && path.back() == '*') {
        return request.path.compare(0, path.size() - 1, path, 0, path.size() - 1) == 0;
      }
      return path == request.path;
    }
  };

  Route& route(std::string method, std::string path) {
    for (auto& existing : routes) {
      if (existing.method == method && existing.path == path) return existing;
    }
    return routes.emplace_back(Route{std::move(method), std::move(path), {}, {}});
  }

  Reply answer(const RecordedRequest& request) {
    ScriptedServer::Handler fn;
    {
      const std::lock_guard lock(mutex);
      const auto it = std::find_if(routes.begin(), routes.end(),
                                   [&](const Route& r) { return r.matches(request); });
      if (it == routes.end()) return not_found(request);
      if (!it->fn) {
        if (it->replies.empty()) return not_found(request);
        Reply next = it->replies.front();
        if (it->replies.size() > 1) it->replies.pop_front();
        return next;
      }
      fn = it->fn;
    }
    return fn(request);  // outside the lock: the function may take its time
  }

  std::mutex mutex;
  std::vector<Route> routes;
};

Router::Router() : routes_(std::make_shared<Routes>()) {}

Router& Router::on(std::string method, std::string path, Reply reply) {
  const std::lock_guard lock(routes_->mutex);
  auto& route = routes_->route(std::move(method), std::move(path));
  route.fn = nullptr;
  route.replies.push_back(std::move(reply));
  return *this;
}

Router& Router::on(std::string method, std::string path, ScriptedServer::Handler fn) {
  const std::lock_guard lock(routes_->mutex);
  auto& route = routes_->route(std::move(method), std::move(path));
  route.replies.clear();
  route.fn = std::move(fn);
  return *this;
}

ScriptedServer::Handler Router::handler() {
  return [routes = routes_](const RecordedRequest& request) { return routes->answer(request); };
}

}  // namespace inferencesh::testing
