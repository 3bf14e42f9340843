#pragma once

// Keeps the program's own output channel out of the app's reach: the library writes results
// (and, for workers, protocol messages) to private duplicates of stdin/stdout, while fd 1 is
// pointed at stderr, so whatever the app prints becomes log lines instead of corrupting them.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace infsh::detail {

/// Private duplicates of the original stdin/stdout (close-on-exec). -1 when not taken.
struct PrivateStreams {
  int in = -1;
  int out = -1;
};

/// Duplicates stdout (and stdin when `take_stdin`), then points fd 1 at fd 2 (line-buffered)
/// and fd 0 at /dev/null. Throws std::runtime_error when a descriptor cannot be duplicated.
PrivateStreams take_private_streams(bool take_stdin);

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes; false on error (EPIPE).
bool write_all(int fd, std::string_view bytes);

/// Reads newline-terminated lines from a descriptor. Lines longer than `max_line` are skipped
/// and reported as too long.
class LineReader {
 public:
  LineReader(int fd, std::size_t max_line) : fd_(fd), max_line_(max_line) {}

  struct Line {
    std::string text;
    bool too_long = false;
  };

  /// The next line without its "\n"; nullopt at the end of input. A last line without "\n"
  /// is returned too.
  std::optional<Line> next();

 private:
  int fd_;
  std::size_t max_line_;
  std::string buffer_;
  std::size_t scanned_ = 0;
  bool skipping_ = false;
  bool eof_ = false;
};

}  // namespace infsh::detail
