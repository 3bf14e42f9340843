#pragma once

// inf::future<T> and inf::promise<T>: the results of the asynchronous client.
//
// A future can be waited on (get(), wait_for(), ready()), chained with then() (the callback runs
// on the thread that completes the future, or on an Executor you pass), and, in C++20 code,
// co_awaited; a function returning inf::future<T> may itself be a coroutine. get() rethrows the
// SDK's typed exceptions (ApiError, TaskFailedError, CancelledError, ...) as they were thrown.
//
//     inf::future<inf::Task> done = client.tasks.run(params);
//     done.then([](inf::Task t) { std::cout << t.output << "\n"; });
//     inf::Task t = co_await client.tasks.run(params);            // in a coroutine
//
// The blocking parts compile as C++17; co_await needs C++20 coroutines (__cpp_impl_coroutine).

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#if defined(__cpp_impl_coroutine) && defined(__has_include)
#if __has_include(<coroutine>)
#include <coroutine>
#define INFERENCESH_HAS_COROUTINES 1
#endif
#endif

namespace inferencesh {

template <typename T>
class future;
template <typename T>
class promise;

/// Runs work elsewhere: a thread pool, an Asio strand, a GUI event loop. Given to then() to
/// choose where a continuation runs. It must run each piece of work exactly once.
///
///     inf::Executor on_pool = [&pool](std::function<void()> work) { pool.post(std::move(work)); };
using Executor = std::function<void(std::function<void()> work)>;

namespace detail {

/// What a future and its promise share: the outcome, and at most one continuation.
class FutureStateBase {
 public:
  FutureStateBase() = default;
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;

  bool ready() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return ready_;
  }

  void wait() const {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_changed_.wait(lock, [this] { return ready_; });
  }

  template <typename Rep, typename Period>
  bool wait_for(const std::chrono::duration<Rep, Period>& duration) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return ready_changed_.wait_for(lock, duration, [this] { return ready_; });
  }

  /// Stores `continuation` to run once on the completing thread, or returns false (without
  /// storing it) when the state is ready already.
  bool attach(std::function<void()> continuation) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ready_) return false;
    continuation_ = std::move(continuation);
    return true;
  }

  /// Runs `continuation` once the state is ready: at once on this thread when it already is.
  void on_ready(const std::function<void()>& continuation) {
    if (!attach(continuation)) continuation();
  }

  void set_exception(std::exception_ptr error) {
    complete([&] { error_ = std::move(error); });
  }

 protected:
  ~FutureStateBase() = default;

  /// Records the outcome with `store` under the lock, wakes waiters, then runs the continuation
  /// (outside the lock, so it may attach to other futures or complete them).
  template <typename Store>
  void complete(Store store) {
    std::function<void()> continuation;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (ready_) throw std::future_error(std::future_errc::promise_already_satisfied);
      store();
      ready_ = true;
      continuation.swap(continuation_);
    }
    ready_changed_.notify_all();
    if (continuation) continuation();
  }

  /// Rethrows the stored exception, if any, moving it out: the thread that takes the result then
  /// holds the only reference the state had. Called once ready, and once only.
  void rethrow_if_failed() {
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      error = std::move(error_);
    }
    if (error) std::rethrow_exception(std::move(error));
  }

  mutable std::mutex mutex_;

 private:
  mutable std::condition_variable ready_changed_;
  bool ready_ = false;
  std::exception_ptr error_;
  std::function<void()> continuation_;
};

