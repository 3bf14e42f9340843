#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "inferencesh/errors.hpp"
#include "sse_decoder.hpp"

using inferencesh::DecodeError;
using inferencesh::detail::SseDecoder;
using inferencesh::detail::SseFramer;
using inferencesh::detail::SseMessage;
using inferencesh::detail::StreamEvent;

namespace {

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

std::vector<std::string> decode_chunks(const std::vector<std::string_view>& chunks,
                                       std::size_t max_event_bytes = 1024) {
  SseDecoder decoder(max_event_bytes);
  std::vector<std::string> events;
  const auto sink = [&](StreamEvent&& event) { events.push_back(describe(event)); };
  for (const auto chunk : chunks) decoder.feed(chunk, sink);
  decoder.finish(sink);
  return events;
}

std::vector<std::string> decode(std::string_view input) { return decode_chunks({input}); }

// What the framer reports for `chunks`: "message <event>|<data>|<id>" and "comment <text>".
std::vector<std::string> frame_chunks(const std::vector<std::string_view>& chunks,
                                      std::size_t max_event_bytes = 1024) {
  SseFramer framer(max_event_bytes);
  std::vector<std::string> out;
  for (const auto chunk : chunks) {
    framer.feed(
        chunk,
        [&](SseMessage&& message) {
          out.push_back("message " + message.event + "|" + message.data + "|" + message.id);
        },
        [&](std::string_view comment) { out.push_back("comment " + std::string(comment)); });
  }
  framer.finish();
  return out;
}

std::vector<std::string> frame(std::string_view input, std::size_t max_event_bytes = 1024) {
  return frame_chunks({input}, max_event_bytes);
}

std::vector<std::string_view> bytes_of(std::string_view input) {
  std::vector<std::string_view> chunks;
  for (std::size_t i = 0; i < input.size(); ++i) chunks.push_back(input.substr(i, 1));
  return chunks;
}

template <typename Run>
std::string decode_error_of(Run&& run) {
  try {
    run();
  } catch (const DecodeError& error) {
    return error.what();
  }
  return "(no DecodeError was thrown)";
}

// Why the first refused event of `events` was refused.
std::string invalid_of(const std::vector<std::string>& events) {
  for (const auto& event : events) {
    if (event.rfind("invalid: ", 0) == 0) return event.substr(9);
  }
  return "(no event was refused)";
}

// A stream with a byte order mark, comments, retry, id, named and unnamed events, multi-line
// data, LF, CRLF and CR endings, unknown fields, events that are not dispatched and a last
// event that never ends.
const std::string kStream =
    "\xEF\xBB\xBF"
    ": connected\n"
    "retry: 3000\n"
    "id: 1\n"
    "data: {\"id\":\"task_1\",\"output\":{\"text\":\"h\xC3\xA9llo \xE2\x80\x94 "
    "\xE6\x97\xA5\xE6\x9C\xAC\"}}\n"
    "\n"
    "event: chat_messages\r\n"
    "data: {\"id\":\"m1\",\r\n"
    "data:\"content\":\"x\"}\r\n"
    "\r\n"
    ":keepalive\r"
    "data:{\"data\":{\"status\":9},\"fields\":[\"status\"]}\r"
    "unknown: field\r"
    "\r"
    "event: message\n"
    "data: {\"type\":\"heartbeat\"}\n"
    "\n"
    "event: chats\n"
    "data: {\"event\":\"chats\",\"data\":{\"id\":\"c1\"}}\n"
    "\n"
    "data:\n"
    "\n"
    "event: nothing\n"
    "\n"
    "data: {\"id\":\"never dispatched\"}\n";

const std::vector<std::string> kStreamEvents = {
    "heartbeat null",
    "object {\"id\":\"task_1\",\"output\":{\"text\":\"h\xC3\xA9llo \xE2\x80\x94 "
    "\xE6\x97\xA5\xE6\x9C\xAC\"}}",
    "typed:chat_messages {\"content\":\"x\",\"id\":\"m1\"}",
    "heartbeat null",
    "partial {\"status\":9} fields=status,",
    "heartbeat null",
    "typed:chats {\"id\":\"c1\"}",
};

}  // namespace

