#include "async_turn.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <utility>

#include "async_chat_event_source.hpp"
#include "async_operations.hpp"
#include "attachments.hpp"
#include "inferencesh/errors.hpp"
#include "turn_follow_core.hpp"

namespace inferencesh::detail {

namespace {

using Clock = std::chrono::steady_clock;

// A timer that only the loop's shutdown fires (with CancelledError): it fails a turn that is
// waiting on nothing of the loop's own, only on a handler.
constexpr std::chrono::milliseconds kShutdownWatch = std::chrono::hours(24 * 365);

std::exception_ptr cancelled_error() {
  return std::make_exception_ptr(CancelledError("the call was cancelled"));
}

// One send_message on the loop. Everything runs on the loop thread, except the handlers and
// approval callbacks posted to the executor, which come back through the loop's queue.
class AsyncTurn : public std::enable_shared_from_this<AsyncTurn> {
 public:
  AsyncTurn(const AsyncTurnContext& context, const SendMessageOptions& options,
            const ToolHandlerMap& handlers, std::string existing_chat, Clock::time_point started,
            promise<AgentResponse> result)
      : loop_(context.loop),
        core_(context.core),
        executor_(context.executor),
        chat_(context.chat),
        cancel_(options.cancel),
        on_approval_(options.on_approval),
        turn_(context.core, options, handlers, std::move(existing_chat), started),
        result_(std::move(result)) {}

  TurnFollowCore& turn() noexcept { return turn_; }
  void set_run_call(ApiCall call) { run_call_ = std::move(call); }

  void start() {
    if (cancel_.is_cancelled()) {  // nothing goes out
      fail(cancelled_error());
      return;
    }
    auto self = shared_from_this();
    watch_ = loop_->after(kShutdownWatch, [self](const std::exception_ptr& error) {
      self->watch_ = 0;
      if (error) self->fail(error);
    });
    if (const auto deadline = turn_.deadline()) {
      const auto left =
          std::max(std::chrono::milliseconds(0),
                   std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()));
      deadline_timer_ = loop_->after(left, [self](const std::exception_ptr& error) {
        self->deadline_timer_ = 0;
        self->fail(error ? error : std::make_exception_ptr(self->turn_.deadline_error()));
      });
    }
    // The token's callback runs on the cancelling thread: it only hands the cancel to the loop.
    std::weak_ptr<AsyncTurn> weak = self;
    on_cancel_ = cancel_.on_cancel([weak, loop = loop_] {
      loop->post([weak] {
        if (auto alive = weak.lock()) alive->fail(cancelled_error());
      });
    });
    if (settled_) return;
    if (turn_.stream_before_post()) {
      // Opened before the message goes out, so no update of the turn is missed; its events
      // wait for the message's answer.
      open_source(turn_.existing_chat());
    } else {
      post_message();
    }
  }

 private:
  // --- the message ----------------------------------------------------------------------------

  void post_message() {
    async_call(
        loop_, core_, run_call_, stop_,
        [self = shared_from_this()](const std::exception_ptr& error, const ApiResult& answer) {
          if (self->settled_) return;
          if (error) {
            self->fail(error);
            return;
          }
          try {
            self->turn_.begin(answer);
          } catch (...) {
            self->fail(std::current_exception());
            return;
          }
          self->begun_ = true;
          if (self->turn_.new_chat()) self->chat_->set_if_empty(self->turn_.chat_id());
          if (!self->turn_.waits()) {
            self->succeed();
          } else {
            self->follow();
          }
        });
  }

  void follow() {
    if (turn_.mode() == WaitMode::poll) {
      poll_status();
      return;
    }
    if (!source_) {
      open_source(turn_.chat_id());
      return;
    }
    // The stream opened before the message: its events are released once the chat, if a
    // reconnect meanwhile calls for it, was fetched.
    if (fetch_due_) {
      fetch_due_ = false;
      fetch([self = shared_from_this()] { self->release_source(); });
    } else {
      release_source();
    }
  }

  // --- stream mode ----------------------------------------------------------------------------

  void open_source(const std::string& chat_id) {
    AsyncChatEventSource::Handlers handlers;
    auto self = shared_from_this();
    handlers.on_open = [self](bool reopened) { self->opened(reopened); };
    handlers.on_event = [self](const StreamEvent& event) { self->event(event); };
    handlers.on_error = [self](const std::exception_ptr& error) { self->fail(error); };
    source_ = AsyncChatEventSource::create(loop_, core_, chat_id, turn_.max_reconnects(), stop_,
                                           std::move(handlers));
    if (!begun_) source_->hold();  // until the message's answer is in
    source_->start();
  }

