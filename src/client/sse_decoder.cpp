#include "sse_decoder.hpp"

#include <string>
#include <utility>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

[[noreturn]] void throw_oversized(std::size_t max_event_bytes) {
  throw DecodeError("SSE event exceeds " + std::to_string(max_event_bytes) + " bytes");
}

bool is_blank(std::string_view text) noexcept {
  return text.find_first_not_of(" \t\n\r") == std::string_view::npos;
}

}  // namespace

void SseFramer::feed(std::string_view bytes,
                     const std::function<void(SseMessage&& message)>& on_message,
                     const std::function<void(std::string_view comment)>& on_comment) {
  // A UTF-8 byte order mark may open the stream, possibly split across chunks. Until it is
  // ruled in or out, the bytes that match its start wait in bom_prefix_.
  while (!bom_checked_ && !bytes.empty()) {
    if (bytes.front() != kByteOrderMark[bom_prefix_.size()]) {
      bom_checked_ = true;  // what bom_prefix_ holds is the start of the first line
      const std::string held = std::move(bom_prefix_);
      bom_prefix_.clear();
      split(held, on_message, on_comment);
      break;
    }
    bom_prefix_ += bytes.front();
    bytes.remove_prefix(1);
    if (bom_prefix_.size() == kByteOrderMark.size()) {
      bom_prefix_.clear();
      bom_checked_ = true;
    }
  }
  split(bytes, on_message, on_comment);
}

void SseFramer::split(std::string_view bytes,
                      const std::function<void(SseMessage&& message)>& on_message,
                      const std::function<void(std::string_view comment)>& on_comment) {
  // The event so far plus the line being read: this bounds every buffer the framer holds.
  const bool fitted = splitter_.feed(
      bytes,
      [this](std::size_t length) { return current_.data.size() + length <= max_event_bytes_; },
      [&](std::string_view line) { process_line(line, on_message, on_comment); });
  if (!fitted) {
    current_ = SseMessage{};
    has_data_ = false;
    throw_oversized(max_event_bytes_);
  }
}

void SseFramer::finish() {
  splitter_.reset();
  bom_prefix_.clear();
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
