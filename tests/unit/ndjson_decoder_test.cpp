#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "inferencesh/errors.hpp"
#include "ndjson_decoder.hpp"

using inferencesh::DecodeError;
using inferencesh::detail::NdjsonDecoder;
using inferencesh::detail::NdjsonFramer;
using inferencesh::detail::StreamEvent;

namespace {

// One line per event, easy to compare and readable when a test fails.
std::string describe(const StreamEvent& event) {
  std::string out;
  switch (event.kind) {
    case StreamEvent::Kind::object:
      out = "object";
      break;
    case StreamEvent::Kind::partial:
      out = "partial";
      break;
    case StreamEvent::Kind::typed:
      out = "typed:" + event.event;
      break;
    case StreamEvent::Kind::heartbeat:
      out = "heartbeat";
      break;
    case StreamEvent::Kind::invalid:
      return "invalid: " + event.error;
  }
  out += " " + event.data.dump();
  if (!event.fields.empty()) {
    out += " fields=";
    for (const auto& field : event.fields) out += field + ",";
  }
  return out;
}

// Decodes `chunks` one after the other, then finishes.
std::vector<std::string> decode_chunks(const std::vector<std::string_view>& chunks,
                                       std::size_t max_line_bytes = 1024) {
  NdjsonDecoder decoder(max_line_bytes);
  std::vector<std::string> events;
  const auto sink = [&](StreamEvent&& event) { events.push_back(describe(event)); };
  for (const auto chunk : chunks) decoder.feed(chunk, sink);
  decoder.finish(sink);
  return events;
}

std::vector<std::string> decode(std::string_view input) { return decode_chunks({input}); }

// The message of the DecodeError that `run` throws; a test fails on it when nothing is thrown.
template <typename Run>
std::string decode_error_of(Run&& run) {
  try {
    run();
  } catch (const DecodeError& error) {
    return error.what();
  }
  return "(no DecodeError was thrown)";
}

// Why the first refused line of `input` was refused.
std::string invalid_of(const std::vector<std::string>& events) {
  for (const auto& event : events) {
    if (event.rfind("invalid: ", 0) == 0) return event.substr(9);
  }
  return "(no line was refused)";
}
std::string invalid_of(std::string_view input) { return invalid_of(decode(input)); }

std::vector<std::string> decode_byte_by_byte(std::string_view input) {
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < input.size(); ++i) chunks.push_back(input.substr(i, 1));
  return decode_chunks(chunks);
}

// The lines a framer hands out for `chunks`, then finish.
std::vector<std::string> frame_chunks(const std::vector<std::string_view>& chunks,
                                      std::size_t max_line_bytes = 1024) {
  NdjsonFramer framer(max_line_bytes);
  std::vector<std::string> lines;
  const auto on_line = [&](std::string_view line) { lines.emplace_back(line); };
  for (const auto chunk : chunks) framer.feed(chunk, on_line);
  framer.finish(on_line);
  return lines;
}

// A task stream with every kind of line, every line ending, blank lines, multi-byte UTF-8 and a
// last line without a terminator.
const std::string kStream =
    "{\"id\":\"task_1\",\"status\":7,\"output\":{\"text\":\"h\xC3\xA9llo \xE2\x80\x94 "
    "\xE6\x97\xA5\xE6\x9C\xAC\"}}\n"
    "{\"data\":{\"status\":9},\"fields\":[\"status\"]}\r\n"
    "\n"
    "  \t \r\n"
    "{\"event\":\"chat_messages\",\"data\":{\"id\":\"m1\"},\"fields\":[\"content\"]}\r"
    "{\"type\":\"heartbeat\"}\r\n"
    "\r"
    "{\"data\":{\"output\":\"x\"}}\n"
    "  {\"id\":\"task_1\",\"status\":10}  ";

