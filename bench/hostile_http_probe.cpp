// What hostile clients cost infsh-local. Each attack gets a fresh infsh-local (the program given
// with --runtime, by default the one built beside this probe), is run over real sockets, and is
// reported as what the attacker got (statuses, how long until cut off) and what the runtime paid:
// its peak resident memory (VmHWM from /proc, the process's high-water mark), against its
// resident memory just after start.
//
//     hostile_http_probe [--runtime PATH] [--only NAME]... [--connections 300] [--streams 1000]
//                        [--stream-pad-kb 100] [--trickle-limit 120]
//
// Attacks (--only picks some; all by default):
//   cross-site         JSON as text/plain, a rebound Host, a foreign Origin (no key)
//   trailers           256 MiB of chunk trailers in one unauthenticated request (--api-key set),
//                      then 1 MiB of them with the key
//   big-trailer        200 uploads ending in a 70 KB trailer field (no key): answers, part files
//                      left, memory kept
//   bodies             --connections unauthenticated 8 MiB bodies at once (--api-key set)
//   bodies-with-key    the same bodies with the key
//   expect             an unauthenticated head with Expect: 100-continue
//   transfer-encoding  bodies framed by codings other than chunked, carrying a second request
//   trickle            an upload sending one byte every 5 s: time until cut off
//   streams            --streams task streams that never read, on a task whose 400 updates
//                      each carry --stream-pad-kb of input

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "support/subprocess.hpp"
#include "support/temp_dir.hpp"

namespace inf = inferencesh;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr const char* kKey = "probe-key";
constexpr std::size_t kMiB = 1024 * 1024;

struct Options {
  std::string runtime = INFSH_LOCAL_PROGRAM;
  std::set<std::string> only;
  int connections = 300;
  int streams = 1000;
  int stream_pad_kb = 100;
  int trickle_limit_seconds = 120;
};

// ---- the runtime under attack ---------------------------------------------------------------

long status_kib(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field, 0) == 0)
      return std::strtol(line.c_str() + std::strlen(field), nullptr, 10);
  }
  return 0;
}

class Runtime {
 public:
  Runtime(const Options& options, const std::vector<std::string>& extra)
      : process_(arguments(options, extra)) {
    const auto line = process_.read_line(milliseconds(10000));
    if (!line || line->rfind("http://", 0) != 0) {
      throw std::runtime_error("infsh-local did not start: " + process_.output());
    }
    port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    start_kib_ = status_kib(process_.pid(), "VmRSS:");
  }

  std::uint16_t port() const { return port_; }
  const fs::path& data_dir() const { return data_.path(); }
  std::string memory() const {
    char text[96];
    std::snprintf(text, sizeof text, "peak RSS %7.1f MiB (%.1f MiB at start)",
                  static_cast<double>(status_kib(process_.pid(), "VmHWM:")) / 1024,
                  static_cast<double>(start_kib_) / 1024);
    return text;
  }
  long rss_kib() const { return status_kib(process_.pid(), "VmRSS:"); }
  std::ptrdiff_t descriptors() const {
    std::error_code ignored;
    std::ptrdiff_t n = 0;
    const fs::path dir = "/proc/" + std::to_string(process_.pid()) + "/fd";
    for (auto it = fs::directory_iterator(dir, ignored); it != fs::directory_iterator(); ++it) ++n;
    return n;
  }
  bool alive() { return !process_.wait(milliseconds(0)).has_value(); }

 private:
  std::vector<std::string> arguments(const Options& options,
                                     const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {options.runtime,      "--port", "0",
                                     "--log-level",        "error",  "--data-dir",
                                     data_.path().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  inf::testing::TempDir data_;
  inf::testing::Subprocess process_;
  std::uint16_t port_ = 0;
  long start_kib_ = 0;
};

// ---- raw HTTP ---------------------------------------------------------------------------------

class Socket {
 public:
  explicit Socket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 ||
        ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)), in_(std::move(other.in_)) {}

