#include "sse_decoder.hpp"

#include <cstring>
#include <string>
#include <utility>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

[[noreturn]] void throw_oversized(std::size_t max_event_bytes) {
  throw DecodeError("SSE event exceeds " + std::to_string(max_event_bytes) + " bytes");
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

bool is_blank(std::string_view text) noexcept {
  for (const char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

}  // namespace

void SseFramer::feed(std::string_view bytes,
                     const std::function<void(SseMessage&& message)>& on_message,
                     const std::function<void(std::string_view comment)>& on_comment) {
  // A UTF-8 byte order mark may open the stream, possibly split across chunks. Until it is
  // ruled in or out, the bytes that match its start wait in line_.
  while (!bom_checked_ && !bytes.empty()) {
    if (bytes.front() != kByteOrderMark[line_.size()]) {
      bom_checked_ = true;  // what line_ holds is the start of the first line
      break;
    }
    line_ += bytes.front();
    bytes.remove_prefix(1);
    if (line_.size() == kByteOrderMark.size()) {
      line_.clear();
      bom_checked_ = true;
    }
  }

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

    // The event so far plus the line being read; this bounds every buffer the framer holds.
    if (current_.data.size() + line_.size() + length > max_event_bytes_) {
      line_.clear();
      current_ = SseMessage{};
      has_data_ = false;
      throw_oversized(max_event_bytes_);
    }
    if (terminator == end) {
      line_.append(position, length);
      return;
    }

    if (line_.empty()) {
      process_line(std::string_view(position, length), on_message, on_comment);
    } else {
      const ClearOnExit clear{line_};
      line_.append(position, length);
      process_line(line_, on_message, on_comment);
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

void SseFramer::finish() {
  line_.clear();
  after_cr_ = false;
  bom_checked_ = false;  // a new connection may open with a byte order mark again
  current_ = SseMessage{};
  has_data_ = false;
  // last_id_ survives: per the standard the last event ID outlives a connection.
}

void SseFramer::process_line(std::string_view line,
                             const std::function<void(SseMessage&& message)>& on_message,
                             const std::function<void(std::string_view comment)>& on_comment) {
  if (line.empty()) {
    // A blank line dispatches the event assembled so far.
    SseMessage message;
    message.event = std::move(current_.event);
    message.data = std::move(current_.data);
    current_ = SseMessage{};
    const bool dispatch = has_data_ && !message.data.empty();
    has_data_ = false;
    if (dispatch) {
      message.id = last_id_;
      on_message(std::move(message));
    }
    return;
  }
  if (line.front() == ':') {
    on_comment(line.substr(1));
    return;
  }

  std::string_view field = line;
  std::string_view value;
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  if (field == "data") {
    if (has_data_) current_.data += '\n';
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    current_.event.assign(value);
  } else if (field == "id") {
    // An id containing NUL is ignored, as the standard says.
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  }
  // "retry" and unknown fields are ignored.
}

void SseDecoder::feed(std::string_view bytes, const Sink& sink) {
  framer_.feed(
      bytes,
      [&sink](SseMessage&& message) {
        // Data that is only whitespace carries no payload, like a blank NDJSON line.
        if (is_blank(message.data)) return;
        sink(classify_payload(message.data, message.event));
      },
      [&sink](std::string_view /*comment*/) {
        StreamEvent heartbeat;
        heartbeat.kind = StreamEvent::Kind::heartbeat;
        sink(std::move(heartbeat));
      });
}

void SseDecoder::finish(const Sink& /*sink*/) { framer_.finish(); }

}  // namespace inferencesh::detail