  void opened(bool reopened) {
    if (settled_) return;
    if (!begun_) {
      if (reopened) fetch_due_ = true;
      if (!message_sent_) {
        message_sent_ = true;
        post_message();
      }
      return;
    }
    // After a reconnect, or the first open for a new chat, the chat is fetched before the
    // stream's events: a server that replays only a busy turn, or none, cannot hide its end.
    if (reopened || turn_.fetch_after_open()) {
      source_->hold();
      fetch([self = shared_from_this()] { self->release_source(); });
    }
  }

  void release_source() {
    if (source_) source_->release();
  }

  void event(const StreamEvent& event) {
    if (settled_) return;
    try {
      turn_.apply_event(event);
    } catch (...) {
      fail(std::current_exception());  // a callback's exception ends the call
      return;
    }
    run_work();
    check_over();
  }

  /// GET /chats/{id} into the turn; `then` runs after, unless that ended the turn.
  void fetch(std::function<void()> then) {
    async_call(loop_, core_, turn_.fetch_call(), stop_,
               [self = shared_from_this(), then = std::move(then)](const std::exception_ptr& error,
                                                                   const ApiResult& chat) {
                 if (self->settled_) return;
                 if (error) {
                   self->fail(error);
                   return;
                 }
                 try {
                   self->turn_.apply_chat(chat.data);
                 } catch (...) {
                   self->fail(std::current_exception());
                   return;
                 }
                 self->run_work();
                 if (!self->check_over() && then) then();
               });
  }

  // --- poll mode ------------------------------------------------------------------------------

  void poll_status() {
    if (check_over() || !following_) return;
    if (turn_.deadline_passed()) {
      fail(std::make_exception_ptr(turn_.deadline_error()));
      return;
    }
    async_call(
        loop_, core_, turn_.status_call(), stop_,
        [self = shared_from_this()](const std::exception_ptr& error, const ApiResult& status) {
          if (self->settled_) return;
          if (error) {
            self->fail(error);
            return;
          }
          if (self->turn_.status_changed(status)) {
            self->fetch([self] { self->next_poll(); });
          } else {
            self->next_poll();
          }
        });
  }

  void next_poll() {
    if (check_over() || !following_) return;
    async_sleep(loop_, turn_.poll_interval(), stop_,
                [self = shared_from_this()](const std::exception_ptr& cancelled) {
                  if (self->settled_) return;
                  if (cancelled) {
                    self->fail(cancelled);
                  } else {
                    self->poll_status();
                  }
                });
  }

  // --- handlers and approvals -----------------------------------------------------------------

  void run_work() {
    try {
      for (auto& work : turn_.take_work()) {
        ++outstanding_;
        if (work.kind == TurnWork::Kind::approval) {
          ask_approval(std::move(work.invocation));
        } else if (work.handlers.run_async) {
          run_async_handler(work.handlers.run_async, std::move(work.invocation));
        } else {
          run_blocking_handler(std::move(work.handlers.run), std::move(work.invocation));
        }
      }
    } catch (...) {
      fail(std::current_exception());  // no thread for the handler: the call cannot go on
    }
  }

  // Called on the loop thread: it returns a future at once, whose outcome is submitted.
  void run_async_handler(const AsyncToolHandler& handler, ToolInvocation call) {
    future<std::string> pending;
    try {
      pending = handler(call.arguments);
      if (!pending.valid()) throw std::logic_error("the handler returned no future");
    } catch (...) {
      pending = make_exceptional_future<std::string>(std::current_exception());
    }
    pending.then([self = shared_from_this(), call = std::move(call)](future<std::string> done) {
      std::string result;
      try {
        result = done.get();
      } catch (...) {
        result = handler_error_result(std::current_exception());
      }
      self->loop_->post([self, call, result = std::move(result)] {
        self->submit(TurnFollowCore::result_call(call, result));
      });
    });
  }

  // On the executor: the loop goes on meanwhile. The work holds the turn, so it never touches
  // freed memory; once the turn ended (or the loop is gone) its outcome is dropped.
  void run_blocking_handler(ToolHandler handler, ToolInvocation call) {
    executor_->post(
        [self = shared_from_this(), handler = std::move(handler), call = std::move(call)] {
          if (self->ended_) return;
          std::string result;
          try {
            result = handler(call.arguments);
          } catch (...) {
            result = handler_error_result(std::current_exception());
          }
          self->loop_->post([self, call, result = std::move(result)] {
            self->submit(TurnFollowCore::result_call(call, result));
          });
        });
  }