TEST_CASE("an SSE stream in one chunk decodes to its events") {
  CHECK(decode(kStream) == kStreamEvents);
}

TEST_CASE("an SSE stream split at every byte position decodes to the same events") {
  const std::string_view input = kStream;
  for (std::size_t split = 0; split <= input.size(); ++split) {
    INFO("split at " << split);
    REQUIRE(decode_chunks({input.substr(0, split), input.substr(split)}) == kStreamEvents);
  }
}

TEST_CASE("an SSE stream fed byte by byte decodes to the same events") {
  CHECK(decode_chunks(bytes_of(kStream)) == kStreamEvents);
}

TEST_CASE("an SSE stream split into three pieces anywhere frames the same messages") {
  const std::string_view input = kStream;
  const auto expected = frame(input);
  REQUIRE(expected.size() == 7);
  for (std::size_t first = 0; first <= input.size(); ++first) {
    for (std::size_t second = first; second <= input.size(); ++second) {
      INFO("split at " << first << " and " << second);
      REQUIRE(frame_chunks({input.substr(0, first), input.substr(first, second - first),
                            input.substr(second)}) == expected);
    }
  }
}

TEST_CASE("the framer reports messages with their event name, joined data and last id") {
  CHECK(frame(kStream) ==
        std::vector<std::string>{
            "comment  connected",
            "message |{\"id\":\"task_1\",\"output\":{\"text\":\"h\xC3\xA9llo \xE2\x80\x94 "
            "\xE6\x97\xA5\xE6\x9C\xAC\"}}|1",
            "message chat_messages|{\"id\":\"m1\",\n\"content\":\"x\"}|1",
            "comment keepalive",
            "message |{\"data\":{\"status\":9},\"fields\":[\"status\"]}|1",
            "message message|{\"type\":\"heartbeat\"}|1",
            "message chats|{\"event\":\"chats\",\"data\":{\"id\":\"c1\"}}|1",
        });
}

TEST_CASE("data lines of one event are joined with LF") {
  CHECK(frame("data: a\ndata: b\ndata:\ndata: c\n\n") ==
        std::vector<std::string>{"message |a\nb\n\nc|"});
}

TEST_CASE("one space after the colon is removed and no more") {
  CHECK(frame("data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\n") ==
        std::vector<std::string>{"message |x|", "message |x|", "message | x|", "message |\tx|"});
}

TEST_CASE("a colon inside a value is kept") {
  CHECK(frame("data: a: b:c\n\n") == std::vector<std::string>{"message |a: b:c|"});
}

TEST_CASE("a field without a colon has an empty value") {
  CHECK(frame("data\ndata: x\n\n") == std::vector<std::string>{"message |\nx|"});
  CHECK(frame("event\ndata: x\n\n") == std::vector<std::string>{"message |x|"});
}

TEST_CASE("a line starting with a colon is a comment and becomes a heartbeat") {
  CHECK(frame(": ping\n:\n") == std::vector<std::string>{"comment  ping", "comment "});
  CHECK(decode(": ping\n") == std::vector<std::string>{"heartbeat null"});
}

TEST_CASE("a comment does not end the event around it") {
  CHECK(frame("data: a\n: ping\ndata: b\n\n") ==
        std::vector<std::string>{"comment  ping", "message |a\nb|"});
}

TEST_CASE("an event name applies to one event only") {
  CHECK(frame("event: chats\ndata: 1\n\ndata: 2\n\n") ==
        std::vector<std::string>{"message chats|1|", "message |2|"});
  CHECK(frame("event: a\nevent: b\ndata: 1\n\n") == std::vector<std::string>{"message b|1|"});
}

TEST_CASE("a named event is typed and the message event is not") {
  CHECK(decode("event: chats\ndata: {\"id\":\"c1\"}\n\n") ==
        std::vector<std::string>{"typed:chats {\"id\":\"c1\"}"});
  CHECK(decode("event: message\ndata: {\"id\":\"c1\"}\n\n") ==
        std::vector<std::string>{"object {\"id\":\"c1\"}"});
}

