#pragma once

// The async client's event loop: one libcurl multi handle driven by curl_multi_socket_action
// over an epoll set, with timers and a queue of work posted from other threads.
//
// Threads. Everything except post(), shutdown() and the driving calls happens on the loop
// thread: transfers are added, read and completed there, timers fire there, and every
// completion callback runs there. Another thread hands work over with post(). The loop runs on
// a thread of its own, or is driven by the program: descriptor() is an epoll descriptor that
// becomes readable when the loop has I/O to do, timeout() says when its next timer is due, and
// run_once() does what is ready (see AsyncClient in inferencesh/async_client.hpp).
//
// Requests in flight. With a limit (max_requests), at most that many transfers are on the network
// waiting for their answer: a unary transfer until it completes, a stream until its head is in.
// Others wait in the loop, without a handle or a socket, and start as slots free up: waiting
// streams first (they continue calls already under way), then requests, each in order. An open
// stream holds no slot, so streams that stay open for hours never keep a request (a cancel, a
// get) from going out. Waiting counts towards a request's deadline, not its idle timeout.
//
// Shutdown fails every transfer and timer still pending with CancelledError, runs the work
// that this causes until nothing is left, and never waits for the network.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "curl_exchange.hpp"
#include "inferencesh/cancellation.hpp"
#include "inferencesh/transport.hpp"

namespace inferencesh::detail {

class AsyncLoop : public std::enable_shared_from_this<AsyncLoop> {
 public:
  using Clock = std::chrono::steady_clock;

  /// What a streaming transfer reports, on the loop thread. `on_headers` runs once the head is
  /// in (before any body byte); `on_data` receives the body as it arrives; `on_end` runs once,
  /// with nullptr for a clean end of the body, unless the transfer was closed with close().
  /// A callback that throws ends the transfer with that exception.
  struct StreamHandler {
    std::function<void(int status, const Headers& headers)> on_headers;
    std::function<void(std::string_view bytes)> on_data;
    std::function<void(std::exception_ptr error)> on_end;
  };
  /// Completion of a unary transfer: the whole response, or the exception of its failure.
  using SendDone = std::function<void(std::exception_ptr error, HttpResponse response)>;
  /// A timer's callback: nullptr when it fired, CancelledError when the loop shut down first.
  using TimerCallback = std::function<void(std::exception_ptr cancelled)>;

  /// `own_thread`: start a thread that runs the loop until shutdown(); otherwise the program
  /// drives it with run_once(). The loop's thread (or run_once()) holds a reference while it
  /// runs, so the last reference can go away inside a callback. `max_requests`: the most
  /// transfers waiting for their answer at once (see above); 0: no limit.
  static std::shared_ptr<AsyncLoop> create(CurlTransportOptions options, bool own_thread,
                                           std::size_t max_requests = 0);
  explicit AsyncLoop(CurlTransportOptions options, std::size_t max_requests = 0);
  ~AsyncLoop();
  AsyncLoop(const AsyncLoop&) = delete;
  AsyncLoop& operator=(const AsyncLoop&) = delete;

  // --- any thread -----------------------------------------------------------------------------

  /// Runs `work` on the loop thread, in the order posted. Work posted after shutdown still runs
  /// (during the shutdown's drain, or at once on the posting thread once the loop is gone), so
  /// that whatever it starts can fail with CancelledError.
  void post(std::function<void()> work);

  /// Fails everything in flight with CancelledError, runs what that triggers, stops the loop
  /// thread and joins it. Idempotent. Called on the loop thread (from a callback) it only asks
  /// the loop to stop; the loop thread finishes the drain.
  void shutdown();

  bool stopping() const noexcept;
  /// True on the thread that runs the loop (the own thread, or the one inside run_once()).
  bool in_loop_thread() const noexcept;

  // --- loop thread ----------------------------------------------------------------------------

  /// Starts a unary exchange; `done` runs once. The request is kept by the loop until then.
  void send(HttpRequest request, const CancellationToken& cancel, SendDone done);
  /// Starts a streaming exchange; returns its id for close().
  std::uint64_t open(HttpRequest request, const CancellationToken& cancel, StreamHandler handler);
  /// Stops a streaming transfer without calling its on_end (the caller is done with it).
  void close(std::uint64_t transfer);
  /// Stops receiving on a streaming transfer: the next piece of its body is held by libcurl and
  /// its connection is no longer read until resume(), so a reader that fell behind holds the
  /// server's socket instead of memory. Its idle timeout does not run while it is paused (its
  /// deadline does). May be called from the transfer's own on_data.
  void pause(std::uint64_t transfer);
  /// Lets a paused transfer receive again. The piece held may reach on_data before this returns
  /// (a close() or failure from there is deferred as from any curl callback).
  void resume(std::uint64_t transfer);

