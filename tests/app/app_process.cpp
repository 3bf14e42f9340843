#include "app_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <catch2/catch.hpp>

namespace infsh::testing {
namespace {

using Clock = std::chrono::steady_clock;

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

AppProcess::AppProcess(const std::vector<std::string>& argv,
                       const std::vector<std::string>& environment) {
  std::array<int, 2> in{}, out{}, err{};
  if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0 ||
      ::pipe2(err.data(), O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (auto& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  std::vector<std::string> env = environment;
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    for (auto& entry : env) ::putenv(entry.data());
    ::execvp(pointers[0], pointers.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  out_ = out[0];
  err_ = err[0];
  err_reader_ = std::thread([this] {
    char chunk[4096];
    for (;;) {
      const ssize_t got = ::read(err_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        {
          std::lock_guard lock(err_mutex_);
          err_ended_ = true;
        }
        err_changed_.notify_all();
        return;
      }
      {
        std::lock_guard lock(err_mutex_);
        err_text_.append(chunk, static_cast<std::size_t>(got));
      }
      err_changed_.notify_all();
    }
  });
}

AppProcess::~AppProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (in_ >= 0) ::close(in_);
  if (out_ >= 0) ::close(out_);
  if (err_reader_.joinable()) err_reader_.join();
  if (err_ >= 0) ::close(err_);
}

void AppProcess::write_line(const std::string& line) {
  std::string bytes = line + "\n";
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const ssize_t written = ::write(in_, rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("writing to the child failed");
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

void AppProcess::close_stdin() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
}

std::optional<std::string> AppProcess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto newline = out_buffer_.find('\n');
    if (newline != std::string::npos) {
      std::string line = out_buffer_.substr(0, newline);
      out_buffer_.erase(0, newline + 1);
      return line;
    }
    if (out_eof_) return std::nullopt;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd poll_fd{out_, POLLIN, 0};
    const int ready = ::poll(&poll_fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char chunk[65536];
    const ssize_t got = ::read(out_, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      out_eof_ = true;
      continue;
    }
    out_buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

std::optional<nlohmann::json> AppProcess::read_message(std::chrono::milliseconds timeout) {
  auto line = read_line(timeout);
  if (!line) return std::nullopt;
  INFO("protocol line: " << *line);
  nlohmann::json message;
  REQUIRE_NOTHROW(message = nlohmann::json::parse(*line));
  return message;
}

std::optional<nlohmann::json> AppProcess::read_until(const std::string& type,
                                                     std::vector<nlohmann::json>* before,
                                                     std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto message = read_message(left.count() > 0 ? left : std::chrono::milliseconds(0));
    if (!message) return std::nullopt;
    if (message->value("type", "") == type) return message;
    if (before != nullptr) before->push_back(std::move(*message));
  }
}

std::string AppProcess::read_all(std::chrono::milliseconds timeout) {
  std::string all;
  while (auto line = read_line(timeout)) all += *line + "\n";
  all += out_buffer_;
  out_buffer_.clear();
  return all;
}

std::string AppProcess::error_output() const {
  std::lock_guard lock(err_mutex_);
  return err_text_;
}

bool AppProcess::wait_for_error_output(const std::string& needle,
                                       std::chrono::milliseconds timeout) {
  std::unique_lock lock(err_mutex_);
  return err_changed_.wait_for(lock, timeout,
                               [&] { return err_text_.find(needle) != std::string::npos; });
}

bool AppProcess::wait_for_error_end(std::chrono::milliseconds timeout) {
  std::unique_lock lock(err_mutex_);
  return err_changed_.wait_for(lock, timeout, [this] { return err_ended_; });
}

void AppProcess::signal(int number) const { ::kill(pid_, number); }

std::optional<int> AppProcess::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      status_ = decode_status(status);
      // The last bytes of stderr may still be on their way to the reader thread: after wait(),
      // error_output() holds everything the child wrote.
      wait_for_error_end(
          std::max(std::chrono::milliseconds(0),
                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())));
      return status_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    // Wait on stdout instead of sleeping: it closes when the child exits.
    if (!out_eof_) {
      pollfd poll_fd{out_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 10) > 0) {
        char chunk[65536];
        const ssize_t got = ::read(out_, chunk, sizeof chunk);
        if (got > 0) {
          out_buffer_.append(chunk, static_cast<std::size_t>(got));
        } else if (got == 0) {
          out_eof_ = true;
        }
      }
    } else {
      std::unique_lock lock(err_mutex_);
      err_changed_.wait_for(lock, std::chrono::milliseconds(5));
    }
  }
}

ProgramResult run_program(const std::vector<std::string>& argv,
                          const std::vector<std::string>& environment) {
  AppProcess process(argv, environment);
  process.close_stdin();
  ProgramResult result;
  result.out = process.read_all(30s);
  const auto status = process.wait(30s);
  result.status = status ? *status : -1;
  result.err = process.error_output();
  return result;
}

ScopedEnv::ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
  if (const char* old = std::getenv(name_.c_str()); old != nullptr) previous_ = old;
  ::setenv(name_.c_str(), value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (previous_) {
    ::setenv(name_.c_str(), previous_->c_str(), 1);
  } else {
    ::unsetenv(name_.c_str());
  }
}

}  // namespace infsh::testing
