#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace inferencesh::detail {

/// Splits a byte stream into lines as chunks arrive. A line ends at LF, CRLF or CR, also when
/// the CR and the LF arrive in different chunks. Complete lines inside a chunk are handed out as
/// views into the chunk; only an unfinished line is copied and kept. Every byte is scanned at
/// most once per terminator kind, so splitting is linear in the input. Shared by the NDJSON and
/// SSE framers.
class LineSplitter {
 public:
  /// Calls `on_line(std::string_view)` for each complete line (empty ones included), without its
  /// terminator. Before a line grows, `fits(length)` is asked whether a line of that many bytes
  /// is acceptable; when it says no, the unfinished line is dropped and false is returned (the
  /// caller reports the oversized line). Returns true otherwise.
  template <typename Fits, typename OnLine>
  [[nodiscard]] bool feed(std::string_view bytes, Fits&& fits, OnLine&& on_line);

  /// The unfinished line, which is then forgotten: the end of input.
  std::string take_pending() {
    after_cr_ = false;
    std::string line;
    line.swap(partial_);
    return line;
  }

  /// Bytes held for an unfinished line.
  std::size_t pending_bytes() const noexcept { return partial_.size(); }

  void reset() noexcept {
    partial_.clear();
    after_cr_ = false;
  }

 private:
  // The next occurrence of `byte` in [from, end), or `end`.
  static const char* find_byte(const char* from, const char* end, char byte) noexcept {
    if (from == end) return end;  // an empty chunk may have a null data pointer
    const void* found = std::memchr(from, byte, static_cast<std::size_t>(end - from));
    return found == nullptr ? end : static_cast<const char*>(found);
  }

  // Empties the kept line when a line was handed out, also when the callback throws, so the
  // buffer keeps its capacity but never a stale line.
  struct ClearOnExit {
    std::string& buffer;
    ~ClearOnExit() { buffer.clear(); }
  };

  std::string partial_;
  bool after_cr_ = false;  // the previous chunk ended with CR: a leading LF belongs to it
};

template <typename Fits, typename OnLine>
bool LineSplitter::feed(std::string_view bytes, Fits&& fits, OnLine&& on_line) {
  const char* position = bytes.data();
  const char* const end = position + bytes.size();
  if (after_cr_ && position != end) {
    after_cr_ = false;
    if (*position == '\n') ++position;  // the LF of a CRLF split across chunks
  }

  const char* next_lf = find_byte(position, end, '\n');
  const char* next_cr = find_byte(position, end, '\r');
  while (position != end) {
    if (next_lf < position) next_lf = find_byte(position, end, '\n');
    if (next_cr < position) next_cr = find_byte(position, end, '\r');
    const char* const terminator = next_lf < next_cr ? next_lf : next_cr;
    const auto length = static_cast<std::size_t>(terminator - position);

    if (!fits(partial_.size() + length)) {
      partial_.clear();
      return false;
    }
    if (terminator == end) {
      partial_.append(position, length);
      return true;
    }
    if (partial_.empty()) {
      on_line(std::string_view(position, length));
    } else {
      const ClearOnExit clear{partial_};
      partial_.append(position, length);
      on_line(std::string_view(partial_));
    }

    position = terminator + 1;
    if (*terminator == '\r') {
      if (position == end) {
        after_cr_ = true;
      } else if (*position == '\n') {
        ++position;
      }
    }
  }
  return true;
}

}  // namespace inferencesh::detail