  /// Calls `callback` after `delay` (or with CancelledError at shutdown); returns an id for
  /// cancel_timer().
  std::uint64_t after(std::chrono::milliseconds delay, TimerCallback callback);
  /// Forgets a timer that has not fired; its callback is never called.
  void cancel_timer(std::uint64_t timer);

  // --- driving (the program's loop, when there is no own thread) -------------------------------

  /// An epoll descriptor: readable when run_once() has I/O to handle (sockets, posted work).
  int descriptor() const noexcept { return epoll_fd_; }
  /// Time until run_once() must be called even if descriptor() stays quiet (timers); nullopt
  /// when no timer is pending, zero when work is waiting.
  std::optional<std::chrono::milliseconds> timeout() const;
  /// Waits up to `max_wait` for something to do, then does all that is ready: network I/O,
  /// completions, due timers, posted work. Must not be called concurrently with itself, nor on
  /// a loop that has its own thread.
  void run_once(std::chrono::milliseconds max_wait);

  /// Number of transfers and timers pending (for tests and benchmarks).
  std::size_t pending() const noexcept { return transfers_.size() + timers_.size(); }

  /// What the loop holds and has read; readable from any thread.
  struct Stats {
    std::size_t transfers = 0;
    std::size_t timers = 0;
    std::size_t paused_transfers = 0;
    std::size_t waiting_transfers = 0;  // of `transfers`: waiting for a slot (max_requests)
    std::uint64_t body_bytes_received = 0;
  };
  Stats stats() const noexcept;

 private:
  struct Transfer;
  class Inbox;

  void run_thread();
  void step(std::chrono::milliseconds max_wait);
  void drain_inbox();
  void read_completions();
  void fire_due_timers();
  void watch_limits(Transfer& transfer);
  /// Starts a transfer, or queues it while max_requests are in flight; the id it was given.
  std::uint64_t start(std::unique_ptr<Transfer> transfer);
  /// Gives a transfer its handle and puts it on the network (it holds a slot from here).
  void launch(Transfer& transfer);
  /// A transfer no longer waits for its answer (a stream's head is in, or it ended): its slot
  /// goes to the next waiting transfer.
  void release_slot(Transfer& transfer);
  /// Launches waiting transfers while slots are free: streams first, then requests.
  void admit_waiting();
  /// Ends a transfer: removes its handle, then reports `error` (or its outcome) to its owner.
  void complete(std::uint64_t id, std::exception_ptr error);
  void remove(Transfer& transfer);
  /// Publishes the sizes of transfers_ and timers_ for stats().
  void count() noexcept;
  void fail_everything();
  void socket_action(int fd, int flags);
  /// Adds a prepared transfer to the multi handle (never from inside a curl callback).
  void add_to_multi(std::uint64_t id);

  static int on_socket(void* easy, int fd, int what, void* user, void* socket_user);
  static int on_timer(void* multi, long timeout_ms, void* user);

  CurlTransportOptions options_;
  MultiPtr multi_;
  int epoll_fd_ = -1;
  std::shared_ptr<Inbox> inbox_;
  std::optional<Clock::time_point> curl_deadline_;
  // Inside curl_multi_socket_action: curl's callbacks are running, so handles may be neither
  // added nor removed (both are deferred to the inbox).
  bool in_curl_ = false;

  std::atomic<std::uint64_t> next_id_{1};
  std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::vector<EasyPtr> idle_handles_;

  // max_requests: transfers holding a slot, and the ids of those waiting for one, in order
  // (ids of transfers that ended while waiting are skipped when reached).
  std::size_t max_requests_ = 0;
  std::size_t requests_in_flight_ = 0;
  std::deque<std::uint64_t> waiting_streams_;
  std::deque<std::uint64_t> waiting_requests_;
  bool admitting_ = false;

  struct Timer {
    Clock::time_point when;
    TimerCallback callback;
  };
  std::unordered_map<std::uint64_t, Timer> timers_;
  std::multimap<Clock::time_point, std::uint64_t> timer_order_;

  // stats(): written on the loop thread, read from any.
  std::atomic<std::size_t> transfer_count_{0};
  std::atomic<std::size_t> timer_count_{0};
  std::atomic<std::size_t> paused_count_{0};
  std::atomic<std::size_t> waiting_count_{0};
  std::atomic<std::uint64_t> body_bytes_received_{0};

  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_{};
  // fail_everything() started: every new transfer and timer fails at once.
  std::atomic<bool> drained_{false};
};

}  // namespace inferencesh::detail
