#pragma once

// Shared by the decoder fuzz targets. An input's first two bytes steer the run; the rest is the
// stream:
//   byte 0: the size bound; 0 means the default (16 MiB), n means 4 * n bytes.
//   byte 1: seed of the chunk sizes the stream is cut into.
// Each target decodes the stream in one chunk and again cut into small chunks, and aborts when
// the two runs disagree: same events in the same order, and the same error, if any.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "inferencesh/errors.hpp"
#include "stream_event.hpp"

namespace fuzz {

struct Input {
  std::size_t max_bytes = inferencesh::detail::kDefaultMaxEventBytes;
  std::vector<std::string_view> chunks;  // the stream cut into small pieces
  std::string_view stream;               // the stream whole
};

inline Input read_input(const std::uint8_t* data, std::size_t size) {
  Input input;
  if (size < 2) return input;
  if (data[0] != 0) input.max_bytes = std::size_t{4} * data[0];
  std::uint32_t state = 0x9E3779B9u ^ data[1];
  input.stream = std::string_view(reinterpret_cast<const char*>(data + 2), size - 2);
  std::size_t offset = 0;
  while (offset < input.stream.size()) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    // Mostly tiny chunks (where the boundaries fall is what matters), now and then an empty one
    // or a larger one.
    std::size_t length = state % 8;
    if (state % 29 == 0) length = 64 + state % 256;
    if (length > input.stream.size() - offset) length = input.stream.size() - offset;
    input.chunks.push_back(input.stream.substr(offset, length));
    offset += length;
  }
  return input;
}

inline std::string describe(const inferencesh::detail::StreamEvent& event) {
  using Kind = inferencesh::detail::StreamEvent::Kind;
  std::string out;
  switch (event.kind) {
    case Kind::object:
      out = "object ";
      break;
    case Kind::partial:
      out = "partial ";
      break;
    case Kind::typed:
      out = "typed:" + event.event + " ";
      break;
    case Kind::heartbeat:
      out = "heartbeat ";
      break;
    case Kind::invalid:
      return "invalid " + event.error;
  }
  out += event.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const auto& field : event.fields) out += " " + field;
  return out;
}

// Events, then "error: <message>" if decoding stopped with a DecodeError.
template <typename Decoder>
std::vector<std::string> decode(const std::vector<std::string_view>& chunks, std::size_t max) {
  Decoder decoder(max);
  std::vector<std::string> outcome;
  const auto sink = [&](inferencesh::detail::StreamEvent&& event) {
    outcome.push_back(describe(event));
  };
  try {
    for (const auto chunk : chunks) decoder.feed(chunk, sink);
    decoder.finish(sink);
  } catch (const inferencesh::DecodeError& error) {
    outcome.push_back(std::string("error: ") + error.what());
  }
  return outcome;
}

inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace fuzz