TEST_CASE("the last id is kept across events and an id with NUL is ignored") {
  const std::string input =
      std::string("id: 7\ndata: a\n\ndata: b\n\nid: x") + '\0' + "y\ndata: c\n\nid\ndata: d\n\n";
  CHECK(frame(input) ==
        std::vector<std::string>{"message |a|7", "message |b|7", "message |c|7", "message |d|"});
}

TEST_CASE("unknown fields, retry and differently cased names are ignored") {
  CHECK(frame("foo: bar\nretry: 10\nData: no\nEVENT: no\ndata: yes\n\n") ==
        std::vector<std::string>{"message |yes|"});
}

TEST_CASE("a leading byte order mark is skipped, also when split across chunks") {
  const std::string input =
      "\xEF\xBB\xBF"
      "data: x\n\n";
  CHECK(frame(input) == std::vector<std::string>{"message |x|"});
  CHECK(frame_chunks(bytes_of(input)) == std::vector<std::string>{"message |x|"});
  CHECK(frame_chunks({"\xEF", "\xBB", "\xBF", "data: x\n\n"}) ==
        std::vector<std::string>{"message |x|"});
}

TEST_CASE("only one byte order mark at the very start is skipped") {
  // The second mark makes the first line's field name "\xEF\xBB\xBF" "data", an unknown field.
  CHECK(frame("\xEF\xBB\xBF\xEF\xBB\xBF"
              "data: x\n\ndata: y\n\n") == std::vector<std::string>{"message |y|"});
  CHECK(frame("data: y\n\n\xEF\xBB\xBF"
              "data: x\n\n") == std::vector<std::string>{"message |y|"});
}

TEST_CASE("bytes that only start like a byte order mark are kept") {
  CHECK(frame("\xEF\xBB"
              "data: x\n\ndata: y\n\n") == std::vector<std::string>{"message |y|"});
  CHECK(frame_chunks({"\xEF", "\xBB", "X: 1\n", "data: y\n\n"}) ==
        std::vector<std::string>{"message |y|"});
  CHECK(frame_chunks({"\xEF", "d", "ata: y\n\n"}) == std::vector<std::string>{});
}

TEST_CASE("LF, CRLF and a bare CR each end a line and a blank line dispatches") {
  CHECK(frame("data: 1\r\rdata: 2\n\ndata: 3\r\n\r\ndata: 4\r\n\n") ==
        std::vector<std::string>{"message |1|", "message |2|", "message |3|", "message |4|"});
}

TEST_CASE("a CR ending one chunk and an LF starting the next end one line, not two") {
  // Were the LF a line of its own, it would dispatch "1" before "2" arrives.
  CHECK(frame_chunks({"data: 1\r", "\n", "data: 2\r", "\n", "\r", "\n"}) ==
        std::vector<std::string>{"message |1\n2|"});
  CHECK(frame_chunks({"data: 1\r", "\ndata: 2\r", "\n\r\n"}) ==
        std::vector<std::string>{"message |1\n2|"});
}

TEST_CASE("two CRs across a chunk boundary are two line ends") {
  CHECK(frame_chunks({"data: 1\r", "\rdata: 2\n\n"}) ==
        std::vector<std::string>{"message |1|", "message |2|"});
}

TEST_CASE("an event not ended by a blank line is dropped at the end of the stream") {
  CHECK(frame("data: 1\n\ndata: 2\n").size() == 1);
  CHECK(frame("data: 1\n\ndata: 2").size() == 1);
  SseDecoder decoder;
  std::vector<std::string> events;
  const auto sink = [&](StreamEvent&& event) { events.push_back(describe(event)); };
  decoder.feed("data: {\"id\":1}\n", sink);
  decoder.finish(sink);
  CHECK(events.empty());
  decoder.feed("data: {\"id\":2}\n\n", sink);  // a new connection starts clean
  CHECK(events == std::vector<std::string>{"object {\"id\":2}"});
}

TEST_CASE("events without data are not dispatched") {
  CHECK(frame("data:\n\nevent: x\n\nid: 3\n\n\n\n").empty());
  CHECK(decode("data:  \n\ndata: \t\ndata:\n\n").empty());
}

TEST_CASE("event data that is not JSON is refused as an invalid event") {
  CHECK_THAT(invalid_of(decode("data: not json\n\n")),
             Catch::Matchers::StartsWith("stream line is not valid JSON ("));
  CHECK_THAT(invalid_of(decode("data: [1]\n\n")),
             Catch::Matchers::StartsWith("stream line is not a JSON object"));
}

