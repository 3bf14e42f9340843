#include "apps/worker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigset_t, kill()
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "apps/worker_messages.hpp"
#include "common/json_parse.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

namespace {

// A protocol line may carry a large output; beyond this the worker is broken, not busy.
constexpr std::size_t kMaxMessageBytes = std::size_t{1} << 30;
// A stderr "line" longer than this is passed on in pieces.
constexpr std::size_t kMaxStderrLine = std::size_t{64} * 1024;
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
// How long a worker whose protocol output ended may take to exit before it is killed.
constexpr auto kExitGrace = std::chrono::seconds(1);

int poll_timeout_ms(WorkerProcess::Clock::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - WorkerProcess::Clock::now());
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, 60000));
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

std::string errno_text(int error) { return std::generic_category().message(error); }

// The descriptors of the child's standard streams, closed unless handed on.
struct Pipes {
  // stdin (child, ours), stdout (ours, child), stderr (ours, child)
  std::array<int, 6> fds{-1, -1, -1, -1, -1, -1};
  ~Pipes() {
    for (int& fd : fds) close_fd(fd);
  }
  int take(std::size_t index) {
    const int fd = fds[index];
    fds[index] = -1;
    return fd;
  }
};

// Owns the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> list;
  list.reserve(strings.size() + 1);
  for (auto& text : strings) list.push_back(text.data());
  list.push_back(nullptr);
  return list;
}

}  // namespace

WorkerProcess::WorkerProcess(Options options) : options_(std::move(options)) {
  Pipes pipes;
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pipes.fds.data()) != 0 ||
      ::pipe2(&pipes.fds[2], O_CLOEXEC) != 0 || ::pipe2(&pipes.fds[4], O_CLOEXEC) != 0) {
    throw std::runtime_error("cannot create the pipes for " + options_.program + ": " +
                             errno_text(errno));
  }
  SpawnSetup setup;
  ::posix_spawn_file_actions_adddup2(&setup.actions, pipes.fds[0], STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, pipes.fds[3], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, pipes.fds[5], STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Descriptors the runtime opened without O_CLOEXEC (sockets, the database) stay behind.
  ::posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
#endif
  // The runtime blocks SIGINT/SIGTERM for sigwait() and ignores SIGPIPE: a worker starts clean.
  sigset_t none;
  sigemptyset(&none);
  ::posix_spawnattr_setsigmask(&setup.attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int number : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) {
    sigaddset(&defaults, number);
  }
  ::posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  ::posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_storage{options_.program};
  argv_storage.insert(argv_storage.end(), options_.arguments.begin(), options_.arguments.end());
  std::vector<char*> argv = pointers(argv_storage);
  std::vector<char*> envp = pointers(options_.environment);
  const int error = ::posix_spawn(&pid_, options_.program.c_str(), &setup.actions,
                                  &setup.attributes, argv.data(), envp.data());
  if (error != 0) {
    throw std::runtime_error("cannot start " + options_.program + ": " + errno_text(error));
  }
  stdin_fd_ = pipes.take(1);
  stdout_fd_ = pipes.take(2);
  stderr_fd_ = pipes.take(4);
  set_nonblocking(stdin_fd_);
  set_nonblocking(stdout_fd_);
  set_nonblocking(stderr_fd_);
#ifdef SYS_pidfd_open
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));  // -1 on kernels before 5.3
#endif
  reader_ = std::thread([this] { read_loop(); });
}

WorkerProcess::~WorkerProcess() {
  kill();
  if (reader_.joinable()) reader_.join();
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
  close_fd(pidfd_);
}

// ---- writing ------------------------------------------------------------------------------------

bool WorkerProcess::send(const nlohmann::json& message, Clock::time_point deadline) {
  std::string line = common::compact_json(message) + '\n';
  std::lock_guard lock(write_mutex_);
  if (write_broken_) return false;
  std::size_t written = 0;
  while (written < line.size()) {
    const auto n = ::send(stdin_fd_, line.data() + written, line.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd descriptor{stdin_fd_, POLLOUT, 0};
      const int timeout = poll_timeout_ms(deadline);
      if (timeout > 0 && ::poll(&descriptor, 1, timeout) >= 0) continue;
      if (Clock::now() < deadline) continue;  // poll was interrupted, or rounding
    }
    write_broken_ = true;  // gone, or a line half written: nothing later can be read right
    return false;
  }
  return true;
}