const std::vector<std::string> kStreamEvents = {
    "object {\"id\":\"task_1\",\"output\":{\"text\":\"h\xC3\xA9llo \xE2\x80\x94 "
    "\xE6\x97\xA5\xE6\x9C\xAC\"},\"status\":7}",
    "partial {\"status\":9} fields=status,",
    "typed:chat_messages {\"id\":\"m1\"} fields=content,",
    "heartbeat null",
    "partial {\"output\":\"x\"}",
    "object {\"id\":\"task_1\",\"status\":10}",
};

}  // namespace

TEST_CASE("a stream in one chunk decodes to one event per non-blank line") {
  CHECK(decode(kStream) == kStreamEvents);
}

TEST_CASE("a stream split at every byte position decodes to the same events") {
  for (std::size_t split = 0; split <= kStream.size(); ++split) {
    INFO("split at " << split);
    const std::string_view input = kStream;
    REQUIRE(decode_chunks({input.substr(0, split), input.substr(split)}) == kStreamEvents);
  }
}

TEST_CASE("a stream fed byte by byte decodes to the same events") {
  CHECK(decode_byte_by_byte(kStream) == kStreamEvents);
}

TEST_CASE("a stream split into three pieces anywhere frames the same lines") {
  const std::string_view input = kStream;
  const auto expected = frame_chunks({input});
  REQUIRE(expected.size() == 6);
  for (std::size_t first = 0; first <= input.size(); ++first) {
    for (std::size_t second = first; second <= input.size(); ++second) {
      INFO("split at " << first << " and " << second);
      REQUIRE(frame_chunks({input.substr(0, first), input.substr(first, second - first),
                            input.substr(second)}) == expected);
    }
  }
}

TEST_CASE("LF, CRLF and a bare CR each end a line") {
  CHECK(frame_chunks({"{\"a\":1}\n{\"a\":2}\r\n{\"a\":3}\r{\"a\":4}\n"}) ==
        std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}", "{\"a\":4}"});
}

TEST_CASE("a CR ending one chunk and an LF starting the next end one line") {
  NdjsonFramer framer;
  std::vector<std::string> lines;
  const auto on_line = [&](std::string_view line) { lines.emplace_back(line); };
  framer.feed("{\"a\":1}\r", on_line);
  CHECK(lines == std::vector<std::string>{"{\"a\":1}"});
  CHECK(framer.pending_bytes() == 0);
  framer.feed("\n{\"a\":2}", on_line);
  CHECK(framer.pending_bytes() == 7);
  framer.feed("\r", on_line);
  framer.feed("\r", on_line);  // a second CR is a (blank) line of its own, not swallowed
  framer.feed("\n", on_line);
  framer.feed("{\"a\":3}\n", on_line);
  framer.finish(on_line);
  CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"});
}

TEST_CASE("an LF after a CR is not swallowed once another byte came in between") {
  // "\r" ends line 1; "x" starts line 2; the LF after it ends line 2 rather than being taken
  // as the second half of the earlier CRLF.
  CHECK(frame_chunks({"1\r", "x", "\n"}) == std::vector<std::string>{"1", "x"});
  CHECK(frame_chunks({"1\r", "", "\n2\n"}) == std::vector<std::string>{"1", "2"});
}

TEST_CASE("blank and whitespace-only lines are skipped") {
  CHECK(frame_chunks({"\n\n \n\t\r\n\r\r{}\n   \n"}) == std::vector<std::string>{"{}"});
  CHECK(decode("\n \n\r\n").empty());
}

TEST_CASE("lines keep their inner and surrounding spaces") {
  CHECK(frame_chunks({"  { }  \n"}) == std::vector<std::string>{"  { }  "});
}

TEST_CASE("a last line without a terminator is delivered by finish") {
  NdjsonDecoder decoder;
  std::vector<std::string> events;
  const auto sink = [&](StreamEvent&& event) { events.push_back(describe(event)); };
  decoder.feed("{\"id\":\"a\"}\n{\"id\":", sink);
  decoder.feed("\"b\"}", sink);
  CHECK(events == std::vector<std::string>{"object {\"id\":\"a\"}"});
  decoder.finish(sink);
  CHECK(events == std::vector<std::string>{"object {\"id\":\"a\"}", "object {\"id\":\"b\"}"});
  decoder.finish(sink);  // nothing left to deliver
  CHECK(events.size() == 2);
}