template <typename T>
class FutureState final : public FutureStateBase {
 public:
  template <typename U>
  void set_value(U&& value) {
    complete([&] { value_.emplace(std::forward<U>(value)); });
  }
  /// Moves the value out (or rethrows). Called once ready, and once only.
  T take() {
    rethrow_if_failed();
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class FutureState<void> final : public FutureStateBase {
 public:
  void set_value() {
    complete([] {});
  }
  void take() { rethrow_if_failed(); }
};

template <typename T>
struct is_future : std::false_type {};
template <typename T>
struct is_future<future<T>> : std::true_type {};

/// future<U> for a continuation returning U or future<U> (futures returned are unwrapped).
template <typename R>
struct unwrapped_future {
  using type = future<R>;
};
template <typename U>
struct unwrapped_future<future<U>> {
  using type = future<U>;
};

/// Calls a continuation with the ready future when it takes one, else with its value (or with
/// nothing for future<void>), so that an exception skips it and reaches the next future.
template <typename T, typename F>
decltype(auto) invoke_continuation(F& f, future<T>&& ready) {
  if constexpr (std::is_invocable_v<F&, future<T>>) {
    return std::invoke(f, std::move(ready));
  } else if constexpr (std::is_void_v<T>) {
    ready.get();
    return std::invoke(f);
  } else {
    return std::invoke(f, ready.get());
  }
}

template <typename T, typename F, typename = void>
struct continuation_result_of;
template <typename T, typename F>
struct continuation_result_of<T, F, std::enable_if_t<std::is_invocable_v<F&, future<T>>>> {
  using type = std::invoke_result_t<F&, future<T>>;
};
template <typename T, typename F>
struct continuation_result_of<
    T, F, std::enable_if_t<!std::is_invocable_v<F&, future<T>> && std::is_void_v<T>>> {
  using type = std::invoke_result_t<F&>;
};
template <typename T, typename F>
struct continuation_result_of<
    T, F, std::enable_if_t<!std::is_invocable_v<F&, future<T>> && !std::is_void_v<T>>> {
  using type = std::invoke_result_t<F&, T>;
};

/// Runs `body`; if it throws, fails `target` with the exception. The exception is handed over
/// after its handler has ended, so this thread keeps no reference to it once the consumer can see
/// it (see docs/design.md, "Exceptions across threads").
template <typename U, typename Body>
void run_or_fail(promise<U>& target, Body&& body) {
  std::exception_ptr failure;
  try {
    std::forward<Body>(body)();
    return;
  } catch (...) {
    failure = std::current_exception();
  }
  target.set_exception(std::move(failure));
}

/// Completes `target` with what `produce` returns (nothing for promise<void>), or with the
/// exception it throws (handed over as run_or_fail() does).
template <typename U, typename Produce>
void complete_with(promise<U>& target, Produce&& produce) {
  run_or_fail(target, [&] {
    if constexpr (std::is_void_v<U>) {
      std::forward<Produce>(produce)();
      target.set_value();
    } else {
      target.set_value(std::forward<Produce>(produce)());
    }
  });
}

/// Completes `target` with what `source` holds (value or exception).
template <typename U>
void forward_outcome(future<U>&& source, promise<U>& target) {
  complete_with(target, [&source] { return source.get(); });
}

struct FutureAccess;

}  // namespace detail

/// The eventual result of an asynchronous call: a value of type T, or an exception. Move-only,
/// single consumer: get() and then() take the result, after which the future is no longer
/// valid(). Waiting on it from several threads is fine; taking the result from several is not.
///
///     inf::future<inf::Task> f = client.tasks.get(id);
///     if (f.wait_for(1s) == std::future_status::ready) use(f.get());
template <typename T>
class future {
 public:
  using value_type = T;

  /// An invalid future (no shared state).
  future() noexcept = default;
  future(future&&) noexcept = default;
  future& operator=(future&&) noexcept = default;
  future(const future&) = delete;
  future& operator=(const future&) = delete;

  /// True while the future has a result to give (before get() or then()).
  bool valid() const noexcept { return static_cast<bool>(state_); }

  /// True once the result is there: get() will not block.
  bool ready() const { return require_state().ready(); }

  /// Blocks until the result is there.
  void wait() const { require_state().wait(); }

  /// Blocks up to `duration`; std::future_status::ready or ::timeout.
  template <typename Rep, typename Period>
  std::future_status wait_for(const std::chrono::duration<Rep, Period>& duration) const {
    return require_state().wait_for(duration) ? std::future_status::ready
                                              : std::future_status::timeout;
  }

  /// Blocks until the result is there and returns it, or rethrows the exception the operation
  /// ended with (the SDK's typed errors). Leaves the future invalid.
  T get() {
    auto state = take_state();
    state->wait();
    return state->take();
  }