TEST_CASE("event data with invalid UTF-8 is refused as an invalid event") {
  CHECK_THAT(invalid_of(decode("data: {\"a\":\"\xFF\"}\n\n")),
             Catch::Matchers::StartsWith("stream line is not valid UTF-8"));
  CHECK_THAT(invalid_of(decode_chunks(bytes_of("data: {\"a\":\"\xE6\x97\"}\n\n"))),
             Catch::Matchers::StartsWith("stream line is not valid UTF-8"));
}

TEST_CASE("a bad event becomes one invalid event and the events after it still decode") {
  const auto events = decode(": hi\ndata: {\"a\":1}\n\ndata: nope\n\ndata: {}\n\n");
  REQUIRE(events.size() == 4);
  CHECK(events[0] == "heartbeat null");
  CHECK(events[1] == "object {\"a\":1}");
  CHECK_THAT(events[2], Catch::Matchers::StartsWith("invalid: stream line is not valid JSON ("));
  CHECK(events[3] == "object {}");
}

TEST_CASE("an event larger than the bound is a DecodeError naming the bound") {
  // "data: " + 10 bytes: the event so far plus the current line is 16 bytes.
  const std::string line = "data: " + std::string(10, 'x') + "\n\n";
  CHECK(frame(line, 16).size() == 1);
  CHECK_THAT(decode_error_of([&] { frame(line, 15); }),
             Catch::Matchers::Equals("SSE event exceeds 15 bytes"));
  CHECK_THAT(decode_error_of([&] { frame_chunks(bytes_of(line), 15); }),
             Catch::Matchers::Equals("SSE event exceeds 15 bytes"));
}

TEST_CASE("data accumulated over many lines counts toward the bound") {
  std::string input;
  for (int i = 0; i < 200; ++i) input += "data: 0123456789\n";
  input += "\n";
  CHECK(frame(input, 4000).size() == 1);  // the joined data is 200 * 11 - 1 bytes
  CHECK_THAT(decode_error_of([&] { frame(input, 1000); }),
             Catch::Matchers::Equals("SSE event exceeds 1000 bytes"));
}

TEST_CASE("the default SSE bound is 16 MiB") {
  const std::string big(inferencesh::detail::kDefaultMaxEventBytes + 1, 'x');
  SseFramer framer;
  CHECK_THAT(decode_error_of([&] {
               framer.feed(
                   big, [](SseMessage&&) {}, [](std::string_view) {});
             }),
             Catch::Matchers::Equals("SSE event exceeds 16777216 bytes"));
}

TEST_CASE("an endless SSE line in small chunks fails once it passes the bound") {
  SseFramer framer(1000);
  std::size_t fed = 0;
  const std::string chunk = "xxxxxxx";
  const auto message = [](SseMessage&&) { FAIL("nothing should be dispatched"); };
  const auto comment = [](std::string_view) { FAIL("nothing should be dispatched"); };
  const std::string error = decode_error_of([&] {
    for (;;) {
      framer.feed(chunk, message, comment);
      fed += chunk.size();
      REQUIRE(fed < 2000);
    }
  });
  CHECK(error == "SSE event exceeds 1000 bytes");
  CHECK(fed == 994);
}

TEST_CASE("a chunk of many CR-terminated SSE lines is framed in one pass") {
  // A quadratic framer would not finish within the test timeout (see bench/ for throughput).
  std::string input;
  for (int i = 0; i < 500000; ++i) input += "data: 1\r\r";
  std::size_t messages = 0;
  SseFramer framer;
  framer.feed(
      input, [&](SseMessage&&) { ++messages; }, [](std::string_view) {});
  CHECK(messages == 500000);
}

TEST_CASE("an empty SSE chunk, even with a null data pointer, changes nothing") {
  const std::string_view none;  // data() is null
  const std::string_view bom_end = "\xBF";
  CHECK(frame_chunks({none, "\xEF\xBB", none, bom_end, none, "data: 1\r", none, "\n\n"}) ==
        std::vector<std::string>{"message |1|"});
}