TEST_CASE("a lone CR at the end of the input does not swallow the next stream's first byte") {
  NdjsonFramer framer;
  std::vector<std::string> lines;
  const auto on_line = [&](std::string_view line) { lines.emplace_back(line); };
  framer.feed("1\r", on_line);
  framer.finish(on_line);
  framer.feed("\n2\n", on_line);
  CHECK(lines == std::vector<std::string>{"1", "2"});
}

TEST_CASE("a multi-byte UTF-8 character split across chunks decodes") {
  // "日" is E6 97 A5: split after each of its bytes.
  const std::string line = "{\"t\":\"\xE6\x97\xA5\"}\n";
  const std::string_view input = line;
  for (std::size_t split = 7; split <= 9; ++split) {
    CHECK(decode_chunks({input.substr(0, split), input.substr(split)}) ==
          std::vector<std::string>{"object {\"t\":\"\xE6\x97\xA5\"}"});
  }
}

TEST_CASE("invalid UTF-8 in a line is refused as an invalid event") {
  const char* const bad_lines[] = {
      "{\"t\":\"\xFF\"}\n",                  // a byte that never occurs in UTF-8
      "{\"t\":\"\xE6\x97\"}\n",              // a truncated three-byte sequence
      "{\"t\":\"\xC0\xAF\"}\n",              // an overlong encoding of '/'
      "{\"t\":\"\xED\xA0\x80\"}\n",          // a UTF-16 surrogate
      "{\"t\":\"\xF4\x90\x80\x80\"}\n",      // beyond U+10FFFF
      "{\"t\":\"ok\"}\n{\"t\":\"\x80\"}\n",  // a stray continuation byte on a later line
  };
  for (const char* line : bad_lines) {
    INFO(line);
    CHECK_THAT(invalid_of(line), Catch::Matchers::Contains("stream line is not valid UTF-8"));
  }
}

TEST_CASE("invalid UTF-8 fed byte by byte is still refused") {
  CHECK_THAT(invalid_of(decode_byte_by_byte("{\"t\":\"\xE6\x97\"}\n")),
             Catch::Matchers::StartsWith("stream line is not valid UTF-8"));
}

TEST_CASE("invalid JSON is refused as an invalid event that quotes the line") {
  CHECK_THAT(invalid_of("{\"id\": nope}\n"),
             Catch::Matchers::StartsWith("stream line is not valid JSON (") &&
                 Catch::Matchers::EndsWith("): \"{\"id\": nope}\""));
  CHECK_THAT(invalid_of("{\"id\":1}{\"id\":2}\n"),
             Catch::Matchers::StartsWith("stream line is not valid JSON ("));
  CHECK_THAT(invalid_of("{\"id\":1\n"),
             Catch::Matchers::StartsWith("stream line is not valid JSON ("));
}

TEST_CASE("a refusal quotes at most the first 80 bytes of a long line") {
  const std::string line = "{\"t\":" + std::string(200, 'x') + "}";
  CHECK_THAT(invalid_of(line + "\n"),
             Catch::Matchers::EndsWith("\"" + line.substr(0, 80) + "\"..."));
}

TEST_CASE("a refusal escapes control and invalid bytes") {
  CHECK_THAT(invalid_of("{\"t\":\"\xFF\x01\"}\n"),
             Catch::Matchers::EndsWith("\"{\"t\":\"\\xff\\x01\"}\""));
}

TEST_CASE("a JSON value that is not an object is refused as an invalid event") {
  for (const auto* line : {"[1,2]\n", "\"task\"\n", "42\n", "null\n", "true\n"}) {
    INFO(line);
    CHECK_THAT(invalid_of(line), Catch::Matchers::StartsWith("stream line is not a JSON object: "));
  }
}