  int fd() const { return fd_; }

  // Sends everything, blocking; false once the peer is gone.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Sends what fits now without blocking; the bytes sent, or -1 once the peer is gone.
  long send_some(std::string_view bytes) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n < 0 ? -1 : n;
  }

  // The status of the next response (its body skipped), or nullopt when none comes in time.
  std::optional<int> status(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(deadline)) return std::nullopt;
    }
    const int status = std::atoi(in_.c_str() + 9);
    std::size_t length = 0;
    const auto at = lower(in_.substr(0, end)).find("content-length:");
    if (at != std::string::npos) length = std::strtoul(in_.c_str() + at + 15, nullptr, 10);
    if (status == 100) length = 0;
    while (in_.size() < end + 4 + length) {
      if (!fill(deadline)) break;
    }
    last_body_ = in_.substr(end + 4, length);
    in_.erase(0, std::min(in_.size(), end + 4 + length));
    return status;
  }

  const std::string& last_body() const { return last_body_; }

  // Whether the peer closed within `timeout` (what it sends meanwhile is dropped).
  bool closed_by_peer(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      pollfd descriptor{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || ::poll(&descriptor, 1, static_cast<int>(left)) <= 0) return false;
      char sink[65536];
      const auto n = ::recv(fd_, sink, sizeof sink, 0);
      if (n <= 0) return true;
    }
  }

 private:
  static std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

  bool fill(Clock::time_point deadline) {
    pollfd descriptor{fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || ::poll(&descriptor, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[65536];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    in_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string in_;
  std::string last_body_;
};

std::string head(const std::string& method, const std::string& target,
                 const std::vector<std::string>& fields) {
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& field : fields) out += field + "\r\n";
  return out + "\r\n";
}

std::string status_text(const std::optional<int>& status) {
  return status ? std::to_string(*status) : "no answer";
}

// One request on a fresh connection; the status and body of its answer.
std::pair<std::optional<int>, std::string> round_trip(std::uint16_t port,
                                                      const std::string& bytes) {
  Socket socket(port);
  socket.send(bytes);
  const auto status = socket.status(milliseconds(10000));
  return {status, socket.last_body()};
}

std::string upload_path(std::uint16_t port, const std::vector<std::string>& auth) {
  const std::string body = R"({"files":[{"uri":""}]})";
  std::vector<std::string> fields = {"Host: 127.0.0.1", "Content-Type: application/json",
                                     "Content-Length: " + std::to_string(body.size())};
  fields.insert(fields.end(), auth.begin(), auth.end());
  const auto [status, answer] = round_trip(port, head("POST", "/files", fields) + body);
  if (status != 200) throw std::runtime_error("POST /files failed: " + answer);
  const std::string url = nlohmann::json::parse(answer).at("data").at(0).at("upload_url");
  return url.substr(url.find('/', url.find("://") + 3));
}

std::size_t count_files(const fs::path& dir) {
  std::error_code ignored;
  std::size_t n = 0;
  for (auto it = fs::directory_iterator(dir, ignored); it != fs::directory_iterator(); ++it) ++n;
  return n;
}

void report(const char* attack, const std::string& what) {
  std::printf("%-18s %s\n", attack, what.c_str());
  std::fflush(stdout);
}

// Sends each connection's bytes at once, as fast as the runtime takes them, until all are sent
// or refused; then reads each one's answer. The statuses seen, counted.
std::string pump(std::vector<Socket>& sockets, const std::string& bytes, milliseconds limit) {
  std::vector<std::size_t> sent(sockets.size(), 0);
  std::vector<bool> done(sockets.size(), false);
  const auto deadline = Clock::now() + limit;
  std::size_t left = sockets.size();
  while (left > 0 && Clock::now() < deadline) {
    std::vector<pollfd> wanted;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      if (!done[i]) {
        wanted.push_back({sockets[i].fd(), POLLOUT, 0});
        which.push_back(i);
      }
    }
    if (::poll(wanted.data(), wanted.size(), 100) <= 0) continue;
    for (std::size_t k = 0; k < wanted.size(); ++k) {
      if (wanted[k].revents == 0) continue;
      const auto i = which[k];
      const long n = sockets[i].send_some(std::string_view(bytes).substr(sent[i]));
      if (n < 0 || (sent[i] += static_cast<std::size_t>(std::max(n, 0L))) == bytes.size() ||
          (wanted[k].revents & (POLLERR | POLLHUP)) != 0) {
        done[i] = true;
        --left;
      }
    }
  }
  std::map<std::string, int> statuses;
  for (auto& socket : sockets) ++statuses[status_text(socket.status(milliseconds(20000)))];
  std::string out;
  for (const auto& [status, count] : statuses) {
    out += (out.empty() ? "" : ", ") + std::to_string(count) + " x " + status;
  }
  return out;
}

