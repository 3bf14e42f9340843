// One HTTP/1.1 connection: receives bytes into its RequestReader (which parses them and enforces
// the limits that do not depend on the endpoint), decides on each request at its head (Host and
// Origin, route, key, media type, body size and memory: a refused request never has its body
// read nor gets 100 Continue), then takes the body in, answers, and carries streaming responses
// as chunks flushed one write per event. Request bodies are kept whole for ordinary endpoints or
// handed to a BodyReader as they arrive (uploads), with reading paused while the reader lags or
// the server holds too many body bytes. Responses from a BodySource are pulled piece by piece as
// the socket drains. Everything here runs on the event-loop thread, and every handler enters
// through run_guarded: nothing thrown here unwinds into the loop.

#include "http/connection.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "http/request_reader.hpp"

namespace infsh::local {

namespace net = boost::asio;
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
constexpr std::size_t kLingerBytes = std::size_t{1024} * 1024;
// A streamed request body stops being read while this much is handed over but unconsumed,
// and resumes below half of it.
constexpr std::size_t kMaxUnconsumedBytes = std::size_t{4} * 1024 * 1024;
// A BodySource is asked for pieces of this size while less than kSourceLowWater is queued.
constexpr std::size_t kSourcePieceBytes = std::size_t{256} * 1024;
constexpr std::size_t kSourceLowWater = std::size_t{512} * 1024;

std::string hex(std::size_t value) {
  constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[value & 0xfU]);
    value >>= 4U;
  } while (value != 0);
  return out;
}

std::string milliseconds_text(std::chrono::milliseconds duration) {
  return std::to_string(duration.count()) + " ms";
}

class Connection;

// One stream's share of the StreamBudget.
struct StreamAccount {
  explicit StreamAccount(std::shared_ptr<StreamBudget> budget_) : budget(std::move(budget_)) {}
  void add(std::size_t n) noexcept {
    bytes += n;
    budget->total += n;
  }
  void release(std::size_t n) noexcept {
    bytes -= n;
    budget->total -= n;
  }
  const std::shared_ptr<StreamBudget> budget;
  std::atomic<std::size_t> bytes{0};  // handed to the sink, not yet written
  std::atomic<bool> cut{false};       // over its limit: the stream is being closed
};

// Bytes counted against a stream on their way to the loop: released when they are dropped
// (the stream ended meanwhile), unless the connection takes them into its queue.
class CountedBytes {
 public:
  CountedBytes(std::shared_ptr<StreamAccount> account, std::size_t n)
      : account_(std::move(account)), n_(n) {}
  CountedBytes(CountedBytes&& other) noexcept
      : account_(std::move(other.account_)), n_(std::exchange(other.n_, 0)) {}
  CountedBytes& operator=(CountedBytes&&) = delete;
  ~CountedBytes() {
    if (account_ && n_ > 0) account_->release(n_);
  }
  std::size_t take() noexcept { return std::exchange(n_, 0); }

 private:
  std::shared_ptr<StreamAccount> account_;
  std::size_t n_;
};

// The StreamSink a streaming handler writes to: counts the bytes against the stream's limit and
// the total of all streams, then hops onto the loop, then to the connection if it still exists.
// The count covers bytes still on their way to the loop, so a producer faster than the loop
// cannot pile them up where no limit sees them.
class ConnectionSink final : public StreamSink {
 public:
  ConnectionSink(std::weak_ptr<Connection> connection, std::shared_ptr<LoopPoster> poster,
                 std::shared_ptr<StreamAccount> account)
      : connection_(std::move(connection)),
        poster_(std::move(poster)),
        account_(std::move(account)) {}

  void send(std::string bytes) override;
  void finish() override;
  void on_close(std::function<void()> handler) override;

 private:
  std::weak_ptr<Connection> connection_;
  std::shared_ptr<LoopPoster> poster_;
  std::shared_ptr<StreamAccount> account_;
};