// ---- events -------------------------------------------------------------------------------------

void WorkerProcess::attach(bool attached) {
  std::deque<Event> left;
  {
    std::lock_guard lock(mutex_);
    attached_ = attached;
    interrupted_ = false;  // an interrupt belongs to the exchange it was meant for
    if (!attached) left.swap(events_);
  }
  if (!options_.on_idle_output) return;
  for (auto& event : left) {
    options_.on_idle_output(event.kind == Event::Kind::message
                                ? "unexpected message: " + event.message.dump().substr(0, 500)
                                : event.line);
  }
}

WorkerProcess::Event WorkerProcess::next(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (interrupted_) {
      interrupted_ = false;
      return {Event::Kind::interrupted, {}, {}};
    }
    // Before the queued events: a worker that floods messages must not outrun its deadline.
    if (deadline != Clock::time_point::max() && Clock::now() >= deadline) {
      return {Event::Kind::timed_out, {}, {}};
    }
    if (!events_.empty()) {
      Event event = std::move(events_.front());
      events_.pop_front();
      return event;
    }
    if (finished_) {
      std::string how = failure_.empty() ? std::string() : failure_ + ", and ";
      how += describe_exit(wait_status_);
      return {Event::Kind::exited, {}, std::move(how)};
    }
    if (deadline == Clock::time_point::max()) {
      changed_.wait(lock);
    } else if (changed_.wait_until(lock, deadline) == std::cv_status::timeout && !interrupted_ &&
               events_.empty() && !finished_) {
      return {Event::Kind::timed_out, {}, {}};
    }
  }
}

void WorkerProcess::interrupt() {
  {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
  }
  changed_.notify_all();
}

void WorkerProcess::deliver(Event event) {
  std::string idle;
  {
    std::lock_guard lock(mutex_);
    if (attached_) {
      events_.push_back(std::move(event));
      changed_.notify_all();
      return;
    }
    idle = event.kind == Event::Kind::message
               ? "unexpected message: " + event.message.dump().substr(0, 500)
               : std::move(event.line);
  }
  if (options_.on_idle_output) options_.on_idle_output(idle);
}

// ---- the process
// ----------------------------------------------------------------------------------

void WorkerProcess::kill() noexcept {
  std::lock_guard lock(mutex_);
  if (!reaped_ && pid_ > 0) ::kill(pid_, SIGKILL);
}

bool WorkerProcess::reap(bool block) {
  std::lock_guard lock(mutex_);  // kill() must never signal a pid reaped meanwhile
  if (reaped_) return true;
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == 0) return false;  // still running
  reaped_ = true;
  wait_status_ = result == pid_ ? status : 0;
  return true;
}

bool WorkerProcess::wait_exit(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [this] { return finished_; });
}

bool WorkerProcess::exited() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

std::string WorkerProcess::exit_description() const {
  std::lock_guard lock(mutex_);
  if (!finished_) return {};
  const std::string how = describe_exit(wait_status_);
  return failure_.empty() ? how : failure_ + ", and " + how;
}

std::vector<std::string> WorkerProcess::stderr_tail() const {
  std::lock_guard lock(mutex_);
  return {stderr_tail_.begin(), stderr_tail_.end()};
}

void WorkerProcess::forget_stderr() {
  std::lock_guard lock(mutex_);
  stderr_tail_.clear();
}

// ---- the reader thread -------------------------------------------------------------------------

