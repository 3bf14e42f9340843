#include "async_operations.hpp"

#include <optional>
#include <utility>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {

namespace {

/// One API call in flight: its attempts, judged by ClientCore::judge_attempt.
class AsyncCall : public std::enable_shared_from_this<AsyncCall> {
 public:
  AsyncCall(std::shared_ptr<AsyncLoop> loop, std::shared_ptr<const ClientCore> core, ApiCall call,
            CancellationToken cancel, AsyncCallDone done)
      : loop_(std::move(loop)),
        core_(std::move(core)),
        call_(std::move(call)),
        cancel_(std::move(cancel)),
        done_(std::move(done)) {}

  void start() {
    try {
      request_ = build_request(core_->options(), call_);
    } catch (...) {
      finish(std::current_exception(), {});
      return;
    }
    attempt();
  }

 private:
  void attempt() {
    started_ = std::chrono::steady_clock::now();
    loop_->send(
        request_, cancel_,
        [self = shared_from_this()](const std::exception_ptr& error, const HttpResponse& response) {
          self->judge(error, response);
        });
  }

  void judge(const std::exception_ptr& error, const HttpResponse& response) {
    AttemptOutcome outcome;
    try {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const ConnectionError&) {
          // Also timeouts: judged like the blocking client's; anything else ends the call.
          outcome = core_->judge_attempt(call_, request_, retry_, nullptr, error, started_);
        }
      } else {
        outcome = core_->judge_attempt(call_, request_, retry_, &response, nullptr, started_);
      }
    } catch (...) {
      finish(std::current_exception(), {});
      return;
    }
    if (outcome.result) {
      finish(nullptr, std::move(*outcome.result));
      return;
    }
    ++retry_;
    async_sleep(loop_, outcome.retry_in, cancel_,
                [self = shared_from_this()](const std::exception_ptr& cancelled) {
                  if (cancelled) {
                    self->finish(cancelled, {});
                  } else {
                    self->attempt();
                  }
                });
  }

  void finish(std::exception_ptr error, ApiResult result) {
    AsyncCallDone done = std::move(done_);
    if (done) done(std::move(error), std::move(result));
  }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  ApiCall call_;
  CancellationToken cancel_;
  AsyncCallDone done_;
  HttpRequest request_;
  int retry_ = 0;
  std::chrono::steady_clock::time_point started_;
};

/// A pending async_sleep: a timer of the loop, ended early by the token.
struct Sleep {
  std::shared_ptr<AsyncLoop> loop;
  std::function<void(std::exception_ptr)> done;
  std::uint64_t timer = 0;
  CancellationToken::Registration on_cancel;

  static void finish(const std::shared_ptr<Sleep>& sleep, std::exception_ptr error) {
    if (!sleep->done) return;
    auto done = std::move(sleep->done);
    sleep->done = nullptr;
    sleep->on_cancel = CancellationToken::Registration();
    done(std::move(error));
  }
};

}  // namespace

void async_call(const std::shared_ptr<AsyncLoop>& loop,
                const std::shared_ptr<const ClientCore>& core, const ApiCall& call,
                const CancellationToken& cancel, AsyncCallDone done) {
  std::make_shared<AsyncCall>(loop, core, call, cancel, std::move(done))->start();
}

future<ApiResult> async_call_future(const std::shared_ptr<AsyncLoop>& loop,
                                    const std::shared_ptr<const ClientCore>& core, ApiCall call,
                                    CancellationToken cancel) {
  promise<ApiResult> result;
  auto future = result.get_future();
  loop->post([loop, core, call = std::move(call), cancel = std::move(cancel), result]() mutable {
    async_call(loop, core, call, cancel, settle_on_loop(loop, result));
  });
  return future;
}

void async_sleep(const std::shared_ptr<AsyncLoop>& loop, std::chrono::milliseconds delay,
                 const CancellationToken& cancel, std::function<void(std::exception_ptr)> done) {
  auto sleep = std::make_shared<Sleep>();
  sleep->loop = loop;
  sleep->done = std::move(done);
  sleep->timer = loop->after(delay, [sleep](std::exception_ptr cancelled) {
    sleep->timer = 0;
    Sleep::finish(sleep, std::move(cancelled));
  });
  // The token's callback runs on the cancelling thread: it only hands the cancel to the loop.
  std::weak_ptr<Sleep> weak = sleep;
  sleep->on_cancel = cancel.on_cancel([weak, loop] {
    loop->post([weak] {
      auto alive = weak.lock();
      if (!alive || !alive->done) return;
      if (alive->timer != 0) alive->loop->cancel_timer(alive->timer);
      alive->timer = 0;
      Sleep::finish(alive, std::make_exception_ptr(CancelledError("the call was cancelled")));
    });
  });
}

}  // namespace inferencesh::detail