class Connection final : public ConnectionControl, public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<ServerShared> shared)
      : socket_(std::move(socket)),
        shared_(std::move(shared)),
        reader_(RequestLimits{shared_->options.max_header_bytes}),
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

  // Runs a handler's work: whatever it throws (bad_alloc, a bug) is logged and closes this
  // connection, instead of unwinding into the event loop and leaving the connection hanging.
  template <typename Fn>
  void run_guarded(Fn&& fn) noexcept {
    try {
      fn();
    } catch (const std::exception& e) {
      fail(e.what());
    } catch (...) {
      fail("unknown exception");
    }
  }

  void close() noexcept override {
    if (closed_) return;
    closed_ = true;
    try {
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_both, ignored);
      socket_.close(ignored);
      read_deadline_.cancel();
      write_deadline_.cancel();
      heartbeat_timer_.cancel();
    } catch (...) {
      // Timers cannot fail to cancel; the socket's errors were ignored already.
    }
    // queue_ stays: a cancelled write may still refer to its front until its handler runs.
    abort_reader();
    release_all_body();
    source_.reset();
    end_stream();
    for (auto& counted : counted_) release_counted(std::exchange(counted, 0));
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

  // `counted`: the bytes' share of the stream budget, released once they are written.
  void stream_send(std::string bytes, CountedBytes counted) {
    if (!streaming_ || stream_finishing_ || closed_ || bytes.empty()) return;
    if (stream_chunked_) bytes = hex(bytes.size()) + "\r\n" + bytes + "\r\n";
    enqueue(std::move(bytes), counted.take());
    arm_heartbeat();
  }

  // A sink found the stream over its limit, or over its share of the total while all streams
  // together are over theirs: the client does not keep up, and can reconnect.
  void stream_cut(const std::string& why) {
    if (!streaming_ || closed_) return;
    shared_->log.warning("closing a stream whose client does not keep up: " + why);
    close();
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
  enum class Stage {
    head,     // waiting for or reading a request head
    body,     // reading the body of an accepted head
    answer,   // the request is in; its answer is being made or written
    refused,  // an error answer is going out; what the client still sends is dropped
  };

  // A completion handler that holds the connection and runs `fn(*this, args...)` guarded.
  template <typename Fn>
  auto guarded(Fn fn) {
    return [self = shared_from_this(), fn = std::move(fn)](auto&&... args) mutable {
      self->run_guarded([&] { fn(*self, std::forward<decltype(args)>(args)...); });
    };
  }

  void fail(const char* what) noexcept {
    try {
      shared_->log.error(std::string("closing a connection after an internal error: ") + what);
    } catch (...) {
      // Not even the log line could be made (out of memory): closing is what matters.
    }
    close();
  }

  // ---- reading requests -------------------------------------------------------------------

  void read_head() {
    if (closed_) return;
    ++serial_;  // callbacks of the previous request's reader or source are stale from now on
    release_all_body();
    reader_.start_next();
    if (reader_.buffered() == 0) reader_.release_buffer();  // idle connections hold no buffer
    request_ = Request();
    body_reader_.reset();
    stage_ = Stage::head;
    unconsumed_ = 0;
    paused_ = false;
    awaiting_response_ = false;
    // The head, and a whole body after it, must arrive within the request timeout; it is also
    // how long an idle keep-alive connection is kept.
    arm(read_deadline_, shared_->options.request_timeout, &Connection::on_read_deadline);
    process();
  }

  // Takes the events of what is received so far, and receives more when the reader needs it.
  void process() {
    while (!closed_ && !paused_ && (stage_ == Stage::head || stage_ == Stage::body)) {
      auto event = reader_.next();
      switch (event.kind) {
        case RequestReader::Kind::need_more:
          receive();
          return;
        case RequestReader::Kind::head:
          on_head();
          break;
        case RequestReader::Kind::body:
          on_body(event.body);
          break;
        case RequestReader::Kind::done:
          on_request_read();
          return;
        case RequestReader::Kind::error:
          refuse(event.status, event.message);
          return;
      }
    }
  }

  void receive() {
    if (receiving_ || closed_) return;
    receiving_ = true;
    // Bytes to be dropped go to the server's scratch buffer: a refused connection keeps none.
    net::mutable_buffer into = net::buffer(shared_->scratch);
    if (stage_ == Stage::refused) {
      reader_.release_buffer();
    } else {
      const auto space = reader_.space();
      into = net::buffer(space.data, space.size);
    }
    socket_.async_read_some(into, guarded([](Connection& self, error_code ec, std::size_t n) {
                              self.on_received(ec, n);
                            }));
  }

  void on_received(error_code ec, std::size_t n) {
    receiving_ = false;
    if (closed_) return;
    if (stage_ == Stage::refused) {
      on_discarded(ec, n);
      return;
    }
    if (ec) {
      close();  // the client went away, or broke off in the middle of a request
      return;
    }
    reader_.commit(n);
    process();
  }

  // Every decision that needs only the head is taken here, before any of the body is read.
  void on_head() {
    request_ = std::move(reader_.request());
    // HEAD is not routed; its error answer has a body, so the connection cannot be reused.
    request_.keep_alive =
        request_.keep_alive && !shared_->draining.load() && request_.method != "HEAD";
    http11_ = reader_.http11();
    if (auto refusal = shared_->host_policy.refusal(request_)) {
      shared_->log.info("refusing a request: " + *refusal);
      refuse_with(shared_->errors(403, *refusal), true);
      return;
    }
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
      refuse_with(*plan.refusal, true);
      return;
    }
    body_reader_ = std::move(plan.reader);
    if (!request_.has_body) return;  // the reader says done next
    stage_ = Stage::body;
    if (body_reader_) {
      start_rate_window();
    } else {
      if (auto too_large = reader_.limit_body(shared_->options.max_body_bytes)) {
        refuse(413, *too_large);
        return;
      }
      if (const auto length = reader_.content_length()) {
        if (!hold_body(*length)) {
          refuse_busy();
          return;
        }
        request_.body.reserve(static_cast<std::size_t>(*length));
      }
    }
    if (reader_.expects_continue()) enqueue("HTTP/1.1 100 Continue\r\n\r\n");
  }

  void on_body(std::string_view bytes) {
    window_bytes_ += bytes.size();
    if (!body_reader_) {
      // A declared length was held at the head; a chunked body is held as it grows.
      if (!reader_.content_length() && !hold_body(bytes.size())) {
        refuse_busy();
        return;
      }
      request_.body.append(bytes);
      return;
    }
    unconsumed_ += bytes.size();
    hold_body_anyway(bytes.size());
    std::optional<Response> refusal;
    try {
      refusal = body_reader_->data(std::string(bytes), consumed_callback(bytes.size()));
    } catch (const std::exception& e) {
      shared_->log.error("reading the body of " + request_.method + " " + request_.path +
                         " failed: " + e.what());
      refusal = shared_->errors(500, "internal error while reading the request body");
    }
    if (refusal) {
      refuse_with(*refusal);
      return;
    }
    // The reader is behind (slow disk), or the server holds too many body bytes: the client
    // waits, not our memory. Time paused does not count against the client's rate.
    if (unconsumed_ >= kMaxUnconsumedBytes || over_body_budget()) {
      paused_ = true;
      read_deadline_.cancel();
    }
  }

  // The callbacks given to readers and sources hold the connection: while it waits for them no
  // socket operation is pending that would.
  std::function<void()> consumed_callback(std::size_t bytes) {
    return [self = shared_from_this(), poster = shared_->poster, serial = serial_, bytes] {
      poster->post([self, serial, bytes] {
        self->run_guarded([&] {
          if (self->closed_ || self->serial_ != serial) return;
          const std::size_t consumed = std::min(self->unconsumed_, bytes);
          self->unconsumed_ -= consumed;
          self->release_body(consumed);
          // Paused for the budget, a reader resumes once its own bytes are all written, so
          // each body makes progress however the budget is shared.
          if (self->paused_ && self->unconsumed_ <= kMaxUnconsumedBytes / 2 &&
              (self->unconsumed_ == 0 || !self->over_body_budget())) {
            self->paused_ = false;
            self->start_rate_window();
            self->process();
          }
        });
      });
    };
  }

  void on_request_read() {
    read_deadline_.cancel();
    stage_ = Stage::answer;
    if (body_reader_) {
      finish_reader();
    } else {
      dispatch();
    }
  }

  // Where an answer given later (from any thread) goes: back on the loop, to this exchange.
  std::function<void(Response)> later_answer() {
    awaiting_response_ = true;
    return
        [self = shared_from_this(), poster = shared_->poster, serial = serial_](Response response) {
          poster->post([self, serial, response = std::move(response)]() mutable {
            self->run_guarded([&] {
              if (self->closed_ || self->serial_ != serial || !self->awaiting_response_) return;
              self->awaiting_response_ = false;
              self->answer(std::move(response));
            });
          });
        };
  }

  void finish_reader() {
    ++shared_->requests;
    auto reader = std::move(body_reader_);
    body_reader_.reset();
    auto respond = later_answer();
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

  void abort_reader() noexcept {
    if (!body_reader_) return;
    auto reader = std::move(body_reader_);
    body_reader_.reset();
    try {
      reader->abort();
    } catch (const std::exception& e) {
      shared_->log.error(std::string("aborting a request body failed: ") + e.what());
    } catch (...) {
      shared_->log.error("aborting a request body failed");
    }
  }

  // ---- deadlines --------------------------------------------------------------------------

  void on_read_deadline() {
    if (stage_ == Stage::body && !body_reader_) {
      refuse(408, "the request body did not arrive within the request timeout (" +
                      milliseconds_text(shared_->options.request_timeout) + ")");
    } else {
      close();  // a head that never came: an idle keep-alive connection, or a stalled client
    }
  }

  // A streamed body may take long in total, but must keep coming at min_body_rate on average
  // over each request_timeout (and never stall for a whole one).
  void start_rate_window() {
    window_bytes_ = 0;
    arm(read_deadline_, shared_->options.request_timeout, &Connection::on_rate_window);
  }

  void on_rate_window() {
    if (stage_ != Stage::body || paused_) return;
    const auto& options = shared_->options;
    const double seconds = static_cast<double>(options.request_timeout.count()) / 1000.0;
    const double needed = static_cast<double>(options.min_body_rate) * seconds;
    if (window_bytes_ > 0 && static_cast<double>(window_bytes_) >= needed) {
      start_rate_window();
      return;
    }
    refuse(408, "the request body arrives too slowly: " + std::to_string(window_bytes_) +
                    " bytes in the last " + milliseconds_text(options.request_timeout) +
                    ", below the minimum of " + std::to_string(options.min_body_rate) +
                    " bytes per second");
  }

  // ---- memory held by request bodies ------------------------------------------------------

  bool over_body_budget() const {
    return shared_->body_bytes_held > shared_->options.max_buffered_body_bytes;
  }

  // Holds `bytes` of body memory if the server's total allows it.
  bool hold_body(std::uint64_t bytes) {
    if (bytes > shared_->options.max_buffered_body_bytes -
                    std::min(shared_->body_bytes_held, shared_->options.max_buffered_body_bytes)) {
      return false;
    }
    hold_body_anyway(static_cast<std::size_t>(bytes));
    return true;
  }

  void hold_body_anyway(std::size_t bytes) {
    shared_->body_bytes_held += bytes;
    body_held_ += bytes;
  }

  void release_body(std::size_t bytes) noexcept {
    bytes = std::min(bytes, body_held_);
    body_held_ -= bytes;
    shared_->body_bytes_held -= std::min(bytes, shared_->body_bytes_held);
  }

  void release_all_body() noexcept {
    release_body(body_held_);
    unconsumed_ = 0;
  }

  // ---- refusing -----------------------------------------------------------------------------

  void refuse(int status, const std::string& message) {
    shared_->log.info("refusing a request: " + message);
    refuse_with(shared_->errors(status, message));
  }

  void refuse_busy() {
    refuse_with(shared_
                    ->errors(503,
                             "the runtime holds too many request bodies in memory at once "
                             "(at most " +
                                 std::to_string(shared_->options.max_buffered_body_bytes) +
                                 " bytes across connections): retry shortly")
                    .set_header("Retry-After", "1"));
  }

  // Answers `response` in place of the request. The connection stays open only for a head
  // refused without a body (nothing is left unread); otherwise what the client still sends is
  // dropped for a moment, so that a client busy sending its body reads the answer instead of a
  // reset.
  void refuse_with(const Response& response, bool at_head = false) {
    const bool reusable = at_head && !request_.has_body && request_.keep_alive;
    read_deadline_.cancel();
    abort_reader();
    release_all_body();
    paused_ = false;
    ++shared_->requests;
    if (reusable) {
      stage_ = Stage::answer;
      write_response(response, true);
      return;
    }
    stage_ = Stage::refused;
    write_response(response, false);
    if (!receiving_) receive();
  }

  void on_discarded(error_code ec, std::size_t n) {
    lingered_ += n;
    if (ec || lingered_ > kLingerBytes) {
      if (!writing_) close();  // else the answer finishes first (close_gracefully)
      return;
    }
    receive();
  }

  // ---- answering ----------------------------------------------------------------------------

  void dispatch() {
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
    release_all_body();
    answer(std::move(response));
  }

  void answer(Response response) {
    if (response.pending) {
      response.pending->on_given(later_answer());
    } else if (response.stream) {
      begin_stream(std::move(response));
    } else if (response.source) {
      begin_source(std::move(response));
    } else {
      write_response(response, request_.keep_alive);
    }
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
        self->run_guarded([&] {
          if (!self->closed_ && self->serial_ == serial) self->on_source_piece(std::move(bytes));
        });
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
    reader_.release_buffer();  // idle streams hold no read buffer; pipelined bytes are moot
    enqueue(std::move(head));
    watch_for_disconnect();
    arm_heartbeat();
    ++shared_->stream_budget->streams;
    stream_account_ = std::make_shared<StreamAccount>(shared_->stream_budget);
    auto sink =
        std::make_shared<ConnectionSink>(weak_from_this(), shared_->poster, stream_account_);
    try {
      stream_body_->attach(std::move(sink));
    } catch (const std::exception& e) {
      shared_->log.error(std::string("could not start a stream: ") + e.what());
      close();
    }
  }

  // While streaming, a pending read notices at once when the client goes away. What the client
  // sends meanwhile is dropped into the scratch buffer (the connection closes after the stream);
  // reading stops once that passes the head limit.
  void watch_for_disconnect() {
    if (closed_) return;
    watching_ = true;
    socket_.async_read_some(net::buffer(shared_->scratch),
                            guarded([](Connection& self, error_code ec, std::size_t n) {
                              self.watching_ = false;
                              if (ec) {
                                self.close();
                                return;
                              }
                              self.watched_ += n;
                              if (self.watched_ < self.shared_->options.max_header_bytes) {
                                self.watch_for_disconnect();
                              }
                            }));
  }

  void arm_heartbeat() {
    const auto interval =
        stream_body_ ? stream_body_->heartbeat_interval : std::chrono::milliseconds::zero();
    if (interval <= std::chrono::milliseconds::zero() || stream_body_->heartbeat.empty()) return;
    heartbeat_timer_.expires_after(interval);
    heartbeat_timer_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->run_guarded([&] {
          if (self->streaming_ && !self->stream_finishing_) {
            self->stream_send(self->stream_body_->heartbeat, CountedBytes(nullptr, 0));
          }
        });
      }
    });
  }

  void end_stream() noexcept {
    if (!streaming_) return;
    streaming_ = false;
    stream_ended_ = true;
    --shared_->stream_budget->streams;
    try {
      heartbeat_timer_.cancel();
    } catch (...) {
      // Cannot fail for a timer.
    }
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
      } catch (...) {
        shared_->log.error("stream close handler failed");
      }
    }
    stream_body_.reset();
  }

  // ---- writing --------------------------------------------------------------------------------

  // `counted`: bytes of the stream budget the piece carries, released once it is written.
  void enqueue(std::string bytes, std::size_t counted = 0) {
    if (closed_) {
      release_counted(counted);
      return;
    }
    queued_bytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    counted_.push_back(counted);
    if (!writing_) write_next();
  }

  void release_counted(std::size_t n) noexcept {
    if (n > 0 && stream_account_) stream_account_->release(n);
  }

  void write_next() {
    writing_ = true;
    arm(write_deadline_, shared_->options.write_timeout, &Connection::close_now);
    net::async_write(
        socket_, net::buffer(queue_.front()),
        guarded([](Connection& self, error_code ec, std::size_t) { self.on_written(ec); }));
  }

  void on_written(error_code ec) {
    writing_ = false;
    if (ec || closed_) {
      close();
      return;
    }
    queued_bytes_ -= queue_.front().size();
    queue_.pop_front();
    release_counted(counted_.front());
    counted_.pop_front();
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
    if (source_ || awaiting_response_) return;  // more of this exchange to come
    if (close_after_write_) {
      close_gracefully();
    } else if (read_after_write_) {
      read_after_write_ = false;
      read_head();
    }
  }

  // Half-closes, then reads and drops what the client still sends for a moment, so a client
  // still sending a refused body reads our answer instead of a reset.
  void close_gracefully() {
    if (closed_) return;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    stage_ = Stage::refused;
    arm(read_deadline_, kLingerTime, &Connection::close_now);
    if (!receiving_ && !watching_) receive();
  }

  void close_now() { close(); }

  void arm(net::steady_timer& timer, std::chrono::milliseconds timeout,
           void (Connection::*on_expiry)()) {
    timer.expires_after(timeout);
    timer.async_wait([weak = weak_from_this(), on_expiry](error_code ec) {
      if (ec) return;  // cancelled or re-armed
      if (auto self = weak.lock()) self->run_guarded([&] { ((*self).*on_expiry)(); });
    });
  }

  tcp::socket socket_;
  std::shared_ptr<ServerShared> shared_;
  RequestReader reader_;
  net::steady_timer read_deadline_;
  net::steady_timer write_deadline_;
  net::steady_timer heartbeat_timer_;

  // The request being read or answered.
  Stage stage_ = Stage::head;
  Request request_;
  bool http11_ = true;
  std::uint64_t serial_ = 0;  // which request callbacks from other threads belong to
  bool receiving_ = false;    // a read into reader_'s buffer is pending
  std::shared_ptr<BodyReader> body_reader_;
  std::size_t unconsumed_ = 0;  // handed to body_reader_, not yet consumed
  bool paused_ = false;
  bool awaiting_response_ = false;  // an answer is to come: from body_reader_->end(), or pending
  std::size_t body_held_ = 0;       // this connection's share of ServerShared::body_bytes_held
  std::uint64_t window_bytes_ = 0;  // body bytes since the current rate window began

  // A response pulled from a source.
  std::shared_ptr<BodySource> source_;
  std::uint64_t source_remaining_ = 0;
  bool source_pending_ = false;

  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  std::deque<std::size_t> counted_;  // per queue_ entry: its bytes of the stream budget
  std::size_t lingered_ = 0;
  bool writing_ = false;
  bool read_after_write_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;

  std::shared_ptr<StreamingBody> stream_body_;
  std::shared_ptr<StreamAccount> stream_account_;
  std::vector<std::function<void()>> close_handlers_;
  std::size_t watched_ = 0;
  bool watching_ = false;  // watch_for_disconnect's read is pending
  bool streaming_ = false;
  bool stream_chunked_ = true;
  bool stream_finishing_ = false;
  bool stream_ended_ = false;
};

