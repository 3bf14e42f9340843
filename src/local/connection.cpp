// One HTTP/1.1 connection: reads requests with Beast's parser (size limits, chunked bodies,
// Expect: 100-continue), answers them, and carries streaming responses as chunks flushed one
// write per event. Everything here runs on the event-loop thread. This is the only translation
// unit that includes Beast.

#include "connection.hpp"

#include <algorithm>
#include <limits>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace infsh::local {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

void LoopPoster::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (context_ != nullptr) net::post(*context_, std::move(task));
}

void LoopPoster::disable() {
  std::lock_guard lock(mutex_);
  context_ = nullptr;
}

namespace {

constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 1024 * 1024;

std::string to_std(beast::string_view view) { return std::string(view.data(), view.size()); }

std::string hex(std::size_t value) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[value & 0xfU]);
    value >>= 4U;
  } while (value != 0);
  return out;
}

// "/a//b?x" → path "/a/b", query "x"; absolute-form targets lose scheme and authority.
void split_target(const std::string& target, std::string& path, std::string& query) {
  std::string_view rest = target;
  if (rest.rfind("http://", 0) == 0 || rest.rfind("https://", 0) == 0) {
    const auto authority = rest.find("//") + 2;
    const auto slash = rest.find('/', authority);
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  }
  const auto mark = rest.find('?');
  const std::string_view raw_path = rest.substr(0, mark);
  query = mark == std::string_view::npos ? std::string() : std::string(rest.substr(mark + 1));
  path.clear();
  for (const char c : raw_path) {
    if (c == '/' && !path.empty() && path.back() == '/') continue;
    path += c;
  }
  if (path.empty()) path = "/";
}

