#include "local_runtime_fixture.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace infsh::local::testing {

namespace {

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

bool iequal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Removes chunk framing from `raw`; returns false while it is incomplete.
bool dechunk(const std::string& raw, std::string& body, bool& complete) {
  body.clear();
  complete = false;
  std::size_t pos = 0;
  for (;;) {
    const auto line_end = raw.find("\r\n", pos);
    if (line_end == std::string::npos) return true;
    const std::size_t size = std::stoul(raw.substr(pos, line_end - pos), nullptr, 16);
    if (size == 0) {
      complete = raw.size() >= line_end + 4;
      return true;
    }
    if (raw.size() < line_end + 2 + size + 2) return true;
    body.append(raw, line_end + 2, size);
    pos = line_end + 2 + size + 2;
  }
}

}  // namespace

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

bool same_bytes(const std::filesystem::path& a, const std::filesystem::path& b) {
  if (std::filesystem::file_size(a) != std::filesystem::file_size(b)) return false;
  std::ifstream in_a(a, std::ios::binary);
  std::ifstream in_b(b, std::ios::binary);
  std::vector<char> chunk_a(1 << 20);
  std::vector<char> chunk_b(1 << 20);
  while (in_a && in_b) {
    in_a.read(chunk_a.data(), static_cast<std::streamsize>(chunk_a.size()));
    in_b.read(chunk_b.data(), static_cast<std::streamsize>(chunk_b.size()));
    if (in_a.gcount() != in_b.gcount() ||
        !std::equal(chunk_a.begin(), chunk_a.begin() + in_a.gcount(), chunk_b.begin())) {
      return false;
    }
  }
  return in_a.eof() && in_b.eof();
}

void Gate::open() {
  {
    std::lock_guard lock(mutex_);
    open_ = true;
  }
  changed_.notify_all();
}

bool Gate::wait(AppContext* context) {
  if (context != nullptr) {
    context->on_cancel([this] {
      std::lock_guard lock(mutex_);
      changed_.notify_all();
    });
  }
  std::unique_lock lock(mutex_);
  ++waiting_;
  changed_.notify_all();
  changed_.wait(lock, [&] { return open_ || (context != nullptr && context->cancelled()); });
  --waiting_;
  return open_;
}

bool Gate::wait_for_waiters(int count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return waiting_ >= count; });
}

namespace {

class GatedInstance final : public AppInstance {
 public:
  explicit GatedInstance(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  nlohmann::json run(const std::string&, const nlohmann::json& input,
                     AppContext& context) override {
    context.partial_output({{"stage", "started"}});
    gate_->wait(&context);
    return input;
  }

 private:
  std::shared_ptr<Gate> gate_;
};

}  // namespace

std::unique_ptr<AppInstance> GatedApp::setup(const nlohmann::json&, AppContext&) {
  return std::make_unique<GatedInstance>(gate);
}

RuntimeOptions LocalRuntime::quiet() {
  RuntimeOptions options;
  options.log_level = LogLevel::off;
  options.shutdown_grace = std::chrono::milliseconds(3000);
  return options;
}

LocalRuntime::LocalRuntime(RuntimeOptions options) : runtime_(std::move(options)) {
  runtime_.start();
}

inferencesh::ClientOptions LocalRuntime::client_options(const std::string& api_key) const {
  inferencesh::ClientOptions options;
  options.api_key = api_key;
  options.base_url = runtime_.url();
  options.request_timeout = std::chrono::milliseconds(10000);
  options.wait.poll_interval = std::chrono::milliseconds(10);
  options.wait.reconnect_backoff = std::chrono::milliseconds(10);
  options.wait.max_reconnect_backoff = std::chrono::milliseconds(50);
  options.retry.initial_backoff = std::chrono::milliseconds(10);
  return options;
}

inferencesh::Client LocalRuntime::client(const std::string& api_key) const {
  return inferencesh::inference(client_options(api_key));
}

std::optional<std::string> RawResponse::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (iequal(key, name)) return value;
  }
  return std::nullopt;
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("connect() failed: ") + std::strerror(errno));
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

