#include "async_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {

namespace {

std::exception_ptr cancelled_error() {
  return std::make_exception_ptr(CancelledError("the call was cancelled"));
}

std::exception_ptr shutdown_error() {
  return std::make_exception_ptr(
      CancelledError("the call was cancelled: the async client was shut down"));
}

}  // namespace

/// Work handed to the loop from other threads, and the eventfd that wakes it.
class AsyncLoop::Inbox {
 public:
  Inbox() : event_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (event_fd_ < 0) {
      throw std::system_error(errno, std::generic_category(), "eventfd for the async loop");
    }
  }
  ~Inbox() { ::close(event_fd_); }
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  int fd() const noexcept { return event_fd_; }

  /// Queues `work`, or returns it back when the inbox was closed (the loop is gone).
  std::function<void()> push(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return work;
      queue_.push_back(std::move(work));
      if (queue_.size() > 1) return {};  // already signalled
    }
    wake();
    return {};
  }

  void wake() const noexcept {
    const std::uint64_t one = 1;
    // A full counter (impossible in practice) still leaves the descriptor readable.
    [[maybe_unused]] const auto written = ::write(event_fd_, &one, sizeof one);
  }

  void clear_signal() const noexcept {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto taken = ::read(event_fd_, &count, sizeof count);
  }

  std::deque<std::function<void()>> take() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::deque<std::function<void()>> work;
    work.swap(queue_);
    return work;
  }

  bool empty() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.empty();
  }

  /// Closes the inbox when it is empty; false when work arrived meanwhile.
  bool close_if_empty() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!queue_.empty()) return false;
    closed_ = true;
    return true;
  }

  std::atomic<bool> stopping{false};

 private:
  int event_fd_;
  mutable std::mutex mutex_;
  std::deque<std::function<void()>> queue_;
  bool closed_ = false;
};

/// One transfer on the multi handle.
struct AsyncLoop::Transfer {
  std::uint64_t id = 0;
  std::unique_ptr<HttpRequest> request;  // owned here: the exchange points into it
  EasyPtr easy;
  std::optional<CurlExchange> exchange;
  CancellationToken cancel;
  CancellationToken::Registration cancel_registration;
  bool streaming = false;
  bool headers_reported = false;
  bool added = false;
  bool closed = false;             // close() was asked inside a curl callback; removal follows
  bool paused = false;             // pause(): receives nothing until resume()
  bool waiting = false;            // queued for a slot (max_requests): no handle yet
  bool holds_slot = false;         // launched and still waiting for its answer
  Clock::time_point resumed_at{};  // the idle timeout counts from here or the last byte
  std::uint64_t limit_timer = 0;
  SendDone done;
  StreamHandler stream;
};

std::shared_ptr<AsyncLoop> AsyncLoop::create(CurlTransportOptions options, bool own_thread,
                                             std::size_t max_requests) {
  auto loop = std::make_shared<AsyncLoop>(std::move(options), max_requests);
  if (own_thread) {
    loop->thread_ = std::thread([self = loop]() mutable {
      self->run_thread();
      self.reset();  // may destroy the loop here, on its own thread (then it detaches)
    });
  }
  return loop;
}

AsyncLoop::AsyncLoop(CurlTransportOptions options, std::size_t max_requests)
    : options_(std::move(options)), inbox_(std::make_shared<Inbox>()), max_requests_(max_requests) {
  ensure_curl_global_init();
  multi_.reset(curl_multi_init());
  if (!multi_) throw ConnectionError("libcurl: could not create a multi handle", false);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "epoll for the async loop");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = inbox_->fd();
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, inbox_->fd(), &event);

  CURLM* multi = multi_.get();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &AsyncLoop::on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &AsyncLoop::on_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
}

