// One HTTP/1.1 connection: reads requests with Beast's parser (size limits, chunked bodies,
// Expect: 100-continue), answers them, and carries streaming responses as chunks flushed one
// write per event. Request bodies are read in pieces: kept whole for ordinary endpoints, or
// handed to a BodyReader as they arrive (uploads), with reading paused while the reader lags.
// Responses from a BodySource are pulled piece by piece as the socket drains. Everything here
// runs on the event-loop thread. This is the only translation unit that includes Beast.

#include "connection.hpp"

#include <algorithm>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

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
// Body bytes are parsed into a buffer of this size, one read at a time.
constexpr std::size_t kBodyChunkBytes = 64 * 1024;
// A streamed request body stops being read while this much is handed over but unconsumed,
// and resumes below half of it.
constexpr std::size_t kMaxUnconsumedBytes = 4 * 1024 * 1024;
// A BodySource is asked for pieces of this size while less than kSourceLowWater is queued.
constexpr std::size_t kSourcePieceBytes = 256 * 1024;
constexpr std::size_t kSourceLowWater = 512 * 1024;

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

class Connection final : public ConnectionControl, public std::enable_shared_from_this<Connection> {
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
    abort_reader();
    source_.reset();
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
    ++serial_;  // callbacks of the previous request's reader or source are stale from now on
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        shared_->options.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    // Body limits are ours (they depend on the endpoint): Beast would refuse a large
    // Content-Length while reading the head, before the endpoint is known. (Not boost::none:
    // Beast 1.74 compares a Content-Length with it as "greater", refusing every body.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    arm(read_deadline_, shared_->options.request_timeout);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_head(ec); });
  }

  void on_head(error_code ec) {
    if (ec) {
      on_read_error(ec);
      return;
    }
    const auto& message = parser_->get();
    request_ = Request();
    request_.method = to_std(message.method_string());
    request_.target = to_std(message.target());
    split_target(request_.target, request_.path, request_.query);
    request_.headers.reserve(16);
    for (const auto& field : message) {
      request_.headers.emplace_back(to_std(field.name_string()), to_std(field.value()));
    }
    // HEAD is not routed; its error answer has a body, so the connection cannot be reused.
    request_.keep_alive =
        message.keep_alive() && !shared_->draining.load() && request_.method != "HEAD";
    http11_ = message.version() >= 11;
    body_bytes_ = 0;
    unconsumed_ = 0;
    paused_ = false;
    awaiting_response_ = false;

    BodyPlan plan;
    if (shared_->plan_body) {
      try {
        plan = shared_->plan_body(request_);
      } catch (const std::exception& e) {
        shared_->log.error("planning the body of " + request_.method + " " + request_.path +
                           " failed: " + e.what());
        plan.refusal = shared_->errors(500, "internal error while handling the request");
      }
    }
    if (plan.refusal) {
      read_deadline_.cancel();
      ++shared_->requests;
      // Without a body nothing is left unread, so the connection can serve the next request.
      write_response(*plan.refusal, parser_->is_done() && request_.keep_alive);
      return;
    }
    if (parser_->is_done()) {
      read_deadline_.cancel();
      reader_ = std::move(plan.reader);
      if (reader_) {
        finish_reader();
      } else {
        dispatch();
      }
      return;
    }
    reader_ = std::move(plan.reader);
    if (!reader_) {
      const auto length = parser_->content_length();
      if (length && *length > shared_->options.max_body_bytes) {
        reply_error(413, "the request body is larger than " +
                             std::to_string(shared_->options.max_body_bytes) + " bytes");
        return;
      }
    }
    if (beast::iequals(message[http::field::expect], "100-continue")) {
      enqueue("HTTP/1.1 100 Continue\r\n\r\n");
    }
    read_body();
  }

  void read_body() {
    if (closed_) return;
    if (!body_chunk_) body_chunk_ = std::make_unique<char[]>(kBodyChunkBytes);
    auto& body = parser_->get().body();
    body.data = body_chunk_.get();
    body.size = kBodyChunkBytes;
    // Beast reads at most the read buffer's free capacity at a time (512 bytes after a small
    // head), so room for a whole piece is made here; released when the body is done.
    buffer_.reserve(kBodyChunkBytes);
    // A streamed body may take long in total; what must not stall is each piece. A whole body
    // keeps the deadline armed for its head.
    if (reader_) arm(read_deadline_, shared_->options.request_timeout);
    http::async_read_some(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_body_piece(ec); });
  }

  void on_body_piece(error_code ec) {
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      on_read_error(ec);
      return;
    }
    if (closed_) return;
    const std::size_t got = kBodyChunkBytes - parser_->get().body().size;
    body_bytes_ += got;
    if (got > 0 && !reader_) {
      if (body_bytes_ > shared_->options.max_body_bytes) {
        reply_error(413, "the request body is larger than " +
                             std::to_string(shared_->options.max_body_bytes) + " bytes");
        return;
      }
      request_.body.append(body_chunk_.get(), got);
    } else if (got > 0) {
      unconsumed_ += got;
      std::optional<Response> refusal;
      try {
        refusal = reader_->data(std::string(body_chunk_.get(), got), consumed_callback(got));
      } catch (const std::exception& e) {
        shared_->log.error("reading the body of " + request_.method + " " + request_.path +
                           " failed: " + e.what());
        refusal = shared_->errors(500, "internal error while reading the request body");
      }
      if (refusal) {
        read_deadline_.cancel();
        abort_reader();
        write_response(*refusal, false);
        return;
      }
    }
    if (parser_->is_done()) {
      read_deadline_.cancel();
      body_chunk_.reset();
      if (buffer_.size() == 0) buffer_.shrink_to_fit();
      if (reader_) {
        finish_reader();
      } else {
        dispatch();
      }
      return;
    }
    if (reader_ && unconsumed_ >= kMaxUnconsumedBytes) {
      paused_ = true;  // the reader is behind (slow disk): the client waits, not our memory
      read_deadline_.cancel();
      return;
    }
    read_body();
  }

  // The callbacks given to readers and sources hold the connection: while it waits for them no
  // socket operation is pending that would.
  std::function<void()> consumed_callback(std::size_t bytes) {
    return [self = shared_from_this(), poster = shared_->poster, serial = serial_, bytes] {
      poster->post([self, serial, bytes] {
        if (self->closed_ || self->serial_ != serial) return;
        self->unconsumed_ -= std::min(self->unconsumed_, bytes);
        if (self->paused_ && self->unconsumed_ <= kMaxUnconsumedBytes / 2) {
          self->paused_ = false;
          self->read_body();
        }
      });
    };
  }

  void finish_reader() {
    ++shared_->requests;
    awaiting_response_ = true;
    auto reader = std::move(reader_);
    reader_.reset();
    auto respond = [self = shared_from_this(), poster = shared_->poster,
                    serial = serial_](Response response) {
      poster->post([self, serial, response = std::move(response)]() mutable {
        if (self->closed_ || self->serial_ != serial || !self->awaiting_response_) return;
        self->awaiting_response_ = false;
        self->answer(std::move(response));
      });
    };
    try {
      reader->end(std::move(respond));
    } catch (const std::exception& e) {
      shared_->log.error("finishing the body of " + request_.method + " " + request_.path +
                         " failed: " + e.what());
      awaiting_response_ = false;
      write_response(shared_->errors(500, "internal error while handling the request"),
                     request_.keep_alive);
    }
  }

  void abort_reader() {
    if (!reader_) return;
    auto reader = std::move(reader_);
    reader_.reset();
    try {
      reader->abort();
    } catch (const std::exception& e) {
      shared_->log.error(std::string("aborting a request body failed: ") + e.what());
    }
  }

  void on_read_error(const error_code& ec) {
    if (closed_) return;
    abort_reader();
    if (ec == http::error::header_limit) {
      reply_error(431, "the request head is larger than " +
                           std::to_string(shared_->options.max_header_bytes) + " bytes");
    } else if (ec != http::error::end_of_stream && ec != http::error::partial_message &&
               is_parse_error(ec)) {
      reply_error(400, "malformed HTTP request: " + ec.message());
    } else {
      close();  // the client went away, or took too long
    }
  }

  // ---- answering ----------------------------------------------------------------------------

  void dispatch() {
    parser_.reset();
    ++shared_->requests;
    Response response;
    try {
      response = shared_->handler(request_);
    } catch (const std::exception& e) {
      shared_->log.error("handler for " + request_.method + " " + request_.path +
                         " failed: " + e.what());
      response = shared_->errors(500, "internal error while handling the request");
    }
    request_.body = std::string();  // release a large body before the answer is written
    answer(std::move(response));
  }

  void answer(Response response) {
    if (response.stream) {
      begin_stream(std::move(response));
    } else if (response.source) {
      begin_source(std::move(response));
    } else {
      write_response(response, request_.keep_alive);
    }
  }

  void reply_error(int status, const std::string& message) {
    shared_->log.info("refusing a request: " + message);
    read_deadline_.cancel();
    abort_reader();
    write_response(shared_->errors(status, message), false);
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

  void append_connection(std::string& head, bool keep_alive) const {
    if (!keep_alive) {
      head += "Connection: close\r\n";
    } else if (!http11_) {
      head += "Connection: keep-alive\r\n";
    }
  }

  void after_response(bool keep_alive) {
    if (keep_alive) {
      read_after_write_ = true;
    } else {
      close_after_write_ = true;
    }
  }

  void write_response(const Response& response, bool keep_alive) {
    std::string bytes;
    bytes.reserve(256 + response.body.size());
    append_head(bytes, response.status, response.headers);
    const bool bodiless = response.status == 204 || response.status == 304;
    if (!bodiless) bytes += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    append_connection(bytes, keep_alive);
    bytes += "\r\n";
    if (!bodiless) bytes += response.body;
    after_response(keep_alive);
    enqueue(std::move(bytes));
  }

  // A body pulled from a source: the head now, then pieces while the socket keeps up.
  void begin_source(Response response) {
    std::string head;
    append_head(head, response.status, response.headers);
    head += "Content-Length: " + std::to_string(response.content_length) + "\r\n";
    append_connection(head, request_.keep_alive);
    head += "\r\n";
    after_response(request_.keep_alive);
    source_remaining_ = response.content_length;
    if (source_remaining_ > 0) source_ = std::move(response.source);
    source_pending_ = false;
    enqueue(std::move(head));
    pump_source();
  }

  void pump_source() {
    if (!source_ || source_pending_ || closed_ || queued_bytes_ >= kSourceLowWater) return;
    source_pending_ = true;
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(source_remaining_, kSourcePieceBytes));
    auto deliver = [self = shared_from_this(), poster = shared_->poster,
                    serial = serial_](std::optional<std::string> bytes) {
      poster->post([self, serial, bytes = std::move(bytes)]() mutable {
        if (!self->closed_ && self->serial_ == serial) self->on_source_piece(std::move(bytes));
      });
    };
    try {
      source_->read(want, std::move(deliver));
    } catch (const std::exception& e) {
      shared_->log.error(std::string("reading a response body failed: ") + e.what());
      close();
    }
  }

  void on_source_piece(std::optional<std::string> bytes) {
    source_pending_ = false;
    if (!source_) return;
    if (!bytes || bytes->empty() || bytes->size() > source_remaining_) {
      shared_->log.warning("a response body could not be produced in full; closing");
      close();  // the client sees fewer bytes than Content-Length announced
      return;
    }
    source_remaining_ -= bytes->size();
    if (source_remaining_ == 0) source_.reset();
    enqueue(std::move(*bytes));
    pump_source();
  }

  void begin_stream(Response response) {
    stream_body_ = std::move(response.stream);
    std::string head;
    append_head(head, response.status, response.headers);
    if (http11_) head += "Transfer-Encoding: chunked\r\n";
    // The stream ends the connection: clients never wait for reuse after a final line.
    head += "Connection: close\r\n\r\n";
    streaming_ = true;
    stream_chunked_ = http11_;
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
    const auto interval =
        stream_body_ ? stream_body_->heartbeat_interval : std::chrono::milliseconds::zero();
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
    { std::lock_guard lock(shared_->streams_mutex); }
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
    net::async_write(
        socket_, net::buffer(queue_.front()),
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_written(ec); });
  }

  void on_written(error_code ec) {
    writing_ = false;
    if (ec || closed_) {
      close();
      return;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    pump_source();
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
    if (source_ || awaiting_response_ || reader_) return;  // more of this exchange to come
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
  std::optional<http::request_parser<http::buffer_body>> parser_;
  net::steady_timer read_deadline_;
  net::steady_timer write_deadline_;
  net::steady_timer heartbeat_timer_;

  // The request being read or answered.
  Request request_;
  bool http11_ = true;
  std::uint64_t serial_ = 0;  // which request callbacks from other threads belong to
  std::unique_ptr<char[]> body_chunk_;
  std::uint64_t body_bytes_ = 0;
  std::shared_ptr<BodyReader> reader_;
  std::size_t unconsumed_ = 0;  // handed to reader_, not yet consumed
  bool paused_ = false;
  bool awaiting_response_ = false;  // reader_->end() was called; its answer is pending

  // A response pulled from a source.
  std::shared_ptr<BodySource> source_;
  std::uint64_t source_remaining_ = 0;
  bool source_pending_ = false;

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
