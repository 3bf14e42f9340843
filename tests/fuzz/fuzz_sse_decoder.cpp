// libFuzzer target for the SSE framer and decoder. See fuzz_support.hpp for the input layout.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"
#include "sse_decoder.hpp"

using inferencesh::detail::SseDecoder;
using inferencesh::detail::SseFramer;
using inferencesh::detail::SseMessage;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input input = fuzz::read_input(data, size);

  // Dispatched messages are within the bound, have data, and carry no line terminators except
  // the LFs that join data lines.
  SseFramer framer(input.max_bytes);
  const auto on_message = [&](SseMessage&& message) {
    fuzz::require(!message.data.empty(), "a message without data");
    fuzz::require(message.data.size() <= input.max_bytes, "data longer than the bound");
    fuzz::require(message.data.find('\r') == std::string::npos, "data with a CR");
    fuzz::require(message.event.find_first_of("\r\n") == std::string::npos, "event with CR/LF");
    fuzz::require(message.id.find_first_of("\r\n") == std::string::npos, "id with CR/LF");
    fuzz::require(message.id.find('\0') == std::string::npos, "id with NUL");
  };
  const auto on_comment = [&](std::string_view comment) {
    fuzz::require(comment.find_first_of("\r\n") == std::string_view::npos, "comment with CR/LF");
  };
  try {
    for (const auto chunk : input.chunks) framer.feed(chunk, on_message, on_comment);
    framer.finish();
  } catch (const inferencesh::DecodeError&) {
  }

  // Where the chunks are cut never changes what is decoded.
  const auto whole = fuzz::decode<SseDecoder>({input.stream}, input.max_bytes);
  const auto split = fuzz::decode<SseDecoder>(input.chunks, input.max_bytes);
  fuzz::require(whole == split, "split input decoded differently from whole input");
  return 0;
}