AsyncLoop::~AsyncLoop() {
  shutdown();
  if (thread_.joinable()) {
    // The thread's own reference was the last: this runs at the very end of the thread.
    thread_.detach();
  }
  transfers_.clear();
  idle_handles_.clear();
  multi_.reset();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool AsyncLoop::stopping() const noexcept { return inbox_->stopping.load(); }

bool AsyncLoop::in_loop_thread() const noexcept {
  return loop_thread_id_.load() == std::this_thread::get_id();
}

void AsyncLoop::post(std::function<void()> work) {
  if (auto refused = inbox_->push(std::move(work))) refused();
}

void AsyncLoop::shutdown() {
  inbox_->stopping = true;
  if (thread_.joinable()) {
    if (std::this_thread::get_id() == thread_.get_id()) return;  // the loop drains, then exits
    inbox_->wake();
    thread_.join();
    return;
  }
  // Driven by the program: drain here. Must not run concurrently with run_once().
  if (!drained_) {
    loop_thread_id_ = std::this_thread::get_id();
    fail_everything();
    loop_thread_id_ = std::thread::id();
  }
}

void AsyncLoop::run_thread() {
  loop_thread_id_ = std::this_thread::get_id();
  inbox_->clear_signal();
  while (!inbox_->stopping) step(std::chrono::milliseconds(60000));
  fail_everything();
}

void AsyncLoop::run_once(std::chrono::milliseconds max_wait) {
  if (drained_) return;
  const auto keep_alive = shared_from_this();
  loop_thread_id_ = std::this_thread::get_id();
  step(max_wait);
  if (inbox_->stopping) fail_everything();
  loop_thread_id_ = std::thread::id();
}

std::optional<std::chrono::milliseconds> AsyncLoop::timeout() const {
  if (!inbox_->empty()) return std::chrono::milliseconds(0);
  std::optional<Clock::time_point> next = curl_deadline_;
  if (!timer_order_.empty()) {
    const auto first = timer_order_.begin()->first;
    if (!next || first < *next) next = first;
  }
  if (!next) return std::nullopt;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

void AsyncLoop::step(std::chrono::milliseconds max_wait) {
  auto wait = max_wait;
  if (const auto due = timeout()) wait = std::min(wait, *due);
  std::array<epoll_event, 256> events{};
  const int count =
      epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                 static_cast<int>(std::clamp<long long>(wait.count(), 0, 24LL * 3600 * 1000)));
  for (int i = 0; i < count; ++i) {
    const int fd = events[static_cast<std::size_t>(i)].data.fd;
    if (fd == inbox_->fd()) {
      inbox_->clear_signal();
      continue;
    }
    const auto what = events[static_cast<std::size_t>(i)].events;
    int flags = 0;
    if ((what & EPOLLIN) != 0) flags |= CURL_CSELECT_IN;
    if ((what & EPOLLOUT) != 0) flags |= CURL_CSELECT_OUT;
    if ((what & (EPOLLERR | EPOLLHUP)) != 0) flags |= CURL_CSELECT_ERR;
    socket_action(fd, flags);
  }
  if (curl_deadline_ && Clock::now() >= *curl_deadline_) {
    curl_deadline_.reset();
    socket_action(CURL_SOCKET_TIMEOUT, 0);
  }
  fire_due_timers();
  drain_inbox();
}

void AsyncLoop::socket_action(int fd, int flags) {
  int running = 0;
  in_curl_ = true;
  curl_multi_socket_action(multi_.get(), fd, flags, &running);
  in_curl_ = false;
  read_completions();
}

void AsyncLoop::read_completions() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    void* user = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &user);
    auto* transfer = static_cast<Transfer*>(user);
    const CURLcode result = message->data.result;
    transfer->exchange->finish(result);
    complete(transfer->id, nullptr);
  }
}

void AsyncLoop::drain_inbox() {
  for (auto work = inbox_->take(); !work.empty(); work = inbox_->take()) {
    for (auto& item : work) item();
  }
}

void AsyncLoop::fire_due_timers() {
  const auto now = Clock::now();
  while (!timer_order_.empty() && timer_order_.begin()->first <= now) {
    const std::uint64_t id = timer_order_.begin()->second;
    timer_order_.erase(timer_order_.begin());
    auto found = timers_.find(id);
    if (found == timers_.end()) continue;
    TimerCallback callback = std::move(found->second.callback);
    timers_.erase(found);
    count();
    callback(nullptr);
  }
}

std::uint64_t AsyncLoop::after(std::chrono::milliseconds delay, TimerCallback callback) {
  const std::uint64_t id = next_id_++;
  if (drained_) {
    post([callback = std::move(callback)] { callback(shutdown_error()); });
    return id;
  }
  const auto when = Clock::now() + std::max(delay, std::chrono::milliseconds(0));
  timers_.emplace(id, Timer{when, std::move(callback)});
  timer_order_.emplace(when, id);
  count();
  return id;
}

void AsyncLoop::cancel_timer(std::uint64_t timer) {
  auto found = timers_.find(timer);
  if (found == timers_.end()) return;
  const auto range = timer_order_.equal_range(found->second.when);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == timer) {
      timer_order_.erase(it);
      break;
    }
  }
  timers_.erase(found);
  count();
}

void AsyncLoop::send(HttpRequest request, const CancellationToken& cancel, SendDone done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::make_unique<HttpRequest>(std::move(request));
  transfer->cancel = cancel;
  transfer->done = std::move(done);
  start(std::move(transfer));
}

