#include "ndjson_decoder.hpp"

#include <cstring>
#include <string>
#include <utility>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

bool is_blank(std::string_view line) noexcept {
  for (const char c : line) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

[[noreturn]] void throw_oversized(std::size_t max_line_bytes) {
  throw DecodeError("NDJSON line exceeds " + std::to_string(max_line_bytes) + " bytes");
}

// The next occurrence of `byte` in [from, end), or `end`.
const char* find_byte(const char* from, const char* end, char byte) noexcept {
  if (from == end) return end;  // an empty chunk may have a null data pointer
  const void* found = std::memchr(from, byte, static_cast<std::size_t>(end - from));
  return found == nullptr ? end : static_cast<const char*>(found);
}

// Empties a buffer when it goes out of scope, also when a callback throws, so the buffer keeps
// its capacity for the next line but never a stale line.
struct ClearOnExit {
  std::string& buffer;
  ~ClearOnExit() { buffer.clear(); }
};

}  // namespace

void NdjsonFramer::feed(std::string_view bytes,
                        const std::function<void(std::string_view line)>& on_line) {
  const char* position = bytes.data();
  const char* const end = position + bytes.size();
  if (after_cr_ && position != end) {
    after_cr_ = false;
    if (*position == '\n') ++position;  // the LF of a CRLF split across chunks
  }

  // The next LF and the next CR at or after `position`. Each is searched for again only once
  // `position` has passed it, so every byte is scanned at most once per terminator kind.
  const char* next_lf = find_byte(position, end, '\n');
  const char* next_cr = find_byte(position, end, '\r');

  while (position != end) {
    if (next_lf < position) next_lf = find_byte(position, end, '\n');
    if (next_cr < position) next_cr = find_byte(position, end, '\r');
    const char* const terminator = next_lf < next_cr ? next_lf : next_cr;
    const auto length = static_cast<std::size_t>(terminator - position);

    if (partial_.size() + length > max_line_bytes_) {
      partial_.clear();
      throw_oversized(max_line_bytes_);
    }
    if (terminator == end) {
      partial_.append(position, length);
      return;
    }

    if (partial_.empty()) {
      const std::string_view line(position, length);
      if (!is_blank(line)) on_line(line);
    } else {
      const ClearOnExit clear{partial_};
      partial_.append(position, length);
      if (!is_blank(partial_)) on_line(partial_);
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
}

void NdjsonFramer::finish(const std::function<void(std::string_view line)>& on_line) {
  after_cr_ = false;
  if (partial_.empty()) return;
  const ClearOnExit clear{partial_};
  if (!is_blank(partial_)) on_line(partial_);
}

void NdjsonDecoder::feed(std::string_view bytes, const Sink& sink) {
  framer_.feed(bytes, [&sink](std::string_view line) { sink(classify_payload(line)); });
}

void NdjsonDecoder::finish(const Sink& sink) {
  framer_.finish([&sink](std::string_view line) { sink(classify_payload(line)); });
}

}  // namespace inferencesh::detail
