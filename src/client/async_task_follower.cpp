#include "async_task_follower.hpp"

#include <algorithm>
#include <utility>

#include "api_response.hpp"
#include "async_operations.hpp"
#include "inferencesh/errors.hpp"
#include "task_operations.hpp"

namespace inferencesh::detail {

namespace {

// Of an error answer to the stream request, what is kept for the ApiError (as the blocking
// client's ClientCore::open_stream keeps).
constexpr std::size_t kMaxErrorBodyBytes = 65536;

}  // namespace

AsyncTaskFollower::AsyncTaskFollower(std::shared_ptr<AsyncLoop> loop,
                                     std::shared_ptr<const ClientCore> core, std::string task_id,
                                     std::optional<Task> created, const WaitOptions& options,
                                     Clock::time_point started,
                                     std::shared_ptr<AsyncTaskListener> listener, Demand demand)
    : loop_(std::move(loop)),
      core_(core),
      rules_(std::move(core), std::move(task_id), std::move(created), options, started),
      listener_(std::move(listener)),
      eager_(demand == Demand::eager),
      wanted_(eager_) {
  forward_cancel_ = rules_.cancel().on_cancel([stop = stop_] { stop.cancel(); });
}

void AsyncTaskFollower::start() { step(); }

void AsyncTaskFollower::pull() {
  if (settled_) return;
  wanted_ = true;
  if (waiting_) {
    waiting_ = false;
    step();
    return;
  }
  deliver();
}

void AsyncTaskFollower::close() {
  if (settled_) return;
  settled_ = true;
  rules_.close();
  stop_io();
  listener_.reset();
}

template <typename Step>
bool AsyncTaskFollower::guarded(Step&& step) {
  try {
    step();
    return true;
  } catch (...) {
    fail(std::current_exception());
    return false;
  }
}

void AsyncTaskFollower::step() {
  if (settled_) return;
  if (!guarded([&] { rules_.check_cancel_and_deadline(); })) return;
  if (rules_.mode() == WaitMode::poll) {
    if (!wanted_) {
      waiting_ = true;  // a stream polls only when asked, as the blocking one does
      return;
    }
    sleep_then(rules_.next_poll_delay(), &AsyncTaskFollower::poll_status);
  } else {
    open();
  }
}

void AsyncTaskFollower::deliver() {
  if (delivering_ || settled_ || !wanted_) return;
  // Once per chunk (eager) or per pull: a server that never stops sending cannot outlast a
  // cancel or the deadline.
  if (!guarded([&] { rules_.check_cancel_and_deadline(); })) return;
  delivering_ = true;
  while (!settled_ && wanted_) {
    if (!queued_.empty()) {
      StreamEvent event = std::move(queued_.front());
      queued_.pop_front();
      const Task* update = nullptr;
      if (!guarded([&] { update = rules_.apply(std::move(event)); })) break;
      if (update != nullptr) hand_out(*update);
      if (rules_.finished()) succeed();
      continue;
    }
    if (ended_) {
      const std::string reason = std::move(*ended_);
      ended_.reset();
      end_connection(reason);
      break;
    }
    if (paused_) {
      // The held piece may come back at once, through on_data, into queued_.
      paused_ = false;
      loop_->resume(stream_);
      continue;
    }
    break;  // wait for bytes
  }
  delivering_ = false;
}

void AsyncTaskFollower::hand_out(const Task& update) {
  wanted_ = eager_;
  if (listener_) listener_->update(update);
}

// --- stream mode --------------------------------------------------------------------------------

void AsyncTaskFollower::open() {
  rules_.connection_opened();
  status_ = 0;
  headers_.clear();
  error_body_.clear();
  ndjson_.reset();
  sse_.reset();
  HttpRequest request;
  if (!guarded([&] { request = rules_.stream_request(); })) return;
  url_ = request.url;
  auto self = shared_from_this();
  AsyncLoop::StreamHandler handler;
  handler.on_headers = [self](int status, const Headers& headers) {
    self->on_headers(status, headers);
  };
  handler.on_data = [self](std::string_view bytes) { self->on_data(bytes); };
  handler.on_end = [self](std::exception_ptr error) { self->on_end(std::move(error)); };
  stream_ = loop_->open(std::move(request), stop_, std::move(handler));
}

void AsyncTaskFollower::on_headers(int status, const Headers& headers) {
  status_ = status;
  headers_ = headers;
  if (status_ < 200 || status_ >= 300) return;
  const auto type = find_header(headers, "Content-Type").value_or("");
  if (type.find("text/event-stream") != std::string::npos) {
    sse_.emplace();
  } else {
    ndjson_.emplace();
  }
}

// Runs inside libcurl's write callback; never throws (what fails ends the follow).
void AsyncTaskFollower::on_data(std::string_view bytes) {
  if (settled_) return;
  if (!ndjson_ && !sse_) {  // an error answer: its body is kept for the ApiError
    const auto room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body_.size());
    error_body_.append(bytes.substr(0, room));
    return;
  }
  const auto queue = [this](StreamEvent&& event) { queued_.push_back(std::move(event)); };
  if (!guarded([&] {
        if (ndjson_) {
          ndjson_->feed(bytes, queue);
        } else {
          sse_->feed(bytes, queue);
        }
      })) {
    return;
  }
  deliver();
  if (!settled_ && !wanted_ && !paused_ && stream_ != 0 && queued_.size() >= kMaxQueuedEvents) {
    paused_ = true;
    loop_->pause(stream_);
  }
}