std::uint64_t AsyncLoop::open(HttpRequest request, const CancellationToken& cancel,
                              StreamHandler handler) {
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::make_unique<HttpRequest>(std::move(request));
  transfer->cancel = cancel;
  transfer->streaming = true;
  transfer->stream = std::move(handler);
  return start(std::move(transfer));
}

std::uint64_t AsyncLoop::start(std::unique_ptr<Transfer> transfer) {
  transfer->id = next_id_++;
  const std::uint64_t id = transfer->id;
  if (drained_) {
    // The loop is shut down (this may even run on another thread, once the loop is gone): the
    // transfer fails without touching the loop's state.
    std::shared_ptr<Transfer> failed = std::move(transfer);
    post([failed] {
      if (failed->streaming) {
        if (failed->stream.on_end) failed->stream.on_end(shutdown_error());
      } else if (failed->done) {
        failed->done(shutdown_error(), HttpResponse{});
      }
    });
    return id;
  }
  Transfer& t = *transfer;
  transfers_.emplace(id, std::move(transfer));
  count();
  if (t.cancel.is_cancelled()) {
    const auto error =
        std::make_exception_ptr(CancelledError("the call was cancelled before it started"));
    post([this, id, error] { complete(id, error); });
    return id;
  }
  // A cancel from any thread is handed to the loop; the registration ends with the transfer
  // (removing it waits for a running callback), and work refused by a closed inbox is dropped.
  std::weak_ptr<Inbox> inbox = inbox_;
  t.cancel_registration = t.cancel.on_cancel([inbox, this, id] {
    if (auto alive = inbox.lock()) alive->push([this, id] { complete(id, cancelled_error()); });
  });
  const bool queued_before =
      !waiting_streams_.empty() || (!t.streaming && !waiting_requests_.empty());
  if (max_requests_ == 0 || (requests_in_flight_ < max_requests_ && !queued_before)) {
    launch(t);
    return id;
  }
  t.waiting = true;
  waiting_count_.fetch_add(1);
  (t.streaming ? waiting_streams_ : waiting_requests_).push_back(id);
  if (const auto deadline = t.request->deadline) {
    // Waiting counts towards the deadline (the idle timeout starts once it is on the network).
    const auto delay = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
    t.limit_timer = after(delay, [this, id](const std::exception_ptr& cancelled) {
      if (cancelled) return;  // the transfer itself is failed by the shutdown
      auto found = transfers_.find(id);
      if (found == transfers_.end()) return;
      found->second->limit_timer = 0;
      complete(id, std::make_exception_ptr(deadline_passed_error(*found->second->request)));
    });
  }
  if (requests_in_flight_ < max_requests_) admit_waiting();  // ids of ended ones ahead
  return id;
}

void AsyncLoop::launch(Transfer& t) {
  const std::uint64_t id = t.id;
  t.holds_slot = true;
  ++requests_in_flight_;
  try {
    if (!idle_handles_.empty()) {
      t.easy = std::move(idle_handles_.back());
      idle_handles_.pop_back();
    } else {
      t.easy.reset(curl_easy_init());
      if (!t.easy) throw ConnectionError("libcurl: could not create a handle", false);
    }
    std::function<void(std::string_view)> sink;
    if (t.streaming) {
      sink = [this, &t](std::string_view bytes) {
        if (t.closed) return;
        body_bytes_received_.fetch_add(bytes.size(), std::memory_order_relaxed);
        if (!t.headers_reported) {
          t.headers_reported = true;
          release_slot(t);
          if (t.stream.on_headers) t.stream.on_headers(t.exchange->status(), t.exchange->headers());
        }
        if (t.stream.on_data) t.stream.on_data(bytes);
      };
    }
    t.exchange.emplace(t.easy.get(), nullptr, options_, *t.request, t.cancel, t.streaming,
                       std::move(sink));
    if (t.streaming) {
      // The head is reported as soon as it is in, not with the first bytes of the body: a
      // chat's stream is sent nothing until something happens, and the caller may be waiting
      // for it to be open.
      t.exchange->on_head([this, &t] {
        if (t.closed || t.headers_reported) return;
        t.headers_reported = true;
        release_slot(t);
        if (t.stream.on_headers) t.stream.on_headers(t.exchange->status(), t.exchange->headers());
      });
    }
    if (t.paused) t.exchange->hold();  // paused while it waited
    curl_easy_setopt(t.easy.get(), CURLOPT_PRIVATE, &t);
  } catch (...) {
    const auto error = std::current_exception();
    post([this, id, error] { complete(id, error); });
    return;
  }
  watch_limits(t);
  if (in_curl_) {
    post([this, id] { add_to_multi(id); });
  } else {
    add_to_multi(id);
  }
}