  void ask_approval(ToolInvocation call) {
    executor_->post([self = shared_from_this(), call = std::move(call)] {
      if (self->ended_) return;
      ApprovalDecision decision;
      std::exception_ptr error;
      try {
        decision = self->on_approval_(call);
      } catch (...) {
        error = std::current_exception();
      }
      self->loop_->post([self, call, decision, error] {
        if (error) {
          self->fail(error);
        } else {
          self->decided(call, decision);
        }
      });
    });
  }

  void decided(const ToolInvocation& call, const ApprovalDecision& decision) {
    if (settled_) return;
    const auto api_call = turn_.decision_call(call, decision);
    if (!api_call) {  // later(): the call waits on this program again
      --outstanding_;
      check_over();
      return;
    }
    submit(*api_call);
  }

  /// Submits a handler's result or an approval's decision; a submit that fails ends the turn.
  void submit(const ApiCall& call) {
    if (settled_) return;
    async_call(loop_, core_, call, stop_,
               [self = shared_from_this()](const std::exception_ptr& error, const ApiResult&) {
                 if (self->settled_) return;
                 if (error) {
                   self->fail(error);
                   return;
                 }
                 --self->outstanding_;
                 self->check_over();
               });
  }

  // --- the outcome ----------------------------------------------------------------------------

  /// Completes the turn once it is over and its handlers returned; true when settled.
  bool check_over() {
    if (settled_) return true;
    if (!turn_.over()) return false;
    if (outstanding_ > 0) {
      // Over, but handlers are still at work: as the blocking agent stops reading and joins
      // them, the chat is no longer followed; the last outcome submitted completes the turn.
      following_ = false;
      if (source_) source_->close();
      source_.reset();
      return false;
    }
    succeed();
    return true;
  }

  void succeed() {
    if (settled_) return;
    AgentResponse response = turn_.result();
    end();
    // Through the loop's queue: the caller's continuations never run inside libcurl.
    loop_->post([result = result_, response = std::move(response)]() mutable {
      result.set_value(std::move(response));
    });
  }

  void fail(std::exception_ptr error) {
    if (settled_) return;
    end();
    fail_from_queue(*loop_, result_, std::move(error));
  }

  void end() {
    settled_ = true;
    ended_ = true;
    if (source_) source_->close();
    source_.reset();  // the source's handlers hold this turn until the loop lets go of it
    if (watch_ != 0) loop_->cancel_timer(watch_);
    if (deadline_timer_ != 0) loop_->cancel_timer(deadline_timer_);
    watch_ = deadline_timer_ = 0;
    on_cancel_ = CancellationToken::Registration();
    stop_.cancel();  // calls still in flight end; their outcomes are dropped
  }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<const ClientCore> core_;
  std::shared_ptr<HandlerExecutor> executor_;
  std::shared_ptr<ChatCell> chat_;
  CancellationToken cancel_;  // the caller's
  CancellationToken stop_;    // this turn's requests: cancelled when it ends
  CancellationToken::Registration on_cancel_;
  std::function<ApprovalDecision(const ToolInvocation&)> on_approval_;
  TurnFollowCore turn_;
  promise<AgentResponse> result_;
  ApiCall run_call_;

  std::shared_ptr<AsyncChatEventSource> source_;
  std::uint64_t watch_ = 0;
  std::uint64_t deadline_timer_ = 0;
  bool message_sent_ = false;
  bool begun_ = false;
  bool fetch_due_ = false;
  bool following_ = true;  // false once the turn is over and only waits for its handlers
  int outstanding_ = 0;    // handlers and approvals whose outcome is not submitted yet
  bool settled_ = false;
  std::atomic<bool> ended_{false};  // settled_, for the executor's threads
};

}  // namespace

future<AgentResponse> send_message_async(const AsyncTurnContext& context,
                                         const AgentDefinition& definition,
                                         const ToolHandlerMap& handlers, const std::string& text,
                                         const SendMessageOptions& options) {
  const auto started = Clock::now();
  promise<AgentResponse> result;
  auto future = result.get_future();
  try {
    // Files first, on this thread with the blocking client's code: nothing is sent to the chat
    // unless every upload worked.
    const auto attachments = upload_attachments(*context.core, options.files, options.cancel);
    auto turn = std::make_shared<AsyncTurn>(context, options, handlers, context.chat->get(),
                                            started, result);
    turn->set_run_call(turn->turn().run_call(definition, text, attachments));
    context.loop->post([turn] { turn->start(); });
  } catch (...) {
    result.set_exception(std::current_exception());
  }
  return future;
}

}  // namespace inferencesh::detail
