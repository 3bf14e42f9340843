#include "chat_event_source.hpp"

#include <algorithm>

#include "inferencesh/errors.hpp"
#include "retry_policy.hpp"

namespace inferencesh::detail {
namespace {

constexpr int kLoggedSkipsPerConnection = 10;

}  // namespace

StreamError chat_stream_gave_up(const std::string& chat_id, const std::string& reason,
                                int failures) {
  // The constructor (std::runtime_error's, inherited) is explicit: a braced return does not
  // compile. NOLINTNEXTLINE(modernize-return-braced-init-list)
  return StreamError("the stream of chat " + chat_id + " " + reason + " " +
                     std::to_string(failures) + " time(s) in a row without an event");
}

ChatEventSource::ChatEventSource(std::shared_ptr<const ClientCore> core, std::string chat_id,
                                 int max_reconnects, CancellationToken cancel,
                                 std::optional<Clock::time_point> deadline)
    : core_(std::move(core)),
      chat_id_(std::move(chat_id)),
      backoff_(core_->options().wait, max_reconnects),
      cancel_(std::move(cancel)),
      deadline_(deadline) {}

ChatEventSource::~ChatEventSource() = default;

void ChatEventSource::check_cancel_and_deadline() const {
  if (cancel_.is_cancelled()) throw CancelledError("the call was cancelled");
  if (deadline_ && Clock::now() >= *deadline_) {
    throw TimeoutError("chat " + chat_id_ + ": the deadline passed while following the chat", true);
  }
}

void ChatEventSource::drop() {
  stream_.reset();
  ndjson_.reset();
  sse_.reset();
}

void ChatEventSource::close() {
  drop();
  pending_.clear();
}

void ChatEventSource::open() {
  if (stream_) return;
  check_cancel_and_deadline();
  skipped_ = 0;
  stream_ = core_->open_stream("/chats/" + encode_path_segment(chat_id_) + "/stream",
                               "application/x-ndjson", cancel_, deadline_);
  const auto type = find_header(stream_->headers(), "Content-Type").value_or("");
  if (type.find("text/event-stream") != std::string::npos) {
    sse_.emplace();
  } else {
    ndjson_.emplace();
  }
  if (++connections_ > 1) reopen_pending_ = true;
}

void ChatEventSource::schedule_reconnect(const std::string& reason) {
  drop();
  auto delay = backoff_.next_delay();
  if (!delay) throw chat_stream_gave_up(chat_id_, reason, backoff_.failures());
  core_->log(LogLevel::warning, "chat " + chat_id_ + ": stream " + reason + "; reconnecting in " +
                                    std::to_string(delay->count()) + " ms");
  if (deadline_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - Clock::now());
    delay = std::clamp(left, std::chrono::milliseconds(0), *delay);
  }
  if (cancel_.wait_for(*delay)) throw CancelledError("the call was cancelled");
  check_cancel_and_deadline();
}

StreamEvent ChatEventSource::next() {
  const auto sink = [this](StreamEvent&& event) { pending_.push_back(std::move(event)); };
  for (;;) {
    check_cancel_and_deadline();
    while (!pending_.empty()) {
      StreamEvent event = std::move(pending_.front());
      pending_.pop_front();
      if (event.kind == StreamEvent::Kind::heartbeat) continue;
      if (event.kind == StreamEvent::Kind::invalid) {
        if (++skipped_ <= kLoggedSkipsPerConnection) {
          core_->log(LogLevel::warning,
                     "chat " + chat_id_ + ": skipped a stream payload: " + event.error);
        }
        continue;
      }
      backoff_.progress();
      return event;
    }
    if (!stream_) {
      try {
        open();
      } catch (const ApiError& e) {
        if (!is_retryable_status(e.status())) throw;
        schedule_reconnect(std::string("could not be opened (") + e.what() + ")");
        continue;
      } catch (const CancelledError&) {
        throw;
      } catch (const ConnectionError& e) {
        check_cancel_and_deadline();
        schedule_reconnect(std::string("could not be opened (") + e.what() + ")");
        continue;
      }
    }
    if (reopen_pending_) {
      reopen_pending_ = false;
      if (on_reopened_) on_reopened_();
      continue;
    }
    bool more = false;
    try {
      more = stream_->next(chunk_);
    } catch (const CancelledError&) {
      throw;
    } catch (const ConnectionError& e) {
      check_cancel_and_deadline();
      schedule_reconnect(std::string("broke (") + e.what() + ")");
      continue;
    }
    if (more) {
      if (ndjson_) {
        ndjson_->feed(chunk_, sink);
      } else {
        sse_->feed(chunk_, sink);
      }
      continue;
    }
    if (ndjson_) {
      ndjson_->finish(sink);
    } else {
      sse_->finish(sink);
    }
    drop();
    if (!pending_.empty()) continue;  // hand these out first; the reconnect follows
    schedule_reconnect("ended");
  }
}

}  // namespace inferencesh::detail