RawConnection::Received RawConnection::receive(std::chrono::steady_clock::time_point deadline,
                                               std::string& into) {
  pollfd descriptor{fd_, POLLIN, 0};
  const int ready = ::poll(&descriptor, 1, remaining_ms(deadline));
  if (ready == 0) return Received::timeout;
  char chunk[16384];
  const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) return Received::closed;
  into.append(chunk, static_cast<std::size_t>(n));
  return Received::bytes;
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline) {
  const Received received = receive(deadline, buffer_);
  if (received == Received::timeout) throw std::runtime_error("timed out waiting for the server");
  return received == Received::bytes;
}

RawResponse parse_response_head(const std::string& head) {
  RawResponse response;
  response.status = std::stoi(head.substr(9, 3));
  std::size_t line_start = head.find("\r\n");
  while (line_start != std::string::npos) {
    const auto next = head.find("\r\n", line_start + 2);
    const std::string line = head.substr(
        line_start + 2, next == std::string::npos ? std::string::npos : next - line_start - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers.emplace_back(line.substr(0, colon), value);
    }
    line_start = next;
  }
  return response;
}

RawResponse RawConnection::read_stream_until(const std::function<bool(const std::string&)>& done,
                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) throw std::runtime_error("connection closed before a response head");
  }
  RawResponse response = parse_response_head(buffer_.substr(0, head_end));
  buffer_.erase(0, head_end + 4);
  if (response.status < 200 || response.status == 204 || response.status == 304) return response;
  const auto length = response.header("Content-Length");
  const bool chunked = response.header("Transfer-Encoding").value_or("") == "chunked";
  for (;;) {
    bool complete = false;
    if (chunked) {
      dechunk(buffer_, response.body, complete);
    } else if (length) {
      const std::size_t size = std::stoul(*length);
      response.body = buffer_.substr(0, size);
      complete = buffer_.size() >= size;
      if (complete) buffer_.erase(0, size);
    } else {
      response.body = buffer_;
    }
    if (complete || done(response.body)) {
      if (complete && chunked) buffer_.clear();
      return response;
    }
    if (!fill(deadline)) {
      if (!chunked && !length) return response;  // close-delimited
      throw std::runtime_error("connection closed in the middle of a response body");
    }
  }
}

RawResponse RawConnection::read_response(std::chrono::milliseconds timeout) {
  return read_stream_until([](const std::string&) { return false; }, timeout);
}

std::string RawConnection::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fill(deadline)) {
  }
  return std::exchange(buffer_, std::string());
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    while (fill(deadline)) {
    }
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

void RawConnection::reset() {
  linger option{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  ::close(fd_);
  fd_ = -1;
}

RawResponse http_request(std::uint16_t port, const std::string& method, const std::string& path,
                         const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  RawConnection connection(port);
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool typed = false;
  for (const auto& [name, value] : headers) {
    request += name + ": " + value + "\r\n";
    typed = typed || iequal(name, "Content-Type");
  }
  if (!body.empty() && !typed) request += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  connection.send(request);
  return connection.read_response();
}

ChildRuntime::ChildRuntime(const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe() failed");
  std::vector<std::string> argv_storage{INFSH_LOCAL_PROGRAM};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork() failed");
  if (pid_ == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    if (std::getenv("INFSH_TEST_CHILD_STDERR") == nullptr) {  // set it to see the child's log
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, STDERR_FILENO);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string text;
  while (text.find('\n') == std::string::npos) {
    pollfd descriptor{stdout_fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, remaining_ms(deadline)) <= 0) break;
    char chunk[256];
    const auto n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n <= 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  first_line_ = text.substr(0, text.find('\n'));
}

ChildRuntime::~ChildRuntime() {
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void ChildRuntime::signal(int number) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, number);
}

std::optional<int> ChildRuntime::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace infsh::local::testing
