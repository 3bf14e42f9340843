#include "stdio_redirect.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <system_error>

namespace infsh::detail {

PrivateStreams take_private_streams(bool take_stdin) {
  std::cout.flush();
  std::fflush(stdout);
  PrivateStreams streams;
  streams.out = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (streams.out < 0)
    throw std::runtime_error("cannot duplicate stdout: " + std::generic_category().message(errno));
  if (take_stdin) {
    streams.in = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    if (streams.in < 0)
      throw std::runtime_error("cannot duplicate stdin: " + std::generic_category().message(errno));
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDIN_FILENO);
      ::close(null);
    }
  }
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  return streams;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

std::optional<LineReader::Line> LineReader::next() {
  for (;;) {
    const auto newline = buffer_.find('\n', scanned_);
    if (newline != std::string::npos) {
      Line line;
      if (skipping_) {
        line.too_long = true;
        skipping_ = false;
      } else {
        line.text = buffer_.substr(0, newline);
      }
      buffer_.erase(0, newline + 1);
      scanned_ = 0;
      return line;
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > max_line_) {
      skipping_ = true;  // drop what we have; the rest of the line is dropped as it arrives
      buffer_.clear();
      scanned_ = 0;
    }
    if (eof_) {
      if (buffer_.empty() && !skipping_) return std::nullopt;
      Line line;
      line.too_long = skipping_;
      if (!skipping_) line.text = std::move(buffer_);
      buffer_.clear();
      scanned_ = 0;
      skipping_ = false;
      return line;
    }
    std::array<char, 65536> chunk;
    const ssize_t got = ::read(fd_, chunk.data(), chunk.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      eof_ = true;
      continue;
    }
    if (got == 0) {
      eof_ = true;
      continue;
    }
    buffer_.append(chunk.data(), static_cast<std::size_t>(got));
  }
}

}  // namespace infsh::detail
