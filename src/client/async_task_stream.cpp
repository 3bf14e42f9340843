// The async client's task streams: AsyncTaskStream, and the AsyncTasks calls that make them.

#include "inferencesh/async_task_stream.hpp"

#include <chrono>
#include <deque>
#include <mutex>
#include <type_traits>
#include <utility>

#include "async_core.hpp"
#include "async_task_follower.hpp"
#include "inferencesh/async_client.hpp"
#include "inferencesh/errors.hpp"

namespace inferencesh {

namespace detail {

/// What an AsyncTaskStream shares with its follower. The consumer's calls (next(), close()) are
/// posted to the loop; the follower's results arrive there. finished(), result() and current()
/// read a copy kept under a mutex, so they answer from any thread.
class AsyncTaskStreamState final : public AsyncTaskListener,
                                   public std::enable_shared_from_this<AsyncTaskStreamState> {
 public:
  using Next = std::optional<Task>;

  explicit AsyncTaskStreamState(std::shared_ptr<AsyncLoop> loop) : loop_(std::move(loop)) {}

  // --- any thread -------------------------------------------------------------------------------

  future<Next> next() {
    promise<Next> wanted;
    auto result = wanted.get_future();
    loop_->post([self = shared_from_this(), wanted]() mutable { self->pull(std::move(wanted)); });
    return result;
  }

  void close() {
    loop_->post([self = shared_from_this()] { self->close_on_loop(); });
  }

  bool finished() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return finished_;
  }
  Task current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return current_;
  }
  std::optional<Task> final_task() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return final_;
  }

  // --- loop thread ------------------------------------------------------------------------------

  /// Starts following with `follower` (made for this state, pulled), unless the stream is over.
  void follow(const std::shared_ptr<AsyncTaskFollower>& follower) {
    if (over_) {
      follower->close();
      return;
    }
    follower_ = follower;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ = follower->current();
    }
    follower->start();
    if (waiting_ && follower_) follower_->pull();
  }

  void update(const Task& task) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ = task;
    }
    if (waiting_) {
      answer(Next(task));
    } else {
      ready_.push_back(task);  // not asked for: a pulled follower hands out none such
    }
  }

  void ended(const Task& task, std::exception_ptr error) override {
    follower_.reset();
    over_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
      if (task.is_terminal()) final_ = task;
    }
    if (!waiting_) {
      failure_ = std::move(error);
    } else if (error) {
      answer(std::move(error));
    } else {
      answer(Next());
    }
  }

 private:
  void pull(promise<Next> wanted) {
    if (waiting_) {
      wanted.set_exception(std::make_exception_ptr(StreamError(
          "AsyncTaskStream::next() was called again before the previous next() completed")));
      return;
    }
    if (!ready_.empty()) {
      Next task = std::move(ready_.front());
      ready_.pop_front();
      wanted.set_value(std::move(task));
      return;
    }
    if (failure_) {  // handed out once; the stream is over after it
      wanted.set_exception(std::exchange(failure_, nullptr));
      return;
    }
    if (over_) {
      wanted.set_value(Next());
      return;
    }
    waiting_ = std::move(wanted);
    if (follower_) {
      const auto follower = follower_;  // the follow may end inside, dropping follower_
      follower->pull();
    }
  }

  void close_on_loop() {
    if (follower_) follower_->close();
    follower_.reset();
    over_ = true;
    failure_ = nullptr;
    ready_.clear();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    if (waiting_) answer(Next());
  }

  /// Completes the pending next() through the loop's queue: the consumer's continuation (a
  /// coroutine, often) never runs inside libcurl or inside the follower.
  template <typename Outcome>
  void answer(Outcome outcome) {
    promise<Next> wanted = std::move(*waiting_);
    waiting_.reset();
    loop_->post([wanted, outcome = std::move(outcome)]() mutable {
      if constexpr (std::is_same_v<Outcome, std::exception_ptr>) {
        wanted.set_exception(std::move(outcome));
      } else {
        wanted.set_value(std::move(outcome));
      }
    });
  }

  std::shared_ptr<AsyncLoop> loop_;
  std::shared_ptr<AsyncTaskFollower> follower_;  // until the follow ends or the stream closes
  std::optional<promise<Next>> waiting_;         // the pending next()
  std::deque<Task> ready_;
  std::exception_ptr failure_;  // what ended the stream, for the next next()
  bool over_ = false;

  mutable std::mutex mutex_;
  Task current_;
  std::optional<Task> final_;
  bool finished_ = false;
};

}  // namespace detail

