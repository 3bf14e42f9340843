// How many concurrent idle task streams infsh-local holds, and at what cost. Starts the real
// program (so its memory and threads are measured alone, from /proc/<pid>/status), creates a few
// long-running tasks (infsh/progress, one step of one hour), then opens N concurrent
// GET /tasks/{id}/stream connections from a small epoll client (non-blocking sockets; at most
// --window connections being set up at a time, to stay within the listen backlog). A stream
// counts as open when its first NDJSON line (the task's full state) has arrived. They are then
// held idle for --hold seconds, reading and discarding heartbeats, while the runtime's memory,
// threads, descriptors and CPU use are sampled and a run-and-wait call measures its latency.
// Finally SIGTERM: every stream must receive its task's final state (cancelled) and end, and
// the runtime must exit 0.
//
//     runtime_streams_bench [--runtime PATH] [--streams 10000] [--tasks 4] [--hold 5]
//                           [--heartbeat 1s] [--window 256]
//
// Descriptors: this process raises its soft RLIMIT_NOFILE to the hard limit; infsh-local
// raises its own the same way at start-up (src/local/main.cpp), so no wrapper is needed.

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.hpp"
#include "inferencesh/inferencesh.hpp"
#include "support/subprocess.hpp"

namespace inf = inferencesh;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct Options {
  std::string runtime = INFSH_LOCAL_PROGRAM;
  int streams = 10000;
  int tasks = 4;
  int hold_seconds = 5;
  std::string heartbeat = "1s";
  int window = 256;
};

Options parse(int argc, char** argv) {
  Options options;
  for (inf::bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--runtime")) {
      options.runtime = flags.value();
    } else if (flags.is("--streams")) {
      options.streams = flags.count();
    } else if (flags.is("--tasks")) {
      options.tasks = flags.count();
    } else if (flags.is("--hold")) {
      options.hold_seconds = flags.count();
    } else if (flags.is("--heartbeat")) {
      options.heartbeat = flags.value();
    } else if (flags.is("--window")) {
      options.window = flags.count();
    } else {
      flags.unknown();
    }
  }
  return options;
}

std::runtime_error system_error(const std::string& what, int error) {
  return std::runtime_error(what + ": " + std::strerror(error));
}

// ---- the runtime's process, from /proc
// -----------------------------------------------------------

struct ProcessSample {
  long rss_kib = 0;  // VmRSS
  long hwm_kib = 0;  // VmHWM, the peak RSS
  long threads = 0;
  long descriptors = 0;
  long cpu_ticks = 0;  // utime + stime
};

ProcessSample sample(pid_t pid) {
  ProcessSample s;
  const std::string base = "/proc/" + std::to_string(pid);
  std::ifstream status(base + "/status");
  for (std::string line; std::getline(status, line);) {
    const auto field = [&](const char* name, long& out) {
      if (line.rfind(name, 0) == 0)
        out = std::strtol(line.c_str() + std::strlen(name), nullptr, 10);
    };
    field("VmRSS:", s.rss_kib);
    field("VmHWM:", s.hwm_kib);
    field("Threads:", s.threads);
  }
  if (DIR* fds = ::opendir((base + "/fd").c_str()); fds != nullptr) {
    while (const dirent* entry = ::readdir(fds)) {
      if (entry->d_name[0] != '.') ++s.descriptors;
    }
    ::closedir(fds);
  }
  std::ifstream stat(base + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest), {}};
  if (fields.size() > 12) s.cpu_ticks = std::stol(fields[11]) + std::stol(fields[12]);
  return s;
}

void print_sample(const char* label, const ProcessSample& s) {
  std::printf("  %-34s RSS %8.1f MiB  peak %8.1f MiB  threads %3ld  fds %6ld\n", label,
              static_cast<double>(s.rss_kib) / 1024, static_cast<double>(s.hwm_kib) / 1024,
              s.threads, s.descriptors);
}

// ---- the epoll client
// ------------------------------------------------------------------------------

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

enum class State { connecting, awaiting_first_line, open, closed };

struct Stream {
  UniqueFd fd;
  State state = State::connecting;
  std::string received;  // the response head and first line; later only a short tail
  bool saw_final = false;
};