void WorkerProcess::read_loop() {
  bool stdout_open = true;
  // Set when the protocol output ended: the worker is exiting (an exit handler may close
  // stdout first), or closed it and is of no use any more. Killed if still there by then.
  constexpr auto never = Clock::time_point::max();
  Clock::time_point kill_at = never;
  for (;;) {
    std::array<pollfd, 3> descriptors{};
    nfds_t count = 0;
    // Adds a descriptor to poll; returns where poll() tells about it.
    const auto watch = [&](int fd) {
      descriptors.at(count) = {fd, POLLIN, 0};
      return &descriptors.at(count++);
    };
    const pollfd* out = stdout_open ? watch(stdout_fd_) : nullptr;
    const pollfd* err = stderr_open_ ? watch(stderr_fd_) : nullptr;
    const pollfd* pid = pidfd_ >= 0 ? watch(pidfd_) : nullptr;
    const int ready =
        ::poll(descriptors.data(), count, kill_at != never ? poll_timeout_ms(kill_at) : -1);
    if (ready < 0 && errno != EINTR) {
      kill();
      reap(true);
      break;
    }
    if (ready < 0) continue;
    if (err != nullptr && err->revents != 0) stderr_open_ = read_stderr();
    if (out != nullptr && out->revents != 0) {
      stdout_open = read_stdout();
      if (!stdout_open) kill_at = Clock::now() + kExitGrace;
    }
    bool ended = pid != nullptr && pid->revents != 0;
    if (!ended && kill_at != never && pidfd_ < 0) ended = reap(false);  // no pidfd: look
    if (!ended && Clock::now() >= kill_at) {
      {
        std::lock_guard lock(mutex_);
        if (failure_.empty()) failure_ = "closed its protocol output without exiting";
      }
      kill();
      kill_at = never;
      if (pidfd_ < 0) ended = reap(true);
    }
    if (!ended) continue;
    if (!reap(false)) reap(true);  // it ended: waitpid cannot wait long
    // Take what it wrote before it ended (a child it left may keep stderr open: no waiting).
    while (stdout_open && read_stdout()) {
      pollfd more{stdout_fd_, POLLIN, 0};
      if (::poll(&more, 1, 0) <= 0) break;
    }
    while (stderr_open_ && read_stderr()) {
      pollfd more{stderr_fd_, POLLIN, 0};
      if (::poll(&more, 1, 0) <= 0) break;
    }
    break;
  }
  if (!stdout_buffer_.empty()) stdout_line(std::exchange(stdout_buffer_, {}));
  if (!stderr_buffer_.empty()) stderr_line(std::exchange(stderr_buffer_, {}));
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
  }
  changed_.notify_all();
}

bool WorkerProcess::read_stdout() {
  std::array<char, kReadChunk> chunk;  // read() fills it
  for (;;) {
    const auto n = ::read(stdout_fd_, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    // What the worker wrote to stderr before these bytes is in the stderr pipe by now: take it
    // first, so it comes before them.
    if (stderr_open_) stderr_open_ = read_stderr();
    const auto old_size = stdout_buffer_.size();
    stdout_buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto end = stdout_buffer_.find('\n', old_size); end != std::string::npos;
         end = stdout_buffer_.find('\n', start)) {
      stdout_line(stdout_buffer_.substr(start, end - start));
      start = end + 1;
    }
    stdout_buffer_.erase(0, start);
    if (stdout_buffer_.size() > kMaxMessageBytes) {
      {
        std::lock_guard lock(mutex_);
        failure_ = "wrote a protocol line longer than 1 GiB";
      }
      stdout_buffer_.clear();
      kill();
      return false;
    }
  }
}

bool WorkerProcess::read_stderr() {
  std::array<char, kReadChunk> chunk;  // read() fills it
  for (;;) {
    const auto n = ::read(stderr_fd_, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    stderr_buffer_.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto end = stderr_buffer_.find('\n'); end != std::string::npos;
         end = stderr_buffer_.find('\n', start)) {
      stderr_line(stderr_buffer_.substr(start, end - start));
      start = end + 1;
    }
    stderr_buffer_.erase(0, start);
    while (stderr_buffer_.size() > kMaxStderrLine) {
      stderr_line(stderr_buffer_.substr(0, kMaxStderrLine));
      stderr_buffer_.erase(0, kMaxStderrLine);
    }
  }
}

void WorkerProcess::stdout_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.find_first_not_of(" \t") == std::string::npos) return;
  // From a program the runtime does not trust: nesting is bounded while parsing.
  auto message = inferencesh::common::parse_untrusted_json(line);
  if (!message || !message->is_object() || !message->contains("type")) {
    // Not the protocol: keep it visible like the app's other output.
    deliver({Event::Kind::output, {}, "(stdout) " + line.substr(0, kMaxStderrLine)});
    return;
  }
  deliver({Event::Kind::message, std::move(*message), {}});
}

void WorkerProcess::stderr_line(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  {
    std::lock_guard lock(mutex_);
    stderr_tail_.push_back(line);
    if (stderr_tail_.size() > kStderrTail) stderr_tail_.pop_front();
  }
  deliver({Event::Kind::output, {}, std::move(line)});
}

}  // namespace infsh::local
