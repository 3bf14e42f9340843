#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "line_splitter.hpp"
#include "stream_event.hpp"

namespace inferencesh::detail {

/// Splits a byte stream into lines as they arrive. Lines end at LF, CRLF or CR (JSON text never
/// contains a raw CR or LF, so all three are safe). Blank lines are dropped. Bytes of a line
/// split across chunks are kept until the line ends; each byte is looked at a bounded number
/// of times, so decoding is linear in the input.
class NdjsonFramer {
 public:
  explicit NdjsonFramer(std::size_t max_line_bytes = kDefaultMaxEventBytes)
      : max_line_bytes_(max_line_bytes) {}

  /// Calls `on_line` for every complete, non-blank line in `bytes` (without its terminator).
  /// Throws DecodeError when a line grows beyond the bound.
  void feed(std::string_view bytes, const std::function<void(std::string_view line)>& on_line);

  /// End of input: a last line without a terminator is delivered.
  void finish(const std::function<void(std::string_view line)>& on_line);

  /// Bytes held for an unfinished line.
  std::size_t pending_bytes() const noexcept { return splitter_.pending_bytes(); }

 private:
  std::size_t max_line_bytes_;
  LineSplitter splitter_;
};

/// NDJSON stream decoder: framing plus classification of each line into a StreamEvent.
///
///     NdjsonDecoder decoder;
///     decoder.feed(chunk, [](StreamEvent&& e) { ... });   // as many times as chunks arrive
///     decoder.finish([](StreamEvent&& e) { ... });        // at the end of the body
class NdjsonDecoder {
 public:
  using Sink = std::function<void(StreamEvent&& event)>;

  explicit NdjsonDecoder(std::size_t max_line_bytes = kDefaultMaxEventBytes)
      : framer_(max_line_bytes) {}

  /// A line that is not a JSON object (or too deeply nested, or not UTF-8) becomes an `invalid`
  /// event and decoding goes on with the next line. Throws DecodeError on an oversized line:
  /// events of the lines before it have been delivered by then; the rest of the stream is not
  /// decoded, and the decoder should not be fed again.
  void feed(std::string_view bytes, const Sink& sink);
  void finish(const Sink& sink);

 private:
  NdjsonFramer framer_;
};

}  // namespace inferencesh::detail
