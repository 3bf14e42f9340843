#include "async_task_follower.hpp"

#include <utility>

#include "api_response.hpp"
#include "async_operations.hpp"
#include "inferencesh/errors.hpp"
#include "ndjson_decoder.hpp"
#include "sse_decoder.hpp"
#include "task_follow_core.hpp"
#include "task_operations.hpp"

namespace inferencesh::detail {

namespace {

// Of an error answer to the stream request, what is kept for the ApiError (as the blocking
// client's ClientCore::open_stream keeps).
constexpr std::size_t kMaxErrorBodyBytes = 65536;

class AsyncTaskFollower : public std::enable_shared_from_this<AsyncTaskFollower> {
 public:
  AsyncTaskFollower(std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core,
                    std::string task_id, std::optional<Task> created, const WaitOptions& options,
                    std::chrono::steady_clock::time_point started, promise<Task> result)
      : loop_(std::move(loop)),
        core_(core),
        rules_(std::move(core), std::move(task_id), std::move(created), options, started),
        result_(std::move(result)) {}

  /// The next step: a connection to the stream, or the next poll. Checks the token and the
  /// deadline first, as the blocking follower does before each step.
  void step() {
    if (settled_) return;
    try {
      rules_.check_cancel_and_deadline();
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    if (rules_.mode() == WaitMode::poll) {
      poll();
    } else {
      open();
    }
  }

 private:
  // --- stream mode ----------------------------------------------------------------------------

  void open() {
    rules_.connection_opened();
    status_ = 0;
    headers_.clear();
    error_body_.clear();
    ndjson_.reset();
    sse_.reset();
    HttpRequest request;
    try {
      request = rules_.stream_request();
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
    handler.on_end = [self](std::exception_ptr error) { self->on_end(std::move(error)); };
    stream_ = loop_->open(std::move(request), rules_.cancel(), std::move(handler));
  }

  bool success_status() const { return status_ >= 200 && status_ < 300; }

  void on_headers(int status, const Headers& headers) {
    status_ = status;
    headers_ = headers;
    if (!success_status()) return;
    const auto type = find_header(headers, "Content-Type").value_or("");
    if (type.find("text/event-stream") != std::string::npos) {
      sse_.emplace();
    } else {
      ndjson_.emplace();
    }
  }

  // Runs inside libcurl's write callback: an exception (a final failed status, a callback's own)
  // ends the transfer, and reaches on_end().
  void on_data(std::string_view bytes) {
    if (settled_) return;
    if (!success_status()) {
      const auto room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body_.size());
      error_body_.append(bytes.substr(0, room));
      return;
    }
    const auto sink = [this](StreamEvent&& event) { apply(std::move(event)); };
    if (ndjson_) {
      ndjson_->feed(bytes, sink);
    } else if (sse_) {
      sse_->feed(bytes, sink);
    }
  }

  void apply(StreamEvent&& event) {
    if (settled_) return;
    rules_.apply(std::move(event));
    if (rules_.finished()) succeed();
  }

  void on_end(std::exception_ptr error) {
    stream_ = 0;
    if (settled_) return;
    if (error) {
      // A final failed or cancelled status, raised by apply(), ends the wait as it is.
      if (rules_.finished()) {
        fail(error);
        return;
      }
      std::string reason;
      try {
        reason = status_ == 0 ? rules_.open_failed(error) : rules_.read_failed(error);
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      if (status_ == 0) {
        reconnect(reason);
      } else {
        ended(reason);
      }
      return;
    }
    if (!success_status()) {
      std::string reason;
      try {
        HttpResponse response;
        response.status = status_;
        response.headers = headers_;
        response.body = std::move(error_body_);
        try {
          throw_api_error(response, "GET", url_, core_->options().api_key);
        } catch (const ApiError&) {
          reason = rules_.open_failed(std::current_exception());
        }
      } catch (...) {
        fail(std::current_exception());
        return;
      }
      reconnect(reason);
      return;
    }
    // A clean end without a final status: apply what the last bytes carried, then reconnect.
    try {
      const auto sink = [this](StreamEvent&& event) { apply(std::move(event)); };
      if (ndjson_) {
        ndjson_->finish(sink);
      } else if (sse_) {
        sse_->finish(sink);
      }
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    if (!settled_) ended("ended");
  }

  /// The connection ended or broke before a final status: confirm with one GET when it skipped
  /// a payload, then reconnect.
  void ended(const std::string& reason) {
    if (!rules_.needs_confirmation(reason)) {
      reconnect(reason);
      return;
    }
    async_call(loop_, core_, rules_.confirmation_call(), rules_.cancel(),
               [self = shared_from_this(), reason](std::exception_ptr error, ApiResult full) {
                 if (self->settled_) return;
                 try {
                   if (error) {
                     self->rules_.confirmation_failed(error);
                   } else {
                     self->rules_.confirmed(std::move(full));
                   }
                 } catch (...) {
                   self->fail(std::current_exception());
                   return;
                 }
                 if (self->rules_.finished()) {
                   self->succeed();
                 } else {
                   self->reconnect(reason);
                 }
               });
  }

  void reconnect(const std::string& reason) {
    std::chrono::milliseconds delay{0};
    try {
      delay = rules_.reconnect_delay(reason);
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    wait(delay);
  }

  /// Waits `delay` (up to the deadline), then takes the next step.
  void wait(std::chrono::milliseconds delay) {
    async_sleep(loop_, rules_.clamp_to_deadline(delay), rules_.cancel(),
                [self = shared_from_this()](std::exception_ptr cancelled) {
                  if (cancelled) {
                    self->fail(cancelled);
                    return;
                  }
                  self->step();
                });
  }

  // --- poll mode ------------------------------------------------------------------------------

  void poll() {
    const auto delay = rules_.clamp_to_deadline(rules_.next_poll_delay());
    async_sleep(loop_, delay, rules_.cancel(),
                [self = shared_from_this()](std::exception_ptr cancelled) {
                  if (cancelled) {
                    self->fail(cancelled);
                    return;
                  }
                  self->poll_status();
                });
  }

  void poll_status() {
    try {
      rules_.check_cancel_and_deadline();
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    async_call(loop_, core_, rules_.within_deadline(task_status_call(rules_.task_id())),
               rules_.cancel(),
               [self = shared_from_this()](std::exception_ptr error, ApiResult status) {
                 if (self->settled_) return;
                 if (error) {
                   self->fail_call(error);
                   return;
                 }
                 if (!self->rules_.status_changed(status)) {
                   self->step();
                   return;
                 }
                 self->fetch_polled();
               });
  }

  void fetch_polled() {
    async_call(loop_, core_, rules_.within_deadline(get_task_call(rules_.task_id())),
               rules_.cancel(),
               [self = shared_from_this()](std::exception_ptr error, ApiResult full) {
                 if (self->settled_) return;
                 if (error) {
                   self->fail_call(error);
                   return;
                 }
                 try {
                   self->rules_.polled(full);
                 } catch (...) {
                   self->fail(std::current_exception());
                   return;
                 }
                 if (self->rules_.finished()) {
                   self->succeed();
                 } else {
                   self->step();
                 }
               });
  }

  /// A failed API call of the wait: a connection failure past the deadline is the deadline's.
  void fail_call(const std::exception_ptr& error) {
    try {
      rules_.rethrow_call_failure(error);
    } catch (...) {
      fail(std::current_exception());
    }
  }

  // --- the outcome ----------------------------------------------------------------------------

  void succeed() {
    if (settled_) return;
    settled_ = true;
    stop_stream();
    // Handed to the loop's queue: the caller's continuations never run inside libcurl.
    loop_->post([result = result_, task = rules_.current()]() mutable {
      result.set_value(std::move(task));
    });
  }

  void fail(std::exception_ptr error) {
    if (settled_) return;
    settled_ = true;
    rules_.close();
    stop_stream();
    loop_->post([result = result_, error]() mutable { result.set_exception(error); });
  }

  void stop_stream() {
    if (stream_ != 0) loop_->close(stream_);
    stream_ = 0;
  }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  TaskFollowCore rules_;
  promise<Task> result_;
  bool settled_ = false;

  std::uint64_t stream_ = 0;
  std::string url_;
  int status_ = 0;
  Headers headers_;
  std::string error_body_;
  std::optional<NdjsonDecoder> ndjson_;
  std::optional<SseDecoder> sse_;
};

}  // namespace

void follow_task_async(const std::shared_ptr<AsyncLoop>& loop,
                       const std::shared_ptr<const ClientCore>& core, std::string task_id,
                       std::optional<Task> created, const WaitOptions& options,
                       std::chrono::steady_clock::time_point started, promise<Task> result) {
  std::shared_ptr<AsyncTaskFollower> follower;
  try {
    follower = std::make_shared<AsyncTaskFollower>(loop, core, std::move(task_id),
                                                   std::move(created), options, started, result);
  } catch (...) {
    result.set_exception(std::current_exception());
    return;
  }
  loop->post([follower] { follower->step(); });
}

}  // namespace inferencesh::detail