TEST_CASE("a bad line becomes one invalid event and the lines after it still decode") {
  const auto events = decode("{\"a\":1}\n{\"a\":2}\nnot json\n{\"a\":3}\n");
  REQUIRE(events.size() == 4);
  CHECK(events[0] == "object {\"a\":1}");
  CHECK(events[1] == "object {\"a\":2}");
  CHECK_THAT(events[2], Catch::Matchers::StartsWith("invalid: stream line is not valid JSON ("));
  CHECK(events[3] == "object {\"a\":3}");
}

TEST_CASE("a line longer than the bound is a DecodeError naming the bound") {
  const std::string line = "{\"t\":\"" + std::string(10, 'x') + "\"}";  // 18 bytes
  CHECK(decode_chunks({line + "\n"}, 18).size() == 1);
  CHECK(decode_chunks({line}, 18).size() == 1);
  CHECK_THAT(decode_error_of([&] { decode_chunks({line + "\n"}, 17); }),
             Catch::Matchers::Equals("NDJSON line exceeds 17 bytes"));
  CHECK_THROWS_AS(decode_chunks({line}, 17), DecodeError);
  const std::string_view input = line;
  CHECK_THROWS_AS(decode_chunks({input.substr(0, 9), input.substr(9), "\n"}, 17), DecodeError);
}

TEST_CASE("the default bound is 16 MiB") {
  const std::string big(inferencesh::detail::kDefaultMaxEventBytes + 1, ' ');
  NdjsonFramer framer;
  CHECK_THAT(decode_error_of([&] { framer.feed(big, [](std::string_view) {}); }),
             Catch::Matchers::Equals("NDJSON line exceeds 16777216 bytes"));
}

TEST_CASE("an endless line in small chunks fails once it passes the bound") {
  NdjsonFramer framer(1000);
  const auto on_line = [](std::string_view) { FAIL("no line should be complete"); };
  std::size_t fed = 0;
  const std::string chunk(7, 'x');
  try {
    for (;;) {
      framer.feed(chunk, on_line);
      fed += chunk.size();
      REQUIRE(framer.pending_bytes() <= 1000);
      REQUIRE(fed < 2000);
    }
  } catch (const DecodeError& error) {
    CHECK(std::string(error.what()) == "NDJSON line exceeds 1000 bytes");
  }
  CHECK(fed == 994);  // the chunk that would have made it 1001 bytes is the one refused
}

TEST_CASE("complete lines inside a chunk are not buffered") {
  NdjsonFramer framer;
  std::vector<const char*> starts;
  const std::string input = "{\"a\":1}\n{\"a\":2}\n{\"a\":";
  framer.feed(input, [&](std::string_view line) { starts.push_back(line.data()); });
  REQUIRE(starts.size() == 2);
  CHECK(starts[0] == input.data());
  CHECK(starts[1] == input.data() + 8);
  CHECK(framer.pending_bytes() == 5);
}

TEST_CASE("a chunk of many CR-terminated lines is framed in one pass") {
  // A framer that searched for LF from every line start would scan ~10^12 bytes here and never
  // finish within the test timeout; the throughput itself is measured in bench/decoder_bench.
  std::string input;
  for (int i = 0; i < 1000000; ++i) input += "{}\r";
  std::size_t lines = 0;
  NdjsonFramer framer;
  framer.feed(input, [&](std::string_view) { ++lines; });
  CHECK(lines == 1000000);
}

TEST_CASE("an empty chunk, even with a null data pointer, changes nothing") {
  NdjsonDecoder decoder;
  std::vector<std::string> events;
  const auto sink = [&](StreamEvent&& event) { events.push_back(describe(event)); };
  decoder.feed(std::string_view(), sink);
  decoder.feed("{\"a\":", sink);
  decoder.feed(std::string_view(), sink);
  decoder.feed("1}\r", sink);
  decoder.feed(std::string_view(), sink);
  decoder.feed("\n{}", sink);
  decoder.finish(sink);
  CHECK(events == std::vector<std::string>{"object {\"a\":1}", "object {}"});
}
