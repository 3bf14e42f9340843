#include "async_chat_event_source.hpp"

#include <algorithm>
#include <utility>

#include "api_response.hpp"
#include "async_operations.hpp"
#include "chat_event_source.hpp"
#include "inferencesh/errors.hpp"
#include "retry_policy.hpp"

namespace inferencesh::detail {

namespace {

// Of an error answer to the stream request, what is kept for the ApiError (as the blocking
// client's ClientCore::open_stream keeps).
constexpr std::size_t kMaxErrorBodyBytes = 65536;
constexpr int kLoggedSkipsPerConnection = 10;

}  // namespace

std::shared_ptr<AsyncChatEventSource> AsyncChatEventSource::create(
    std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core, std::string chat_id,
    int max_reconnects, CancellationToken cancel, Handlers handlers) {
  return std::make_shared<AsyncChatEventSource>(std::move(loop), std::move(core),
                                                std::move(chat_id), max_reconnects,
                                                std::move(cancel), std::move(handlers));
}

AsyncChatEventSource::AsyncChatEventSource(std::shared_ptr<AsyncLoop> loop,
                                           std::shared_ptr<const ClientCore> core,
                                           std::string chat_id, int max_reconnects,
                                           CancellationToken cancel, Handlers handlers)
    : loop_(std::move(loop)),
      core_(std::move(core)),
      chat_id_(std::move(chat_id)),
      cancel_(std::move(cancel)),
      handlers_(std::move(handlers)),
      backoff_(core_->options().wait, max_reconnects) {}

void AsyncChatEventSource::start() { open(); }

void AsyncChatEventSource::release() {
  if (holds_ > 0) --holds_;
  deliver();
}

void AsyncChatEventSource::close() {
  if (closed_) return;
  closed_ = true;
  if (stream_ != 0) loop_->close(stream_);
  stream_ = 0;
  pending_.clear();
  // The handlers stay: one of them may be running now (close() from inside it). They go with
  // the source, once the loop lets go of it.
}

void AsyncChatEventSource::open() {
  if (closed_) return;
  if (cancel_.is_cancelled()) {
    fail(std::make_exception_ptr(CancelledError("the call was cancelled")));
    return;
  }
  status_ = 0;
  headers_.clear();
  error_body_.clear();
  ndjson_.reset();
  sse_.reset();
  skipped_ = 0;
  HttpRequest request;
  try {
    request = build_stream_request(core_->options(),
                                   "/chats/" + encode_path_segment(chat_id_) + "/stream",
                                   "application/x-ndjson");
  } catch (...) {
    fail(std::current_exception());
    return;
  }
  url_ = request.url;
  auto self = shared_from_this();
  AsyncLoop::StreamHandler handler;
  handler.on_headers = [self](int status, const Headers& headers) {
    self->on_headers(status, headers);
  };
  handler.on_data = [self](std::string_view bytes) { self->on_data(bytes); };
  handler.on_end = [self](const std::exception_ptr& error) { self->on_end(error); };
  stream_ = loop_->open(std::move(request), cancel_, std::move(handler));
}

void AsyncChatEventSource::on_headers(int status, const Headers& headers) {
  if (closed_) return;
  status_ = status;
  headers_ = headers;
  if (!success_status()) return;
  const auto type = find_header(headers, "Content-Type").value_or("");
  if (type.find("text/event-stream") != std::string::npos) {
    sse_.emplace();
  } else {
    ndjson_.emplace();
  }
  const bool reopened = ++connections_ > 1;
  if (handlers_.on_open) handlers_.on_open(reopened);
}

void AsyncChatEventSource::on_data(std::string_view bytes) {
  if (closed_) return;
  if (!success_status()) {
    const auto room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body_.size());
    error_body_.append(bytes.substr(0, room));
    return;
  }
  const auto sink = [this](StreamEvent&& event) { take(std::move(event)); };
  if (ndjson_) {
    ndjson_->feed(bytes, sink);
  } else if (sse_) {
    sse_->feed(bytes, sink);
  }
  deliver();
}

void AsyncChatEventSource::take(StreamEvent&& event) {
  if (event.kind == StreamEvent::Kind::heartbeat) return;
  if (event.kind == StreamEvent::Kind::invalid) {
    if (++skipped_ <= kLoggedSkipsPerConnection) {
      core_->log(LogLevel::warning,
                 "chat " + chat_id_ + ": skipped a stream payload: " + event.error);
    }
    return;
  }
  backoff_.progress();
  pending_.push_back(std::move(event));
}

void AsyncChatEventSource::deliver() {
  if (delivering_) return;  // an event's handler released: the loop below goes on
  const auto keep_alive = shared_from_this();  // a handler may drop the driver's reference
  delivering_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{delivering_};
  while (!closed_ && holds_ == 0 && !pending_.empty()) {
    StreamEvent event = std::move(pending_.front());
    pending_.pop_front();
    if (handlers_.on_event) handlers_.on_event(event);
  }
  // The connection ended: once what it brought is handed out, the next one follows.
  if (!closed_ && holds_ == 0 && pending_.empty() && reconnect_due_) {
    std::string reason = std::move(*reconnect_due_);
    reconnect_due_.reset();
    reconnect(reason);
  }
}

void AsyncChatEventSource::on_end(const std::exception_ptr& error) {
  stream_ = 0;
  if (closed_) return;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const CancelledError&) {
      fail(error);
    } catch (const ConnectionError& e) {
      reconnect_due_ =
          std::string(status_ == 0 ? "could not be opened (" : "broke (") + e.what() + ")";
      deliver();
    } catch (...) {
      fail(error);  // an exception of a handler: it ends the source
    }
    return;
  }
  if (!success_status()) {
    HttpResponse response;
    response.status = status_;
    response.headers = headers_;
    response.body = std::move(error_body_);
    try {
      throw_api_error(response, "GET", url_, core_->options().api_key);
    } catch (const ApiError& e) {
      // Server-side trouble may pass; a refused request (401, 404, ...) will not.
      if (!is_retryable_status(e.status())) {
        fail(std::current_exception());
      } else {
        reconnect(std::string("could not be opened (") + e.what() + ")");
      }
    } catch (...) {
      fail(std::current_exception());
    }
    return;
  }
  // A clean end: what the last bytes carried is handed out first, then the reconnect follows.
  const auto sink = [this](StreamEvent&& event) { take(std::move(event)); };
  if (ndjson_) {
    ndjson_->finish(sink);
  } else if (sse_) {
    sse_->finish(sink);
  }
  reconnect_due_ = "ended";
  deliver();
}

void AsyncChatEventSource::reconnect(const std::string& reason) {
  if (closed_) return;
  const auto delay = backoff_.next_delay();
  if (!delay) {
    fail(std::make_exception_ptr(chat_stream_gave_up(chat_id_, reason, backoff_.failures())));
    return;
  }
  core_->log(LogLevel::warning, "chat " + chat_id_ + ": stream " + reason + "; reconnecting in " +
                                    std::to_string(delay->count()) + " ms");
  async_sleep(loop_, *delay, cancel_,
              [self = shared_from_this()](const std::exception_ptr& cancelled) {
                if (self->closed_) return;
                if (cancelled) {
                  self->fail(cancelled);
                } else {
                  self->open();
                }
              });
}

void AsyncChatEventSource::fail(std::exception_ptr error) {
  if (closed_) return;
  const auto keep_alive = shared_from_this();
  close();
  if (handlers_.on_error) handlers_.on_error(std::move(error));
}

}  // namespace inferencesh::detail