// ---- the attacks ------------------------------------------------------------------------------

void cross_site(const Options& options) {
  Runtime runtime(options, {});
  const auto port = std::to_string(runtime.port());
  const std::string body = R"({"app":"infsh/echo","input":{"from":"a web page"}})";
  const std::string length = "Content-Length: " + std::to_string(body.size());
  const auto plain = round_trip(
      runtime.port(),
      head("POST", "/apps/run",
           {"Host: 127.0.0.1:" + port, "Content-Type: text/plain;charset=UTF-8", length}) +
          body);
  const auto rebound =
      round_trip(runtime.port(), head("GET", "/health", {"Host: rebound.evil.example:" + port}));
  const auto origin =
      round_trip(runtime.port(), head("POST", "/apps/run",
                                      {"Host: 127.0.0.1:" + port, "Origin: http://evil.example",
                                       "Content-Type: application/json", length}) +
                                     body);
  report("cross-site", "JSON as text/plain: " + status_text(plain.first) +
                           "; Host rebound.evil.example: " + status_text(rebound.first) +
                           "; Origin http://evil.example: " + status_text(origin.first));
}

// Streams trailer fields after a last chunk until `total` bytes went out or the runtime closed.
std::string send_trailers(std::uint16_t port, const std::vector<std::string>& auth,
                          std::size_t total, Runtime& runtime) {
  Socket socket(port);
  std::vector<std::string> fields = {"Host: 127.0.0.1", "Content-Type: application/json",
                                     "Transfer-Encoding: chunked"};
  fields.insert(fields.end(), auth.begin(), auth.end());
  socket.send(head("POST", "/apps/run", fields) + "2\r\n{}\r\n0\r\n");
  const std::string field = "X-Trailer: " + std::string(1000, 't') + "\r\n";
  std::string block;
  while (block.size() < kMiB) block += field;
  std::size_t sent = 0;
  const auto started = Clock::now();
  while (sent < total && socket.send(block)) sent += block.size();
  if (sent >= total) socket.send("\r\n");
  const auto status = socket.status(milliseconds(30000));
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  char text[160];
  std::snprintf(text, sizeof text, "%s after %.0f MiB of trailers sent (%.1f s); %s",
                status_text(status).c_str(), static_cast<double>(sent) / kMiB, seconds,
                runtime.memory().c_str());
  return text;
}

void trailers(const Options& options) {
  {
    Runtime runtime(options, {"--api-key", kKey});
    report("trailers",
           "no key, 256 MiB: " + send_trailers(runtime.port(), {}, 256 * kMiB, runtime));
  }
  Runtime runtime(options, {"--api-key", kKey});
  report("trailers",
         "with key, 1 MiB: " + send_trailers(runtime.port(),
                                             {std::string("Authorization: Bearer ") + kKey}, kMiB,
                                             runtime));
}