// --- AsyncTaskStream ----------------------------------------------------------------------------

AsyncTaskStream::AsyncTaskStream(std::shared_ptr<detail::AsyncTaskStreamState> state)
    : state_(std::move(state)) {}

AsyncTaskStream::AsyncTaskStream(AsyncTaskStream&&) noexcept = default;

AsyncTaskStream& AsyncTaskStream::operator=(AsyncTaskStream&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}

AsyncTaskStream::~AsyncTaskStream() { close(); }

future<std::optional<Task>> AsyncTaskStream::next() {
  if (!state_) return make_ready_future(std::optional<Task>());
  return state_->next();
}

bool AsyncTaskStream::finished() const { return !state_ || state_->finished(); }

Task AsyncTaskStream::result() const {
  const auto final_task = state_ ? state_->final_task() : std::nullopt;
  if (!final_task) {
    throw StreamError("the task has not reached a final status on this stream yet");
  }
  if (final_task->status == TaskStatus::failed) throw TaskFailedError(*final_task);
  if (final_task->status == TaskStatus::cancelled) {
    throw CancelledError("task cancelled", *final_task);
  }
  return *final_task;
}

Task AsyncTaskStream::current() const {
  if (!state_) throw StreamError("the AsyncTaskStream was moved from");
  return state_->current();
}

void AsyncTaskStream::close() {
  if (!state_) return;
  try {
    state_->close();
  } catch (...) {
    // Posting failed (out of memory): the stream ends with the client at the latest.
  }
}

// --- AsyncTasks ---------------------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

/// Makes the stream's follower on the loop thread and starts it; a task that cannot be followed
/// (an empty id) ends the stream with the reason.
void follow_on_loop(const std::shared_ptr<detail::AsyncTaskStreamState>& state,
                    const std::shared_ptr<detail::AsyncLoop>& loop,
                    const std::shared_ptr<const detail::ClientCore>& client, std::string task_id,
                    std::optional<Task> created, const WaitOptions& options,
                    Clock::time_point started) {
  std::shared_ptr<detail::AsyncTaskFollower> follower;
  try {
    follower = std::make_shared<detail::AsyncTaskFollower>(
        loop, client, std::move(task_id), std::move(created), options, started, state,
        detail::AsyncTaskFollower::Demand::pulled);
  } catch (...) {
    state->ended(Task{}, std::current_exception());
    return;
  }
  state->follow(follower);
}

}  // namespace

AsyncTaskStream AsyncTasks::run(const nlohmann::json& params, stream_t,
                                const WaitOptions& options) const {
  const auto started = Clock::now();
  auto state = std::make_shared<detail::AsyncTaskStreamState>(core_->loop());
  // Creating the task is run(params, {.wait = false}): input files are uploaded here, the
  // POST goes through the loop with the same deadline and token.
  RunOptions create;
  create.wait = false;
  create.deadline = options.deadline;
  create.cancel = options.cancel;
  run(params, create)
      .then([state, loop = core_->loop(), client = core_->client(), options,
             started](future<Task> created) {
        std::optional<Task> task;
        std::exception_ptr error;
        try {
          task = created.get();
        } catch (...) {
          error = std::current_exception();
        }
        loop->post([state, loop, client, options, started, task = std::move(task), error]() {
          if (error) {
            state->ended(Task{}, error);
            return;
          }
          follow_on_loop(state, loop, client, task->id, task, options, started);
        });
      });
  return AsyncTaskStream(std::move(state));
}

AsyncTaskStream AsyncTasks::run(const nlohmann::json& params, stream_t) const {
  return run(params, inferencesh::stream, WaitOptions{});
}

AsyncTaskStream AsyncTasks::stream(const std::string& task_id, const WaitOptions& options) const {
  const auto started = Clock::now();
  auto state = std::make_shared<detail::AsyncTaskStreamState>(core_->loop());
  core_->loop()->post(
      [state, loop = core_->loop(), client = core_->client(), task_id, options, started] {
        follow_on_loop(state, loop, client, task_id, std::nullopt, options, started);
      });
  return AsyncTaskStream(std::move(state));
}

AsyncTaskStream AsyncTasks::stream(const std::string& task_id) const {
  return stream(task_id, WaitOptions{});
}

}  // namespace inferencesh