  /// Runs `f` once the result is there and returns a future of what `f` returns (a future
  /// returned by `f` is unwrapped: future<future<U>> becomes future<U>). `f` takes either the
  /// ready future<T> (to see exceptions itself) or the value (T, or nothing for future<void>),
  /// in which case an exception skips `f` and passes to the returned future. An exception thrown
  /// by `f` ends up in the returned future too.
  ///
  /// `f` runs on the thread that completes this future (for the async client: its loop thread,
  /// so keep it short and never block on another call there), or at once on this thread when the
  /// result is already there. Leaves this future invalid.
  ///
  ///     client.tasks.get(id).then([](inf::Task t) { return t.status; });
  template <typename F>
  auto then(F f) ->
      typename detail::unwrapped_future<typename detail::continuation_result_of<T, F>::type>::type {
    return chain(std::move(f), Executor{});
  }

  /// As then(f), with `f` handed to `executor` instead of run on the completing thread.
  ///
  ///     future.then(on_pool, [](inf::Task t) { slow_work(t); });
  template <typename F>
  auto then(Executor executor, F f) ->
      typename detail::unwrapped_future<typename detail::continuation_result_of<T, F>::type>::type {
    if (!executor) throw std::invalid_argument("inf::future::then: the executor is empty");
    return chain(std::move(f), std::move(executor));
  }

 private:
  friend class promise<T>;
  friend struct detail::FutureAccess;
  template <typename>
  friend class future;

  explicit future(std::shared_ptr<detail::FutureState<T>> state) : state_(std::move(state)) {}

  const detail::FutureState<T>& require_state() const {
    if (!state_) throw std::future_error(std::future_errc::no_state);
    return *state_;
  }
  std::shared_ptr<detail::FutureState<T>> take_state() {
    if (!state_) throw std::future_error(std::future_errc::no_state);
    return std::move(state_);
  }

  template <typename F>
  auto chain(F f, Executor executor) {
    using Result = typename detail::continuation_result_of<T, F>::type;
    using Next = typename detail::unwrapped_future<Result>::type;
    using U = typename Next::value_type;
    auto state = take_state();
    auto next = std::make_shared<promise<U>>();
    Next result = next->get_future();
    auto fn = std::make_shared<F>(std::move(f));
    std::function<void()> run = [state, next, fn]() {
      future<T> ready(state);
      if constexpr (detail::is_future<Result>::value) {
        detail::run_or_fail(*next, [&] {
          Result inner = detail::invoke_continuation<T>(*fn, std::move(ready));
          auto inner_state = inner.take_state();
          inner_state->on_ready(
              [inner_state, next] { detail::forward_outcome(future<U>(inner_state), *next); });
        });
      } else {
        detail::complete_with(
            *next, [&] { return detail::invoke_continuation<T>(*fn, std::move(ready)); });
      }
    };
    if (executor) {
      state->on_ready([executor = std::move(executor), run = std::move(run), next]() {
        detail::run_or_fail(*next, [&] { executor(run); });
      });
    } else {
      state->on_ready(std::move(run));
    }
    return result;
  }

  std::shared_ptr<detail::FutureState<T>> state_;
};

/// The producing side of a future: set_value() or set_exception() exactly once. A promise
/// destroyed without either leaves its future with std::future_error (broken_promise).
/// Copies share the state, so the promise can ride in a std::function.
template <typename T>
class promise {
 public:
  promise() : state_(std::make_shared<detail::FutureState<T>>()), guard_(make_guard(state_)) {}

  /// The future of this promise. Call once.
  future<T> get_future() {
    if (retrieved_ && *retrieved_) {
      throw std::future_error(std::future_errc::future_already_retrieved);
    }
    *retrieved_ = true;
    return future<T>(state_);
  }

  template <typename U = T, typename = std::enable_if_t<!std::is_void_v<U>>>
  void set_value(U value) {
    state_->set_value(std::move(value));
  }
  template <typename U = T, typename = std::enable_if_t<std::is_void_v<U>>>
  void set_value() {
    state_->set_value();
  }
  void set_exception(std::exception_ptr error) { state_->set_exception(std::move(error)); }

