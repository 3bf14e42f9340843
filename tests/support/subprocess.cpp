#include "support/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace inferencesh::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> to_argv(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

int run_command(const std::vector<std::string>& argv) {
  std::vector<std::string> args = argv;
  auto pointers = to_argv(args);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execvp(pointers[0], pointers.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Subprocess::Subprocess(const std::vector<std::string>& argv,
                       const std::vector<std::string>& environment) {
  std::array<int, 2> pipe_fds{};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = argv;
  auto arg_pointers = to_argv(args);
  std::vector<std::string> env_strings = environment;
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    for (auto& entry : env_strings) ::putenv(entry.data());
    ::execvp(arg_pointers[0], arg_pointers.data());
    const char message[] = "exec failed\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  output_fd_ = pipe_fds[0];
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (output_fd_ >= 0) ::close(output_fd_);
}

bool Subprocess::fill(Clock::time_point deadline) {
  if (output_fd_ < 0) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  pollfd entry{output_fd_, POLLIN, 0};
  const int ready = ::poll(&entry, 1, static_cast<int>(std::max<long long>(0, left.count())));
  if (ready <= 0) return false;
  std::array<char, 4096> chunk{};
  const ssize_t n = ::read(output_fd_, chunk.data(), chunk.size());
  if (n <= 0) {
    ::close(output_fd_);
    output_fd_ = -1;
    return false;
  }
  buffer_.append(chunk.data(), static_cast<std::size_t>(n));
  seen_.append(chunk.data(), static_cast<std::size_t>(n));
  return true;
}

std::optional<std::string> Subprocess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const auto end = buffer_.find('\n'); end != std::string::npos) {
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, end + 1);
      return line;
    }
    if (Clock::now() >= deadline || !fill(deadline)) {
      if (Clock::now() < deadline && output_fd_ >= 0) continue;
      return std::nullopt;
    }
  }
}

std::optional<std::string> Subprocess::read_line_containing(const std::string& needle,
                                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto line = read_line(left);
    if (!line) return std::nullopt;
    if (line->find(needle) != std::string::npos) return line;
  }
}

void Subprocess::signal(int number) const {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, number);
}

std::optional<int> Subprocess::wait(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_status_ = decode_status(status);
      // What it wrote before exiting is still in the pipe: read it to the end, so output()
      // holds all of it (a --help longer than one read was cut short).
      const auto drained_by = Clock::now() + std::chrono::milliseconds(1000);
      while (fill(drained_by)) {
      }
      return exit_status_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    // Drain output meanwhile so a chatty child never blocks on a full pipe; the poll inside
    // fill() is what paces this loop (bounded by 20 ms so the exit is noticed promptly).
    if (!fill(std::min(deadline, Clock::now() + std::chrono::milliseconds(20)))) {
      if (output_fd_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

}  // namespace inferencesh::testing
