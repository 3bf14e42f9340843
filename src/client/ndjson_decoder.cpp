#include "ndjson_decoder.hpp"

#include <string>
#include <utility>

#include "inferencesh/errors.hpp"

namespace inferencesh::detail {
namespace {

bool is_blank(std::string_view line) noexcept {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

[[noreturn]] void throw_oversized(std::size_t max_line_bytes) {
  throw DecodeError("NDJSON line exceeds " + std::to_string(max_line_bytes) + " bytes");
}

}  // namespace

void NdjsonFramer::feed(std::string_view bytes,
                        const std::function<void(std::string_view line)>& on_line) {
  const bool fitted = splitter_.feed(
      bytes, [this](std::size_t length) { return length <= max_line_bytes_; },
      [&on_line](std::string_view line) {
        if (!is_blank(line)) on_line(line);
      });
  if (!fitted) throw_oversized(max_line_bytes_);
}

void NdjsonFramer::finish(const std::function<void(std::string_view line)>& on_line) {
  const std::string line = splitter_.take_pending();
  if (!is_blank(line)) on_line(line);
}

void NdjsonDecoder::feed(std::string_view bytes, const Sink& sink) {
  framer_.feed(bytes, [&sink](std::string_view line) { sink(classify_payload(line)); });
}

void NdjsonDecoder::finish(const Sink& sink) {
  framer_.finish([&sink](std::string_view line) { sink(classify_payload(line)); });
}

}  // namespace inferencesh::detail