  /// True once set_value() or set_exception() was called.
  bool is_set() const { return state_->ready(); }

 private:
  // Breaks the promise when the last copy goes away without an outcome.
  struct Guard {
    std::shared_ptr<detail::FutureState<T>> state;
    ~Guard() {
      if (state && !state->ready()) {
        try {
          state->set_exception(
              std::make_exception_ptr(std::future_error(std::future_errc::broken_promise)));
        } catch (...) {
          // Completed concurrently: nothing to break.
        }
      }
    }
  };
  static std::shared_ptr<Guard> make_guard(std::shared_ptr<detail::FutureState<T>> state) {
    auto guard = std::make_shared<Guard>();
    guard->state = std::move(state);
    return guard;
  }

  std::shared_ptr<detail::FutureState<T>> state_;
  std::shared_ptr<Guard> guard_;
  std::shared_ptr<bool> retrieved_ = std::make_shared<bool>(false);
};

/// A future that already holds `value`.
template <typename T>
future<std::decay_t<T>> make_ready_future(T&& value) {
  promise<std::decay_t<T>> p;
  auto f = p.get_future();
  p.set_value(std::forward<T>(value));
  return f;
}
inline future<void> make_ready_future() {
  promise<void> p;
  auto f = p.get_future();
  p.set_value();
  return f;
}

/// A future that already holds `error`.
template <typename T>
future<T> make_exceptional_future(std::exception_ptr error) {
  promise<T> p;
  auto f = p.get_future();
  p.set_exception(std::move(error));
  return f;
}

namespace detail {
struct FutureAccess {
  template <typename T>
  static std::shared_ptr<FutureState<T>>& state(future<T>& f) {
    return f.state_;
  }
};
}  // namespace detail

#ifdef INFERENCESH_HAS_COROUTINES

namespace detail {

/// `co_await future`: suspends until the result is there and resumes on the completing thread
/// (at once, without suspending, when it is there already).
template <typename T>
struct FutureAwaiter {
  future<T> awaited;

  bool await_ready() const { return awaited.ready(); }
  bool await_suspend(std::coroutine_handle<> handle) {
    auto& state = FutureAccess::state(awaited);
    return state->attach([handle] { handle.resume(); });
  }
  T await_resume() { return awaited.get(); }
};

template <typename T>
struct FutureCoroutinePromiseBase {
  promise<T> result;
  future<T> get_return_object() { return result.get_future(); }
  std::suspend_never initial_suspend() const noexcept { return {}; }
  /// An exception completes the future here, after the coroutine's handler has ended, so that
  /// this thread keeps no reference to it once the awaiting side can see it.
  std::suspend_never final_suspend() noexcept {
    if (failure) result.set_exception(std::move(failure));
    return {};
  }
  void unhandled_exception() noexcept { failure = std::current_exception(); }
  std::exception_ptr failure;
};

template <typename T>
struct FutureCoroutinePromise : FutureCoroutinePromiseBase<T> {
  template <typename U>
  void return_value(U&& value) {
    this->result.set_value(T(std::forward<U>(value)));
  }
};
template <>
struct FutureCoroutinePromise<void> : FutureCoroutinePromiseBase<void> {
  void return_void() { this->result.set_value(); }
};

}  // namespace detail

template <typename T>
detail::FutureAwaiter<T> operator co_await(future<T>&& awaited) {
  return detail::FutureAwaiter<T>{std::move(awaited)};
}
template <typename T>
detail::FutureAwaiter<T> operator co_await(future<T>& awaited) {
  return detail::FutureAwaiter<T>{std::move(awaited)};
}

#endif  // INFERENCESH_HAS_COROUTINES

}  // namespace inferencesh

#ifdef INFERENCESH_HAS_COROUTINES
/// A function returning inf::future<T> may be a coroutine: it starts at once, runs until its
/// first co_await on an unfinished future, and its co_return (or exception) completes the future.
template <typename T, typename... Args>
struct std::coroutine_traits<inferencesh::future<T>, Args...> {
  using promise_type = inferencesh::detail::FutureCoroutinePromise<T>;
};
#endif