class StreamClient {
 public:
  // Stream i sends requests[i % requests.size()].
  StreamClient(std::uint16_t port, std::vector<std::string> requests)
      : epoll_(::epoll_create1(EPOLL_CLOEXEC)), requests_(std::move(requests)) {
    if (epoll_.get() < 0) throw system_error("epoll_create1", errno);
    address_.sin_family = AF_INET;
    address_.sin_port = htons(port);
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }

  // Opens `count` streams, `window` at a time; returns when each has its first line.
  void open_all(std::size_t count, std::size_t window) {
    streams_.resize(count);
    std::size_t started = 0;
    auto last_progress = Clock::now();
    while (open_ < count) {
      while (started < count && started - open_ < window) start(started++);
      const std::size_t before = open_;
      poll(milliseconds(1000));
      if (open_ != before) {
        last_progress = Clock::now();
      } else if (Clock::now() - last_progress > std::chrono::seconds(30)) {
        throw std::runtime_error("no stream opened for 30 s: " + std::to_string(open_) + " of " +
                                 std::to_string(count) + " open, " +
                                 std::to_string(started - open_) + " waiting");
      }
    }
  }

  // Reads (and discards) whatever arrives for `duration`; a stream that ends is an error.
  void hold(milliseconds duration) {
    const auto end = Clock::now() + duration;
    while (Clock::now() < end) {
      poll(std::chrono::duration_cast<milliseconds>(end - Clock::now()) + milliseconds(1));
    }
  }

  // After the runtime was told to stop: waits until every stream has ended; returns how many
  // saw a final status line before their end.
  std::size_t drain_to_end(milliseconds limit) {
    shutting_down_ = true;
    const auto end = Clock::now() + limit;
    while (closed_ < streams_.size()) {
      if (Clock::now() > end) {
        throw std::runtime_error(std::to_string(streams_.size() - closed_) +
                                 " streams still open " + std::to_string(limit.count()) +
                                 " ms after SIGTERM");
      }
      poll(milliseconds(200));
    }
    return static_cast<std::size_t>(std::count_if(streams_.begin(), streams_.end(),
                                                  [](const Stream& s) { return s.saw_final; }));
  }

  std::size_t open_count() const noexcept { return open_; }
  std::uint64_t heartbeats() const noexcept { return heartbeats_; }

