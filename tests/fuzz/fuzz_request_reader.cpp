// libFuzzer target for the local runtime's request reader (src/local/http/request_reader.cpp), the
// code its connections parse requests with: heads, Content-Length and chunked bodies, chunk
// extensions, trailers, transfer codings, pipelined requests, and the limits on all of them.
//
// Input: byte 0 sets the head limit (64 + 16 * n bytes), byte 1 seeds the sizes the stream is
// cut into, byte 2 the body limit (0: none, else 16 * n bytes); the rest is what a client sends.
// The bytes go through space()/commit() as the connection receives them, once in the largest
// pieces the reader takes and once in small pieces; both must tell the same story up to an
// error.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_reader.hpp"

using infsh::local::RequestLimits;
using infsh::local::RequestReader;

namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

struct Setup {
  RequestLimits limits;
  std::optional<std::uint64_t> body_limit;
  std::uint8_t seed = 0;
  std::string_view stream;
};

// Feeds `stream` to a reader in pieces no larger than `piece` (0: as large as the reader takes)
// and tells what came out, one line per event, bodies whole.
std::vector<std::string> read_all(const Setup& setup, std::size_t piece) {
  RequestReader reader(setup.limits);
  std::vector<std::string> story;
  std::string body;
  std::uint32_t state = 0x9E3779B9u ^ setup.seed;
  std::size_t offset = 0;
  bool stopped = false;
  while (!stopped) {
    // Parse what is buffered.
    for (;;) {
      const auto event = reader.next();
      require(reader.buffered() <= reader.buffer_limit(), "more buffered than the limit");
      if (event.kind == RequestReader::Kind::need_more) break;
      if (event.kind == RequestReader::Kind::head) {
        auto& request = reader.request();
        std::size_t head_bytes = 0;
        std::string line = "head " + request.method + " " + request.path + " ?" + request.query +
                           (request.keep_alive ? " keep-alive" : " close") +
                           (request.has_body ? " body" : "") +
                           (reader.expects_continue() ? " 100" : "");
        for (const auto& [name, value] : request.headers) {
          head_bytes += name.size() + value.size();
          line += " [" + name + ": " + value + "]";
        }
        require(head_bytes <= setup.limits.max_header_bytes, "a head larger than its limit");
        story.push_back(line);
        body.clear();
        if (setup.body_limit) {
          if (const auto refusal = reader.limit_body(*setup.body_limit)) {
            story.push_back("refused 413 " + *refusal);
            stopped = true;
            break;
          }
        }
      } else if (event.kind == RequestReader::Kind::body) {
        require(!event.body.empty(), "an empty body piece");
        body.append(event.body);
        require(!setup.body_limit || body.size() <= *setup.body_limit,
                "a body larger than its limit");
      } else if (event.kind == RequestReader::Kind::done) {
        story.push_back("done " + body);
        reader.start_next();
      } else {
        require(event.status >= 400 && event.status < 600, "an error without a status");
        require(!event.message.empty(), "an error without a message");
        require(reader.next().kind == RequestReader::Kind::error, "an error that went away");
        story.push_back("error " + std::to_string(event.status) + " " + event.message);
        stopped = true;
        break;
      }
    }
    if (stopped || offset == setup.stream.size()) break;
    // Receive the next piece.
    const auto space = reader.space();
    require(space.size > 0, "no room to receive into");
    std::size_t length = space.size;
    if (piece > 0) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      length = std::min<std::size_t>(length, 1 + state % piece);
    }
    length = std::min(length, setup.stream.size() - offset);
    std::copy_n(setup.stream.data() + offset, length, space.data);
    reader.commit(length);
    offset += length;
  }
  return story;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  Setup setup;
  setup.limits.max_header_bytes = 64 + std::size_t{16} * data[0];
  setup.seed = data[1];
  if (data[2] != 0) setup.body_limit = std::uint64_t{16} * data[2];
  setup.stream = std::string_view(reinterpret_cast<const char*>(data + 3), size - 3);

  auto whole = read_all(setup, 0);
  auto split = read_all(setup, 7);
  // Where the bytes were cut may change which error a broken request gets, and when: Beast
  // parses a head that arrives whole at once, but waits for the end of a head that trickles in
  // before it looks at it (a malformed field is then an error only once the head ends, or a head
  // over the limit). The events before it may not change.
  const auto is_error = [](const std::vector<std::string>& story) {
    return !story.empty() && story.back().rfind("error ", 0) == 0;
  };
  if (is_error(whole)) whole.pop_back();
  if (is_error(split)) split.pop_back();
  if (whole != split) {
    for (const auto& line : whole) std::fprintf(stderr, "whole: %s\n", line.c_str());
    for (const auto& line : split) std::fprintf(stderr, "split: %s\n", line.c_str());
  }
  require(whole == split, "split input read differently from whole input");
  return 0;
}