void AsyncLoop::release_slot(Transfer& t) {
  if (!t.holds_slot) return;
  t.holds_slot = false;
  --requests_in_flight_;
  if (waiting_count_.load() == 0) return;
  if (in_curl_) {
    post([this] { admit_waiting(); });
  } else {
    admit_waiting();
  }
}

void AsyncLoop::admit_waiting() {
  if (admitting_ || drained_) return;  // the running call goes on; at shutdown nothing starts
  admitting_ = true;
  while (requests_in_flight_ < max_requests_) {
    auto& queue = waiting_streams_.empty() ? waiting_requests_ : waiting_streams_;
    if (queue.empty()) break;
    const std::uint64_t id = queue.front();
    queue.pop_front();
    auto found = transfers_.find(id);
    if (found == transfers_.end() || !found->second->waiting) continue;  // ended while waiting
    Transfer& t = *found->second;
    t.waiting = false;
    waiting_count_.fetch_sub(1);
    if (t.limit_timer != 0) cancel_timer(t.limit_timer);
    t.limit_timer = 0;
    launch(t);
  }
  admitting_ = false;
}

void AsyncLoop::add_to_multi(std::uint64_t id) {
  auto found = transfers_.find(id);
  if (found == transfers_.end() || found->second->added) return;
  Transfer& t = *found->second;
  if (curl_multi_add_handle(multi_.get(), t.easy.get()) != CURLM_OK) {
    complete(id, std::make_exception_ptr(
                     ConnectionError("libcurl: could not start the transfer", false)));
    return;
  }
  t.added = true;
}

void AsyncLoop::watch_limits(Transfer& t) {
  const HttpRequest& request = *t.request;
  // A paused transfer is not idle: its reader holds it. resume() starts the watch again.
  const bool idle = request.idle_timeout.count() > 0 && !t.paused;
  if (!idle && !request.deadline) return;
  auto when = Clock::time_point::max();
  if (request.deadline) when = *request.deadline;
  const auto idle_since = [](const Transfer& transfer) {
    return std::max(transfer.exchange->last_activity(), transfer.resumed_at);
  };
  if (idle) when = std::min(when, idle_since(t) + request.idle_timeout);
  const std::uint64_t id = t.id;
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(when - Clock::now());
  t.limit_timer = after(delay, [this, id, idle_since](const std::exception_ptr& cancelled) {
    if (cancelled) return;  // the transfer itself is failed by the shutdown
    auto found = transfers_.find(id);
    if (found == transfers_.end()) return;
    Transfer& transfer = *found->second;
    transfer.limit_timer = 0;
    const HttpRequest& r = *transfer.request;
    const auto now = Clock::now();
    if (r.deadline && now >= *r.deadline) {
      complete(id, std::make_exception_ptr(transfer.exchange->deadline_error()));
    } else if (r.idle_timeout.count() > 0 && !transfer.paused &&
               now >= idle_since(transfer) + r.idle_timeout) {
      complete(id, std::make_exception_ptr(transfer.exchange->idle_timeout_error()));
    } else {
      watch_limits(transfer);
    }
  });
}

void AsyncLoop::remove(Transfer& t) {
  if (t.limit_timer != 0) cancel_timer(t.limit_timer);
  t.limit_timer = 0;
  if (t.paused) paused_count_.fetch_sub(1);
  t.paused = false;
  if (t.waiting) waiting_count_.fetch_sub(1);  // its id is skipped when reached
  t.waiting = false;
  // Unregistered before anything else: a cancel racing the end has nothing left to touch.
  t.cancel_registration = CancellationToken::Registration();
  if (t.added) {
    // Removing an unfinished transfer makes curl close its connection instead of reusing it.
    curl_multi_remove_handle(multi_.get(), t.easy.get());
    t.added = false;
  }
  t.exchange.reset();
  if (t.easy) {
    curl_easy_reset(t.easy.get());
    if (idle_handles_.size() < options_.max_idle_handles)
      idle_handles_.push_back(std::move(t.easy));
    t.easy.reset();
  }
  release_slot(t);  // after the handle is off the multi: its connection is free for the next
}

void AsyncLoop::close(std::uint64_t transfer) {
  auto found = transfers_.find(transfer);
  if (found == transfers_.end()) return;
  if (in_curl_) {
    // From a callback of this very transfer, most likely: its handle is removed once curl
    // returns, and nothing more is delivered meanwhile.
    found->second->closed = true;
    post([this, transfer] { close(transfer); });
    return;
  }
  auto owned = std::move(found->second);
  transfers_.erase(found);
  count();
  remove(*owned);
}