bool is_parse_error(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

class Connection;

// The StreamSink a streaming handler writes to: hops onto the loop, then to the connection if
// it still exists.
class ConnectionSink final : public StreamSink {
 public:
  ConnectionSink(std::weak_ptr<Connection> connection, std::shared_ptr<LoopPoster> poster)
      : connection_(std::move(connection)), poster_(std::move(poster)) {}

  void send(std::string bytes) override;
  void finish() override;
  void on_close(std::function<void()> handler) override;

 private:
  std::weak_ptr<Connection> connection_;
  std::shared_ptr<LoopPoster> poster_;
};

class Connection final : public ConnectionControl,
                         public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<ServerShared> shared)
      : socket_(std::move(socket)),
        shared_(std::move(shared)),
        read_deadline_(socket_.get_executor()),
        write_deadline_(socket_.get_executor()),
        heartbeat_timer_(socket_.get_executor()) {
    ++shared_->open_connections;
  }

  ~Connection() override { --shared_->open_connections; }

  void start() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    read_head();
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    read_deadline_.cancel();
    write_deadline_.cancel();
    heartbeat_timer_.cancel();
    // queue_ stays: a cancelled write may still refer to its front until its handler runs.
    end_stream();
    shared_->connections.erase(this);
  }

  void drop_stream() override {
    if (streaming_) {
      // An abortive close (RST), as a failing network would give.
      error_code ignored;
      socket_.set_option(net::socket_base::linger(true, 0), ignored);
      close();
    }
  }

  void stream_send(std::string bytes) {
    if (!streaming_ || stream_finishing_ || closed_ || bytes.empty()) return;
    if (stream_chunked_) bytes = hex(bytes.size()) + "\r\n" + bytes + "\r\n";
    enqueue(std::move(bytes));
    if (queued_bytes_ > shared_->options.max_stream_backlog_bytes) {
      shared_->log.warning("closing a stream whose client does not keep up (" +
                           std::to_string(queued_bytes_) + " bytes pending)");
      close();
      return;
    }
    arm_heartbeat();
  }

  void stream_finish() {
    if (!streaming_ || stream_finishing_ || closed_) return;
    stream_finishing_ = true;
    heartbeat_timer_.cancel();
    if (stream_chunked_) {
      enqueue("0\r\n\r\n");
    } else if (!writing_) {
      end_stream();
      close_gracefully();
    }
  }

  void stream_on_close(std::function<void()> handler) {
    if (stream_ended_ || closed_) {
      handler();
      return;
    }
    close_handlers_.push_back(std::move(handler));
  }

 private:
  // ---- reading requests -------------------------------------------------------------------

  void read_head() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(shared_->options.max_header_bytes,
                                 std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(shared_->options.max_body_bytes));
    arm(read_deadline_, shared_->options.request_timeout);
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) {
                              self->on_head(ec);
                            });
  }

  void on_head(error_code ec) {
    if (ec) {
      on_read_error(ec);
      return;
    }
    if (parser_->is_done()) {
      read_deadline_.cancel();
      dispatch();
      return;
    }
    const auto& message = parser_->get();
    const auto expect = message[http::field::expect];
    if (beast::iequals(expect, "100-continue")) enqueue("HTTP/1.1 100 Continue\r\n\r\n");
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code body_ec, std::size_t) {
                       self->on_body(body_ec);
                     });
  }

  void on_body(error_code ec) {
    if (ec) {
      on_read_error(ec);
      return;
    }
    read_deadline_.cancel();
    dispatch();
  }

  void on_read_error(const error_code& ec) {
    if (closed_) return;
    if (ec == http::error::header_limit) {
      reply_error(431, "the request head is larger than " +
                           std::to_string(shared_->options.max_header_bytes) + " bytes");
    } else if (ec == http::error::body_limit) {
      reply_error(413, "the request body is larger than " +
                           std::to_string(shared_->options.max_body_bytes) + " bytes");
    } else if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
               is_parse_error(ec)) {
      reply_error(400, "malformed HTTP request: " + ec.message());
    } else {
      close();  // the client went away, or took too long
    }
  }

  // ---- answering ----------------------------------------------------------------------------

  void dispatch() {
    auto& message = parser_->get();
    Request request;
    request.method = to_std(message.method_string());
    request.target = to_std(message.target());
    split_target(request.target, request.path, request.query);
    request.headers.reserve(16);
    for (const auto& field : message) {
      request.headers.emplace_back(to_std(field.name_string()), to_std(field.value()));
    }
    request.body = std::move(message.body());
    // HEAD is not routed; its error answer has a body, so the connection cannot be reused.
    request.keep_alive =
        message.keep_alive() && !shared_->draining.load() && request.method != "HEAD";
    const bool http11 = message.version() >= 11;
    parser_.reset();
    ++shared_->requests;

    Response response;
    try {
      response = shared_->handler(request);
    } catch (const std::exception& e) {
      shared_->log.error("handler for " + request.method + " " + request.path +
                         " failed: " + e.what());
      response = shared_->errors(500, "internal error while handling the request");
    }
    if (response.stream) {
      begin_stream(std::move(response), http11);
    } else {
      write_response(response, request.keep_alive, http11);
    }
  }

  void reply_error(int status, const std::string& message) {
    shared_->log.info("refusing a request: " + message);
    write_response(shared_->errors(status, message), false, true);
  }

  static void append_head(std::string& out, int status, const HeaderList& headers) {
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += reason_phrase(status);
    out += "\r\n";
    for (const auto& [name, value] : headers) {
      if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
          iequals(name, "Connection")) {
        continue;
      }
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
  }

  void write_response(const Response& response, bool keep_alive, bool http11) {
    std::string bytes;
    bytes.reserve(256 + response.body.size());
    append_head(bytes, response.status, response.headers);
    const bool bodiless = response.status == 204 || response.status == 304;
    if (!bodiless) bytes += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    if (!keep_alive) {
      bytes += "Connection: close\r\n";
    } else if (!http11) {
      bytes += "Connection: keep-alive\r\n";
    }
    bytes += "\r\n";
    if (!bodiless) bytes += response.body;
    if (keep_alive) {
      read_after_write_ = true;
    } else {
      close_after_write_ = true;
    }
    enqueue(std::move(bytes));
  }

  void begin_stream(Response response, bool http11) {
    stream_body_ = std::move(response.stream);
    std::string head;
    append_head(head, response.status, response.headers);
    if (http11) head += "Transfer-Encoding: chunked\r\n";
    // The stream ends the connection: clients never wait for reuse after a final line.
    head += "Connection: close\r\n\r\n";
    streaming_ = true;
    stream_chunked_ = http11;
    ++shared_->open_streams;
    ++shared_->streams_opened;
    if (buffer_.size() == 0) buffer_.shrink_to_fit();  // idle streams hold no read buffer
    enqueue(std::move(head));
    watch_for_disconnect();
    arm_heartbeat();
    auto sink = std::make_shared<ConnectionSink>(weak_from_this(), shared_->poster);
    try {
      stream_body_->attach(std::move(sink));
    } catch (const std::exception& e) {
      shared_->log.error(std::string("could not start a stream: ") + e.what());
      close();
    }
  }

  // While streaming, a pending read notices at once when the client goes away.
  void watch_for_disconnect() {
    if (closed_) return;
    socket_.async_read_some(buffer_.prepare(512),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              if (ec) {
                                self->close();
                                return;
                              }
                              self->buffer_.commit(n);
                              // Pipelined bytes are kept (but not parsed: the connection closes
                              // after the stream); stop reading once they pile up.
                              if (self->buffer_.size() < self->shared_->options.max_header_bytes) {
                                self->watch_for_disconnect();
                              }
                            });
  }

  void arm_heartbeat() {
    const auto interval = stream_body_ ? stream_body_->heartbeat_interval
                                       : std::chrono::milliseconds::zero();
    if (interval <= std::chrono::milliseconds::zero() || stream_body_->heartbeat.empty()) return;
    heartbeat_timer_.expires_after(interval);
    heartbeat_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        if (self->streaming_ && !self->stream_finishing_) {
          self->stream_send(self->stream_body_->heartbeat);
        }
      }
    });
  }

  void end_stream() {
    if (!streaming_) return;
    streaming_ = false;
    stream_ended_ = true;
    heartbeat_timer_.cancel();
    --shared_->open_streams;
    {
      std::lock_guard lock(shared_->streams_mutex);
    }
    shared_->streams_closed.notify_all();
    auto handlers = std::move(close_handlers_);
    close_handlers_.clear();
    for (auto& handler : handlers) {
      try {
        handler();
      } catch (const std::exception& e) {
        shared_->log.error(std::string("stream close handler failed: ") + e.what());
      }
    }
    stream_body_.reset();
  }

  // ---- writing --------------------------------------------------------------------------------

  void enqueue(std::string bytes) {
    if (closed_) return;
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  void write_next() {
    writing_ = true;
    arm(write_deadline_, shared_->options.write_timeout);
    net::async_write(socket_, net::buffer(queue_.front()),
                     [self = shared_from_this()](error_code ec, std::size_t) {
                       self->on_written(ec);
                     });
  }

  void on_written(error_code ec) {
    writing_ = false;
    if (ec || closed_) {
      close();
      return;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    if (!queue_.empty()) {
      write_next();
      return;
    }
    write_deadline_.cancel();
    if (streaming_ || stream_ended_) {
      if (stream_finishing_) {
        end_stream();
        close_gracefully();
      }
      return;
    }
    if (close_after_write_) {
      close_gracefully();
    } else if (read_after_write_) {
      read_after_write_ = false;
      read_head();
    }
  }

  // Half-closes, then reads and discards what the client still sends for a moment, so a client
  // still sending a refused body reads our answer instead of a reset.
  void close_gracefully() {
    if (closed_) return;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    arm(read_deadline_, kLingerTime);
    linger_read();
  }

  void linger_read() {
    if (closed_) return;
    buffer_.clear();
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->lingered_ += n;
                              if (ec || self->lingered_ > kLingerBytes) {
                                self->close();
                                return;
                              }
                              self->linger_read();
                            });
  }

  void arm(net::steady_timer& timer, std::chrono::milliseconds timeout) {
    timer.expires_after(timeout);
    timer.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;  // cancelled or re-armed
      if (auto self = weak.lock()) self->close();
    });
  }

  tcp::socket socket_;
  std::shared_ptr<ServerShared> shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  net::steady_timer read_deadline_;
  net::steady_timer write_deadline_;
  net::steady_timer heartbeat_timer_;

  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t lingered_ = 0;
  bool writing_ = false;
  bool read_after_write_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;

  std::shared_ptr<StreamingBody> stream_body_;
  std::vector<std::function<void()>> close_handlers_;
  bool streaming_ = false;
  bool stream_chunked_ = true;
  bool stream_finishing_ = false;
  bool stream_ended_ = false;
};

void ConnectionSink::send(std::string bytes) {
  poster_->post([weak = connection_, bytes = std::move(bytes)]() mutable {
    if (auto connection = weak.lock()) connection->stream_send(std::move(bytes));
  });
}

void ConnectionSink::finish() {
  poster_->post([weak = connection_] {
    if (auto connection = weak.lock()) connection->stream_finish();
  });
}

void ConnectionSink::on_close(std::function<void()> handler) {
  poster_->post([weak = connection_, handler = std::move(handler)]() mutable {
    if (auto connection = weak.lock()) {
      connection->stream_on_close(std::move(handler));
    } else {
      handler();  // already gone
    }
  });
}

}  // namespace

void start_connection(tcp::socket socket, std::shared_ptr<ServerShared> shared) {
  auto connection = std::make_shared<Connection>(std::move(socket), shared);
  shared->connections.emplace(connection.get(), connection);
  connection->start();
}

}  // namespace infsh::local