void big_trailer(const Options& options) {
  Runtime runtime(options, {});
  const std::string path = upload_path(runtime.port(), {});
  std::this_thread::sleep_for(milliseconds(1500));  // the connection above is let go
  const long before = runtime.rss_kib();
  const auto descriptors_before = runtime.descriptors();
  constexpr int kRequests = 200;
  int answered = 0;
  std::optional<int> last;
  std::vector<Socket> open;  // kept open: an unanswered request keeps its connection
  for (int i = 0; i < kRequests; ++i) {
    Socket socket(runtime.port());
    socket.send(head("PUT", path, {"Host: 127.0.0.1", "Transfer-Encoding: chunked"}) +
                "5\r\nhello\r\n0\r\nX-Big: " + std::string(70000, 'b') + "\r\n\r\n");
    const auto status = socket.status(milliseconds(i == 0 ? 3000 : 300));
    if (status) {
      ++answered;
      last = status;
    }
    open.push_back(std::move(socket));
  }
  open.clear();  // the runtime may now let go of every connection
  std::this_thread::sleep_for(milliseconds(2000));
  const long after = runtime.rss_kib();
  char text[240];
  std::snprintf(
      text, sizeof text,
      "%d of %d answered (%s); %zu part files left; %td descriptors still open after "
      "the clients closed; RSS %+.1f KiB per request",
      answered, kRequests, status_text(last).c_str(), count_files(runtime.data_dir() / "uploads"),
      runtime.descriptors() - descriptors_before, static_cast<double>(after - before) / kRequests);
  report("big-trailer", text);
}

void bodies(const Options& options, bool with_key) {
  Runtime runtime(options, {"--api-key", kKey});
  constexpr std::size_t kBody = 8 * kMiB;
  std::vector<std::string> fields = {"Host: 127.0.0.1", "Content-Type: application/json",
                                     "Content-Length: " + std::to_string(kBody)};
  if (with_key) fields.push_back(std::string("Authorization: Bearer ") + kKey);
  // Not JSON: the runtime answers 400 once it has the body, and keeps nothing of it.
  const std::string bytes = head("POST", "/apps/run", fields) + std::string(kBody, 'x');
  std::vector<Socket> sockets;
  for (int i = 0; i < options.connections; ++i) sockets.emplace_back(runtime.port());
  const auto started = Clock::now();
  const std::string statuses = pump(sockets, bytes, milliseconds(120000));
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  char text[240];
  std::snprintf(text, sizeof text, "%d x 8 MiB%s: %s in %.1f s; %s", options.connections,
                with_key ? " with key" : ", no key", statuses.c_str(), seconds,
                runtime.memory().c_str());
  report(with_key ? "bodies-with-key" : "bodies", text);
}

void expect(const Options& options) {
  Runtime runtime(options, {"--api-key", kKey});
  Socket socket(runtime.port());
  socket.send(head("POST", "/apps/run",
                   {"Host: 127.0.0.1", "Content-Type: application/json",
                    "Content-Length: " + std::to_string(8 * kMiB), "Expect: 100-continue"}));
  report("expect", "no key, Expect: 100-continue: first answer " +
                       status_text(socket.status(milliseconds(5000))));
}

void transfer_encoding(const Options& options) {
  Runtime runtime(options, {});
  const std::string smuggled = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  std::string out;
  for (const std::string coding : {"identity", "gzip", "xchunked", "chunked, identity"}) {
    Socket socket(runtime.port());
    socket.send(head("POST", "/apps/run",
                     {"Host: 127.0.0.1", "Content-Type: application/json",
                      "Transfer-Encoding: " + coding}) +
                smuggled);
    std::string answers;
    while (const auto status = socket.status(milliseconds(1000))) {
      answers += (answers.empty() ? "" : " then ") + std::to_string(*status);
    }
    out += (out.empty() ? "" : "; ") + coding + ": " + (answers.empty() ? "no answer" : answers);
  }
  report("transfer-encoding", out);
}