void AsyncTaskFollower::on_end(std::exception_ptr error) {
  stream_ = 0;
  paused_ = false;
  if (settled_) return;
  std::string reason;
  if (error) {
    if (!guarded([&] {
          reason = status_ == 0 ? rules_.open_failed(error) : rules_.read_failed(error);
        })) {
      return;
    }
  } else if (!ndjson_ && !sse_) {
    // The stream was refused: the typed ApiError of its status decides (a 404 ends the follow,
    // a 503 is reconnected).
    if (!guarded([&] {
          HttpResponse response;
          response.status = status_;
          response.headers = headers_;
          response.body = std::move(error_body_);
          try {
            throw_api_error(response, "GET", url_, core_->options().api_key);
          } catch (const ApiError&) {
            reason = rules_.open_failed(std::current_exception());
          }
        })) {
      return;
    }
  } else {
    // A clean end without a final status: what the last bytes carried is handed out first.
    const auto queue = [this](StreamEvent&& event) { queued_.push_back(std::move(event)); };
    if (!guarded([&] {
          if (ndjson_) {
            ndjson_->finish(queue);
          } else {
            sse_->finish(queue);
          }
        })) {
      return;
    }
    reason = "ended";
  }
  ended_ = std::move(reason);
  deliver();
}

void AsyncTaskFollower::end_connection(const std::string& reason) {
  if (!rules_.needs_confirmation(reason)) {
    reconnect(reason);
    return;
  }
  call_then(rules_.confirmation_call(),
            [reason](AsyncTaskFollower& self, const std::exception_ptr& error, ApiResult full) {
              const Task* update = nullptr;
              if (!self.guarded([&] {
                    if (error) {
                      self.rules_.confirmation_failed(error);
                    } else {
                      update = self.rules_.confirmed(std::move(full));
                    }
                  })) {
                return;
              }
              if (update != nullptr) self.hand_out(*update);
              if (self.rules_.finished()) {
                self.succeed();
              } else {
                self.reconnect(reason);
              }
            });
}

void AsyncTaskFollower::reconnect(const std::string& reason) {
  std::chrono::milliseconds delay{0};
  if (!guarded([&] { delay = rules_.reconnect_delay(reason); })) return;
  sleep_then(delay, &AsyncTaskFollower::step);
}

// --- poll mode ----------------------------------------------------------------------------------

void AsyncTaskFollower::poll_status() {
  if (!guarded([&] { rules_.check_cancel_and_deadline(); })) return;
  call_then(rules_.within_deadline(task_status_call(rules_.task_id())),
            [](AsyncTaskFollower& self, const std::exception_ptr& error, const ApiResult& status) {
              if (error) {
                self.fail_call(error);
              } else if (self.rules_.status_changed(status)) {
                self.fetch_polled();
              } else {
                self.step();
              }
            });
}