void ConnectionSink::send(std::string bytes) {
  if (account_->cut || bytes.empty()) return;
  const StreamBudget& budget = *account_->budget;
  const std::size_t own = account_->bytes + bytes.size();
  const std::size_t total = budget.total + bytes.size();
  const std::size_t share = budget.max_total / std::max<std::size_t>(1, budget.streams);
  std::string why;
  if (own > budget.max_per_stream) {
    why = std::to_string(own) + " bytes unsent, over the limit of " +
          std::to_string(budget.max_per_stream) + " per stream";
  } else if (total > budget.max_total && own > share) {
    why = std::to_string(own) + " bytes unsent, over its share (" + std::to_string(share) +
          ") of the " + std::to_string(budget.max_total) + " all streams may hold together";
  }
  if (!why.empty()) {
    // Nothing more is queued for it: the stream ends where it stands.
    if (!account_->cut.exchange(true)) {
      poster_->post([weak = connection_, why = std::move(why)] {
        if (auto connection = weak.lock()) {
          connection->run_guarded([&] { connection->stream_cut(why); });
        }
      });
    }
    return;
  }
  account_->add(bytes.size());
  CountedBytes counted(account_, bytes.size());
  poster_->post([weak = connection_, bytes = std::move(bytes),
                 counted = std::make_shared<CountedBytes>(std::move(counted))]() mutable {
    if (auto connection = weak.lock()) {
      connection->run_guarded(
          [&] { connection->stream_send(std::move(bytes), std::move(*counted)); });
    }
  });
}

void ConnectionSink::finish() {
  poster_->post([weak = connection_] {
    if (auto connection = weak.lock())
      connection->run_guarded([&] { connection->stream_finish(); });
  });
}

void ConnectionSink::on_close(std::function<void()> handler) {
  poster_->post([weak = connection_, handler = std::move(handler)]() mutable {
    if (auto connection = weak.lock()) {
      connection->run_guarded([&] { connection->stream_on_close(std::move(handler)); });
    } else {
      handler();  // already gone
    }
  });
}

}  // namespace

void start_connection(tcp::socket socket, const std::shared_ptr<ServerShared>& shared) {
  auto connection = std::make_shared<Connection>(std::move(socket), shared);
  shared->connections.emplace(connection.get(), connection);
  connection->start();
}

}  // namespace infsh::local