 private:
  void start(std::size_t index) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
      throw system_error("socket() for stream " + std::to_string(index) + " (raise RLIMIT_NOFILE?)",
                         errno);
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address_), sizeof address_) != 0 &&
        errno != EINPROGRESS) {
      throw system_error("connect() for stream " + std::to_string(index), errno);
    }
    epoll_event event{};
    event.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    event.data.u64 = index;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &event) != 0) {
      throw system_error("epoll_ctl", errno);
    }
    streams_[index].fd = std::move(fd);
  }

  void poll(milliseconds timeout) {
    const int ready = ::epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()),
                                   static_cast<int>(std::max<long long>(0, timeout.count())));
    if (ready < 0) {
      if (errno == EINTR) return;
      throw system_error("epoll_wait", errno);
    }
    for (int i = 0; i < ready; ++i) {
      const auto& event = events_[static_cast<std::size_t>(i)];
      handle(static_cast<std::size_t>(event.data.u64), event.events);
    }
  }

  void handle(std::size_t index, std::uint32_t events) {
    Stream& stream = streams_[index];
    if (stream.state == State::closed) return;
    if (stream.state == State::connecting && (events & EPOLLOUT) != 0) {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(stream.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) throw system_error("connecting stream " + std::to_string(index), error);
      // A request this small always fits a fresh socket's send buffer.
      const std::string& request = requests_[index % requests_.size()];
      const auto sent = ::send(stream.fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
      if (sent != static_cast<ssize_t>(request.size())) {
        throw system_error("sending request of stream " + std::to_string(index), errno);
      }
      stream.state = State::awaiting_first_line;
      epoll_event event{};
      event.events = EPOLLIN | EPOLLRDHUP;
      event.data.u64 = index;
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, stream.fd.get(), &event);
      return;
    }
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) read_from(index, stream);
  }

  void read_from(std::size_t index, Stream& stream) {
    for (;;) {
      const ssize_t n = ::recv(stream.fd.get(), buffer_.data(), buffer_.size(), 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (!shutting_down_) {
          throw std::runtime_error(
              "stream " + std::to_string(index) + " ended early (" +
              (n == 0 ? std::string("closed by the runtime") : std::strerror(errno)) +
              "), after: " + stream.received.substr(0, 300));
        }
        stream.state = State::closed;
        stream.fd.reset();
        ++closed_;
        return;
      }
      const std::string_view chunk(buffer_.data(), static_cast<std::size_t>(n));
      if (stream.state == State::awaiting_first_line) {
        stream.received.append(chunk);
        const auto head_end = stream.received.find("\r\n\r\n");
        if (head_end == std::string::npos) continue;
        if (stream.received.rfind("HTTP/1.1 200", 0) != 0) {
          throw std::runtime_error("stream " + std::to_string(index) +
                                   " was refused: " + stream.received.substr(0, head_end));
        }
        if (stream.received.find("}\n", head_end) == std::string::npos) continue;
        stream.state = State::open;
        stream.received.clear();
        stream.received.shrink_to_fit();
        ++open_;
        continue;
      }
      // Open: count heartbeats, keep only a short tail to spot the final status at shutdown.
      for (auto at = chunk.find("heartbeat"); at != std::string_view::npos;
           at = chunk.find("heartbeat", at + 1)) {
        ++heartbeats_;
      }
      if (shutting_down_) {
        stream.received.append(chunk);
        if (stream.received.find("\"status\":12") != std::string::npos) stream.saw_final = true;
        if (stream.received.size() > 64) stream.received.erase(0, stream.received.size() - 64);
      }
    }
  }

  UniqueFd epoll_;
  std::vector<std::string> requests_;
  sockaddr_in address_{};
  std::vector<Stream> streams_;
  std::array<epoll_event, 1024> events_{};
  std::array<char, 65536> buffer_{};
  std::size_t open_ = 0;
  std::size_t closed_ = 0;
  std::uint64_t heartbeats_ = 0;
  bool shutting_down_ = false;
};

// ---- the benchmark
// ---------------------------------------------------------------------------------

std::uint64_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) throw system_error("getrlimit", errno);
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) throw system_error("setrlimit", errno);
  return limit.rlim_cur;
}

std::string random_key() {
  std::random_device device;
  std::string key = "sk-bench-";
  for (int i = 0; i < 16; ++i) key += "0123456789abcdef"[device() % 16];
  return key;
}