void AsyncTaskFollower::fetch_polled() {
  call_then(rules_.within_deadline(get_task_call(rules_.task_id())),
            [](AsyncTaskFollower& self, const std::exception_ptr& error, const ApiResult& full) {
              if (error) {
                self.fail_call(error);
                return;
              }
              const Task* update = nullptr;
              if (!self.guarded([&] { update = self.rules_.polled(full); })) return;
              if (update != nullptr) self.hand_out(*update);
              if (self.rules_.finished()) {
                self.succeed();
              } else {
                self.step();
              }
            });
}

// --- the loop's timers and calls ----------------------------------------------------------------

void AsyncTaskFollower::sleep_then(std::chrono::milliseconds delay,
                                   void (AsyncTaskFollower::*next)()) {
  async_sleep(loop_, rules_.clamp_to_deadline(delay), stop_,
              [self = shared_from_this(), next](const std::exception_ptr& cancelled) {
                if (self->settled_) return;
                if (cancelled) {
                  self->fail(cancelled);
                } else {
                  ((*self).*next)();
                }
              });
}

template <typename Done>
void AsyncTaskFollower::call_then(const ApiCall& call, Done done) {
  async_call(loop_, core_, call, stop_,
             [self = shared_from_this(), done = std::move(done)](std::exception_ptr error,
                                                                 ApiResult result) {
               if (self->settled_) return;
               done(*self, std::move(error), std::move(result));
             });
}

void AsyncTaskFollower::fail_call(const std::exception_ptr& error) {
  guarded([&] { rules_.rethrow_call_failure(error); });
}

// --- the outcome --------------------------------------------------------------------------------

void AsyncTaskFollower::succeed() {
  if (settled_) return;
  settled_ = true;
  stop_io();
  if (auto listener = std::move(listener_)) listener->ended(rules_.current(), nullptr);
}

void AsyncTaskFollower::fail(std::exception_ptr error) {
  if (settled_) return;
  settled_ = true;
  rules_.close();
  stop_io();
  if (auto listener = std::move(listener_)) listener->ended(rules_.current(), std::move(error));
}

void AsyncTaskFollower::stop_io() {
  if (stream_ != 0) loop_->close(stream_);
  stream_ = 0;
  paused_ = false;
  queued_.clear();
  ended_.reset();
  stop_.cancel();  // timers and calls in flight end; their callbacks see settled_
}

// --- the waiting calls --------------------------------------------------------------------------

namespace {

/// Completes the promise of a waiting call with the final task or the error.
class WaitingListener final : public AsyncTaskListener {
 public:
  WaitingListener(std::shared_ptr<AsyncLoop> loop, promise<Task> result)
      : loop_(std::move(loop)), result_(std::move(result)) {}

  void update(const Task&) override {}

  void ended(const Task& task, std::exception_ptr error) override {
    // Handed to the loop's queue: the caller's continuations never run inside libcurl.
    if (error) {
      fail_from_queue(*loop_, result_, std::move(error));
    } else {
      loop_->post([result = result_, task]() mutable { result.set_value(task); });
    }
  }

 private:
  std::shared_ptr<AsyncLoop> loop_;
  promise<Task> result_;
};

}  // namespace

void follow_task_async(const std::shared_ptr<AsyncLoop>& loop,
                       const std::shared_ptr<const ClientCore>& core, std::string task_id,
                       std::optional<Task> created, const WaitOptions& options,
                       std::chrono::steady_clock::time_point started, promise<Task> result) {
  std::shared_ptr<AsyncTaskFollower> follower;
  try {
    follower = std::make_shared<AsyncTaskFollower>(
        loop, core, std::move(task_id), std::move(created), options, started,
        std::make_shared<WaitingListener>(loop, result), AsyncTaskFollower::Demand::eager);
  } catch (...) {
    fail_from_queue(*loop, std::move(result), std::current_exception());
    return;
  }
  loop->post([follower] { follower->start(); });
}

}  // namespace inferencesh::detail