void AsyncLoop::pause(std::uint64_t transfer) {
  auto found = transfers_.find(transfer);
  if (found == transfers_.end()) return;
  Transfer& t = *found->second;
  if (t.paused || t.closed || !t.streaming) return;
  t.paused = true;
  paused_count_.fetch_add(1);
  if (t.exchange) t.exchange->hold();  // else it waits for a slot, and is launched held
}

void AsyncLoop::resume(std::uint64_t transfer) {
  auto found = transfers_.find(transfer);
  if (found == transfers_.end()) return;
  Transfer& t = *found->second;
  if (!t.paused || t.closed) return;
  t.paused = false;
  paused_count_.fetch_sub(1);
  if (!t.exchange) return;  // waiting for a slot (or failed to launch): nothing is held
  t.resumed_at = Clock::now();
  if (t.limit_timer == 0) watch_limits(t);
  // curl_easy_pause may hand the held piece to on_data before it returns: for the handlers
  // that is a curl callback like any other, so their close() and failures are deferred.
  const bool was_in_curl = in_curl_;
  in_curl_ = true;
  std::exception_ptr failure;
  try {
    t.exchange->resume();
  } catch (...) {
    failure = std::current_exception();
  }
  in_curl_ = was_in_curl;
  if (failure) post([this, transfer, failure] { complete(transfer, failure); });
}

AsyncLoop::Stats AsyncLoop::stats() const noexcept {
  Stats stats;
  stats.transfers = transfer_count_.load();
  stats.timers = timer_count_.load();
  stats.paused_transfers = paused_count_.load();
  stats.waiting_transfers = waiting_count_.load();
  stats.body_bytes_received = body_bytes_received_.load(std::memory_order_relaxed);
  return stats;
}

void AsyncLoop::count() noexcept {
  transfer_count_.store(transfers_.size());
  timer_count_.store(timers_.size());
}

void AsyncLoop::complete(std::uint64_t id, std::exception_ptr error) {
  auto found = transfers_.find(id);
  if (found == transfers_.end()) return;  // completed already (a cancel racing the end)
  if (found->second->closed) {            // its owner is done with it
    if (!in_curl_) close(id);
    return;
  }
  if (in_curl_) {
    post([this, id, error] { complete(id, error); });
    return;
  }
  std::unique_ptr<Transfer> t = std::move(found->second);
  transfers_.erase(found);
  count();

  HttpResponse response;
  if (!error && t->exchange) {
    try {
      t->exchange->throw_if_failed();
      response.status = t->exchange->status();
      response.headers = std::move(t->exchange->headers());
      response.body = std::move(t->exchange->body());
    } catch (...) {
      error = std::current_exception();
    }
  }
  const bool report_headers = t->streaming && !error && !t->headers_reported;
  remove(*t);
  if (!t->streaming) {
    if (t->done) t->done(error, std::move(response));
    return;
  }
  if (report_headers && t->stream.on_headers) {
    try {
      t->stream.on_headers(response.status, response.headers);
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (t->stream.on_end) t->stream.on_end(error);
}

void AsyncLoop::fail_everything() {
  drained_ = true;
  for (;;) {
    // Transfers first, then timers, then the work all that posted; repeated until nothing is
    // left, since each callback may start something new (which then fails at once).
    while (!transfers_.empty()) complete(transfers_.begin()->first, shutdown_error());
    while (!timers_.empty()) {
      const auto id = timers_.begin()->first;
      TimerCallback callback = std::move(timers_.begin()->second.callback);
      cancel_timer(id);
      callback(shutdown_error());
    }
    drain_inbox();
    if (transfers_.empty() && timers_.empty() && inbox_->close_if_empty()) break;
  }
}

int AsyncLoop::on_socket(void*, int fd, int what, void* user, void* socket_user) {
  auto* self = static_cast<AsyncLoop*>(user);
  epoll_event event{};
  event.data.fd = fd;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    curl_multi_assign(self->multi_.get(), fd, nullptr);
    return 0;
  }
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) event.events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) event.events |= EPOLLOUT;
  if (socket_user == nullptr) {
    if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0 && errno == EEXIST) {
      epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &event);
    }
    // Any non-null marker: the socket is in the epoll set.
    curl_multi_assign(self->multi_.get(), fd, self);
  } else {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &event);
  }
  return 0;
}

int AsyncLoop::on_timer(void*, long timeout_ms, void* user) {
  auto* self = static_cast<AsyncLoop*>(user);
  if (timeout_ms < 0) {
    self->curl_deadline_.reset();
  } else {
    self->curl_deadline_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  return 0;
}

}  // namespace inferencesh::detail
