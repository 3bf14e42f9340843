#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "line_splitter.hpp"
#include "stream_event.hpp"

namespace inferencesh::detail {

/// One dispatched Server-Sent Event, before its data is interpreted.
struct SseMessage {
  std::string event;  ///< the `event:` field; empty when absent
  std::string data;   ///< `data:` lines joined with "\n"
  std::string id;     ///< the last `id:` seen (SSE keeps it across events)
};

/// Server-Sent Events framing per the HTML standard: lines end at LF, CRLF or CR (also when the
/// CR and LF arrive in different chunks); `field: value` with one optional space removed; data
/// lines joined with LF; a blank line dispatches; lines starting with ':' are comments; unknown
/// fields are ignored; a leading UTF-8 BOM is skipped. Linear time, bounded event size.
class SseFramer {
 public:
  explicit SseFramer(std::size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  /// Calls `on_message` for each dispatched event with non-empty data and `on_comment` for
  /// each comment line. Throws DecodeError when one event grows beyond the bound.
  void feed(std::string_view bytes, const std::function<void(SseMessage&& message)>& on_message,
            const std::function<void(std::string_view comment)>& on_comment);

  /// End of input. Per the standard an event not terminated by a blank line is dropped.
  void finish();

 private:
  void process_line(std::string_view line,
                    const std::function<void(SseMessage&& message)>& on_message,
                    const std::function<void(std::string_view comment)>& on_comment);

  void split(std::string_view bytes, const std::function<void(SseMessage&& message)>& on_message,
             const std::function<void(std::string_view comment)>& on_comment);

  std::size_t max_event_bytes_;
  LineSplitter splitter_;
  std::string bom_prefix_;  // the first bytes while they still match a byte order mark
  bool bom_checked_ = false;
  SseMessage current_;  // fields of the event being assembled
  bool has_data_ = false;
  std::string last_id_;
};

/// SSE stream decoder: framing plus classification. An event's data is a JSON payload (classified
/// as for NDJSON: data that is not a JSON object becomes an `invalid` event); a named event
/// other than "message" becomes a typed event; comments become heartbeats; events whose data is
/// empty or only whitespace are skipped. After a DecodeError (an oversized event) the decoder
/// should not be fed again.
class SseDecoder {
 public:
  using Sink = std::function<void(StreamEvent&& event)>;

  explicit SseDecoder(std::size_t max_event_bytes = kDefaultMaxEventBytes)
      : framer_(max_event_bytes) {}

  void feed(std::string_view bytes, const Sink& sink);
  void finish(const Sink& sink);

 private:
  SseFramer framer_;
};

}  // namespace inferencesh::detail