// Median latency of `n` run-and-wait calls of infsh/echo, in milliseconds.
double echo_latency_ms(const inf::Client& client, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    const auto task = client.tasks.run({{"app", "infsh/echo"}, {"input", {{"i", i}}}});
    if (task.status != inf::TaskStatus::completed)
      throw std::runtime_error("echo did not complete");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

int bench(const Options& options) {
  const auto limit = raise_descriptor_limit();
  if (limit < static_cast<std::uint64_t>(options.streams) + 64) {
    throw std::runtime_error("RLIMIT_NOFILE hard limit " + std::to_string(limit) +
                             " is too low for " + std::to_string(options.streams) +
                             " streams (raise it with ulimit -Hn)");
  }

  const std::string key = random_key();
  inf::testing::Subprocess runtime({options.runtime, "--port", "0", "--api-key", key, "--workers",
                                    std::to_string(options.tasks + 1), "--heartbeat",
                                    options.heartbeat, "--log-level", "error"});
  const auto url_line = runtime.read_line_containing("http://", milliseconds(10000));
  if (!url_line) throw std::runtime_error("infsh-local printed no URL:\n" + runtime.output());
  const std::string url = *url_line;
  const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);

  std::printf(
      "infsh-local %s (pid %d, %d workers), %d streams over %d tasks, heartbeat %s, window %d, "
      "descriptor limit %llu\n",
      url.c_str(), static_cast<int>(runtime.pid()), options.tasks + 1, options.streams,
      options.tasks, options.heartbeat.c_str(), options.window,
      static_cast<unsigned long long>(limit));
  const auto client = inf::inference({.api_key = key, .base_url = url});
  const double idle_latency = echo_latency_ms(client, 21);
  const auto started = sample(runtime.pid());

  // Long-running tasks: one step of an hour each, each on its own worker, so nothing changes
  // meanwhile; one more worker stays free for the latency probes.
  std::vector<std::string> task_ids;
  for (int t = 0; t < options.tasks; ++t) {
    task_ids.push_back(
        client.tasks
            .run({{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 3600000}}}},
                 {.wait = false})
            .id);
  }
  const auto before = sample(runtime.pid());

  // Streams are spread over the tasks round-robin.
  std::vector<std::string> requests;
  for (const auto& id : task_ids) {
    requests.push_back("GET /tasks/" + id + "/stream HTTP/1.1\r\nHost: 127.0.0.1:" +
                       std::to_string(port) + "\r\nAuthorization: Bearer " + key +
                       "\r\nAccept: application/x-ndjson\r\n"
                       "User-Agent: runtime_streams_bench\r\n\r\n");
  }
  StreamClient streams(port, std::move(requests));
  const auto open_start = Clock::now();
  streams.open_all(static_cast<std::size_t>(options.streams),
                   static_cast<std::size_t>(options.window));
  const double open_seconds = std::chrono::duration<double>(Clock::now() - open_start).count();
  const auto opened = sample(runtime.pid());

  // Hold them idle (heartbeats keep arriving): settle for a second, then measure.
  streams.hold(milliseconds(1000));
  const auto cpu_hold_start = sample(runtime.pid()).cpu_ticks;
  const auto hold_start = Clock::now();
  streams.hold(milliseconds(options.hold_seconds * 1000));
  const double hold_seconds = std::chrono::duration<double>(Clock::now() - hold_start).count();
  const auto after_hold = sample(runtime.pid());
  const double busy_latency = echo_latency_ms(client, 21);
  const std::size_t open = streams.open_count();
  const std::uint64_t heartbeats = streams.heartbeats();

  // Shutdown with every stream open: each gets its task's final state, then its end.
  const auto stop_start = Clock::now();
  runtime.signal(SIGTERM);
  const std::size_t saw_final = streams.drain_to_end(milliseconds(30000));
  const double drain_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - stop_start).count();
  const auto status = runtime.wait(milliseconds(30000));

  const double per_stream_kib =
      static_cast<double>(after_hold.rss_kib - before.rss_kib) / static_cast<double>(open);
  std::printf("\nruntime process (/proc/%d/status)\n", static_cast<int>(runtime.pid()));
  print_sample("started, 21 echo tasks run", started);
  print_sample("long tasks created, no streams", before);
  print_sample("all streams open", opened);
  print_sample("after holding them idle", after_hold);
  std::printf("\n  streams open                       %zu of %d (first line received on each)\n",
              open, options.streams);
  std::printf("  time to open all (client)          %.2f s (%.0f streams/s)\n", open_seconds,
              static_cast<double>(open) / open_seconds);
  std::printf("  memory per open stream             %.1f KiB (RSS growth / streams)\n",
              per_stream_kib);
  std::printf(
      "  runtime CPU while holding          %.1f%% of one core over %.1f s "
      "(%llu heartbeat lines received in all)\n",
      100.0 * static_cast<double>(after_hold.cpu_ticks - cpu_hold_start) /
          static_cast<double>(ticks_per_second) / hold_seconds,
      hold_seconds, static_cast<unsigned long long>(heartbeats));
  std::printf("  echo run-and-wait latency (median) %.2f ms idle, %.2f ms with the streams open\n",
              idle_latency, busy_latency);
  std::printf(
      "  SIGTERM with all streams open      %zu of %zu got the final (cancelled) state; "
      "all ended within %.0f ms; exit status %d\n",
      saw_final, open, drain_ms, status.value_or(-1));
  if (open != static_cast<std::size_t>(options.streams) || status != 0) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows when piped to a file
  try {
    return bench(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_streams_bench: %s\n", e.what());
    return 1;
  }
}
