// libFuzzer target for the NDJSON framer and decoder. See fuzz_support.hpp for the input layout.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"
#include "ndjson_decoder.hpp"

using inferencesh::detail::NdjsonDecoder;
using inferencesh::detail::NdjsonFramer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input input = fuzz::read_input(data, size);

  // The framer keeps no more than the bound and hands out only whole, non-blank lines.
  NdjsonFramer framer(input.max_bytes);
  const auto on_line = [&](std::string_view line) {
    fuzz::require(line.size() <= input.max_bytes, "a line longer than the bound");
    fuzz::require(line.find_first_of("\r\n") == std::string_view::npos, "a line with a CR or LF");
    fuzz::require(line.find_first_not_of(" \t") != std::string_view::npos, "a blank line");
  };
  try {
    for (const auto chunk : input.chunks) {
      framer.feed(chunk, on_line);
      fuzz::require(framer.pending_bytes() <= input.max_bytes, "more pending than the bound");
    }
    framer.finish(on_line);
    fuzz::require(framer.pending_bytes() == 0, "bytes pending after finish");
  } catch (const inferencesh::DecodeError&) {
  }

  // Where the chunks are cut never changes what is decoded.
  const auto whole = fuzz::decode<NdjsonDecoder>({input.stream}, input.max_bytes);
  const auto split = fuzz::decode<NdjsonDecoder>(input.chunks, input.max_bytes);
  fuzz::require(whole == split, "split input decoded differently from whole input");
  return 0;
}