void trickle(const Options& options) {
  Runtime runtime(options, {});
  const std::string path = upload_path(runtime.port(), {});
  Socket socket(runtime.port());
  socket.send(head("PUT", path, {"Host: 127.0.0.1", "Content-Length: 1000000"}));
  const auto started = Clock::now();
  const auto limit = started + std::chrono::seconds(options.trickle_limit_seconds);
  std::optional<int> status;
  bool cut = false;
  while (Clock::now() < limit) {
    if (!socket.send("x")) {
      cut = true;
      break;
    }
    if ((status = socket.status(milliseconds(5000)))) {
      cut = true;
      break;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  char text[160];
  if (cut) {
    std::snprintf(text, sizeof text, "one byte every 5 s: cut off after %.0f s (%s)", seconds,
                  status_text(status).c_str());
  } else {
    std::snprintf(text, sizeof text, "one byte every 5 s: still open after %.0f s", seconds);
  }
  report("trickle", text);
}

void streams(const Options& options) {
  Runtime runtime(options, {});
  const nlohmann::json task = {
      {"app", "infsh/progress"},
      {"input",
       {{"steps", 400},
        {"delay_ms", 25},
        {"pad",
         std::string(std::size_t{1000} * static_cast<std::size_t>(options.stream_pad_kb), 'x')}}}};
  const std::string body = task.dump();
  const auto [status, answer] = round_trip(
      runtime.port(), head("POST", "/apps/run",
                           {"Host: 127.0.0.1", "Content-Type: application/json", "X-API-Version: 2",
                            "Content-Length: " + std::to_string(body.size())}) +
                          body);
  if (status != 200) throw std::runtime_error("creating the task failed: " + answer);
  const std::string id = nlohmann::json::parse(answer).at("id");
  std::this_thread::sleep_for(milliseconds(1500));  // the connection above is let go
  const auto descriptors_before = runtime.descriptors();
  std::vector<Socket> sockets;
  for (int i = 0; i < options.streams; ++i) {
    sockets.emplace_back(runtime.port());
    sockets.back().send(head("GET", "/tasks/" + id + "/stream", {"Host: 127.0.0.1"}));
  }
  // Never read; the task runs 10 s and every update carries its input (--stream-pad-kb). A stream
  // the runtime closes cannot be seen from here (its FIN waits behind the unread bytes): its
  // descriptor in the runtime is.
  const auto started = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(15));
  const std::ptrdiff_t open = runtime.descriptors() - descriptors_before;
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  char text[200];
  std::snprintf(text, sizeof text,
                "%d unread streams of a task sending 400 x %d KB: %td still open after %.0f s; "
                "%s",
                options.streams, options.stream_pad_kb, open, seconds, runtime.memory().c_str());
  report("streams", text);
}

Options parse(int argc, char** argv) {
  Options options;
  for (inf::bench::Flags flags(argc, argv); flags.next();) {
    if (flags.is("--runtime")) {
      options.runtime = flags.value();
    } else if (flags.is("--only")) {
      options.only.insert(flags.value());
    } else if (flags.is("--connections")) {
      options.connections = flags.count();
    } else if (flags.is("--streams")) {
      options.streams = flags.count();
    } else if (flags.is("--stream-pad-kb")) {
      options.stream_pad_kb = flags.count();
    } else if (flags.is("--trickle-limit")) {
      options.trickle_limit_seconds = flags.count();
    } else {
      flags.unknown();
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse(argc, argv);
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    const auto wanted = [&](const char* name) {
      return options.only.empty() || options.only.count(name) > 0;
    };
    std::printf("infsh-local: %s\n", options.runtime.c_str());
    if (wanted("cross-site")) cross_site(options);
    if (wanted("trailers")) trailers(options);
    if (wanted("big-trailer")) big_trailer(options);
    if (wanted("bodies")) bodies(options, false);
    if (wanted("bodies-with-key")) bodies(options, true);
    if (wanted("expect")) expect(options);
    if (wanted("transfer-encoding")) transfer_encoding(options);
    if (wanted("trickle")) trickle(options);
    if (wanted("streams")) streams(options);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hostile_http_probe: %s\n", e.what());
    return 1;
  }
}
