#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "stream_event.hpp"

using inferencesh::detail::classify_payload;
using inferencesh::detail::StreamEvent;
using Kind = inferencesh::detail::StreamEvent::Kind;
using nlohmann::json;

namespace {

// Why classifying `payload` refused it.
std::string error_of(std::string_view payload, std::string_view sse_event = {}) {
  const StreamEvent event = classify_payload(payload, sse_event);
  if (event.kind != Kind::invalid) return "(the payload was not refused)";
  CHECK(event.data.is_null());
  return event.error;
}

}  // namespace

TEST_CASE("a bare task object is a full object holding the whole line") {
  const StreamEvent event = classify_payload(R"({"id":"task_1","status":10,"output":{"x":1}})");
  CHECK(event.kind == Kind::object);
  CHECK(event.data == json{{"id", "task_1"}, {"status", 10}, {"output", {{"x", 1}}}});
  CHECK(event.fields.empty());
  CHECK(event.event.empty());
}

TEST_CASE("a data and fields wrapper is a partial update") {
  const StreamEvent event =
      classify_payload(R"({"data":{"status":9,"logs":[]},"fields":["status","logs"]})");
  CHECK(event.kind == Kind::partial);
  CHECK(event.data == json{{"status", 9}, {"logs", json::array()}});
  CHECK(event.fields == std::vector<std::string>{"status", "logs"});
  CHECK(event.event.empty());
}

TEST_CASE("a partial update may carry an empty field list or a non-object data") {
  const StreamEvent empty_fields = classify_payload(R"({"data":{"status":9},"fields":[]})");
  CHECK(empty_fields.kind == Kind::partial);
  CHECK(empty_fields.fields.empty());
  const StreamEvent scalar_data = classify_payload(R"({"data":7,"fields":["x"]})");
  CHECK(scalar_data.kind == Kind::partial);
  CHECK(scalar_data.data == 7);
}

TEST_CASE("an object with a data object and nothing else to go by is a partial update") {
  const StreamEvent event = classify_payload(R"({"data":{"status":9},"extra":true})");
  CHECK(event.kind == Kind::partial);
  CHECK(event.data == json{{"status", 9}});
  CHECK(event.fields.empty());
}

TEST_CASE("data that is not an object without a field list stays part of a full object") {
  const StreamEvent scalar = classify_payload(R"({"data":5})");
  CHECK(scalar.kind == Kind::object);
  CHECK(scalar.data == json{{"data", 5}});
  const StreamEvent odd_fields = classify_payload(R"({"data":{"a":1},"fields":"a"})");
  CHECK(odd_fields.kind == Kind::object);
  CHECK(odd_fields.data == json{{"data", {{"a", 1}}}, {"fields", "a"}});
}

TEST_CASE("an event name and data make a typed event") {
  const StreamEvent event = classify_payload(R"({"event":"chats","data":{"id":"c1"}})");
  CHECK(event.kind == Kind::typed);
  CHECK(event.event == "chats");
  CHECK(event.data == json{{"id", "c1"}});
  CHECK(event.fields.empty());
}

TEST_CASE("a typed event keeps its field list") {
  const StreamEvent event =
      classify_payload(R"({"event":"chat_messages","data":{"id":"m1"},"fields":["content"]})");
  CHECK(event.kind == Kind::typed);
  CHECK(event.event == "chat_messages");
  CHECK(event.fields == std::vector<std::string>{"content"});
}

TEST_CASE("an event name that is not a string does not make a typed event") {
  const StreamEvent event = classify_payload(R"({"event":5,"data":{"id":"c1"}})");
  CHECK(event.kind == Kind::object);
  CHECK(event.data == json{{"event", 5}, {"data", {{"id", "c1"}}}});
}

TEST_CASE("a heartbeat line is a heartbeat") {
  const StreamEvent event = classify_payload(R"({"type":"heartbeat"})");
  CHECK(event.kind == Kind::heartbeat);
  CHECK(event.data.is_null());
  CHECK(classify_payload(R"( { "type" : "heartbeat" , "ts" : 1 } )").kind == Kind::heartbeat);
}

TEST_CASE("another type is an ordinary object") {
  CHECK(classify_payload(R"({"type":"task"})").kind == Kind::object);
  CHECK(classify_payload(R"({"type":1})").kind == Kind::object);
}

TEST_CASE("a named SSE event makes a typed event of a plain object") {
  const StreamEvent event = classify_payload(R"({"id":"m1"})", "chat_messages");
  CHECK(event.kind == Kind::typed);
  CHECK(event.event == "chat_messages");
  CHECK(event.data == json{{"id", "m1"}});
}

TEST_CASE("a named SSE event unwraps a data and fields wrapper") {
  const StreamEvent event =
      classify_payload(R"({"data":{"id":"c1"},"fields":["status"]})", "chats");
  CHECK(event.kind == Kind::typed);
  CHECK(event.event == "chats");
  CHECK(event.data == json{{"id", "c1"}});
  CHECK(event.fields == std::vector<std::string>{"status"});
}

TEST_CASE("a payload that is already typed keeps its own event name") {
  const StreamEvent event = classify_payload(R"({"event":"chats","data":{"id":"c1"}})", "other");
  CHECK(event.kind == Kind::typed);
  CHECK(event.event == "chats");
}

TEST_CASE("a heartbeat payload stays a heartbeat under an SSE event name") {
  CHECK(classify_payload(R"({"type":"heartbeat"})", "ping").kind == Kind::heartbeat);
}

TEST_CASE("the SSE event name message is the unnamed default") {
  const StreamEvent event = classify_payload(R"({"id":"t"})", "message");
  CHECK(event.kind == Kind::object);
  CHECK(event.event.empty());
}

TEST_CASE("a payload that is not JSON is refused as invalid, quoting it") {
  CHECK_THAT(error_of("{nope"), Catch::Matchers::StartsWith("stream line is not valid JSON (") &&
                                    Catch::Matchers::EndsWith("): \"{nope\""));
  CHECK_THAT(error_of(""), Catch::Matchers::StartsWith("stream line is not valid JSON ("));
  CHECK_THAT(error_of("{} {}"), Catch::Matchers::StartsWith("stream line is not valid JSON ("));
}

TEST_CASE("the parser's own explanation is kept without its exception tag") {
  const std::string message = error_of("{\"a\":}");
  CHECK_THAT(message, Catch::Matchers::Contains("syntax error"));
  CHECK_THAT(message, !Catch::Matchers::Contains("[json.exception"));
}

TEST_CASE("a JSON value that is not an object is refused as invalid, quoting it") {
  CHECK(error_of("[1]") == "stream line is not a JSON object: \"[1]\"");
  CHECK(error_of(" \"text\" ") == "stream line is not a JSON object: \" \"text\" \"");
}

TEST_CASE("ill-formed UTF-8 is refused as invalid, naming the byte and where it is") {
  CHECK(error_of("{\"a\":\"\xFF\"}") ==
        "stream line is not valid UTF-8 (byte 0xff at offset 6): \"{\"a\":\"\\xff\"}\"");
  CHECK_THAT(error_of("{\"a\":\"\xE6\x97\"}"),
             Catch::Matchers::StartsWith("stream line is not valid UTF-8 (byte 0xe6 at offset 6)"));
  CHECK_THAT(error_of("{\"a\":\"\xED\xA0\x80\"}"),  // a UTF-16 surrogate
             Catch::Matchers::StartsWith("stream line is not valid UTF-8 (byte 0xed at offset 6)"));
  CHECK_THAT(error_of("{\"a\":\"\xC0\xAF\"}"),  // an overlong '/'
             Catch::Matchers::StartsWith("stream line is not valid UTF-8 (byte 0xc0 at offset 6)"));
  CHECK_THAT(error_of("{\"\xC3\x28\":1}"),
             Catch::Matchers::StartsWith("stream line is not valid UTF-8 (byte 0xc3 at offset 2)"));
}

TEST_CASE("well-formed multi-byte UTF-8 is accepted in keys and values") {
  const StreamEvent event = classify_payload(
      "{\"h\xC3\xA9llo\":\"\xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80\"}");
  CHECK(event.data["h\xC3\xA9llo"] == "\xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80");
}

TEST_CASE("a quote in an error never splits a UTF-8 character") {
  // 78 ASCII bytes then a three-byte character straddling the 80-byte cut: it is kept whole.
  const std::string payload = "[\"" + std::string(76, 'a') + "\xE6\x97\xA5" + "tail\"]";
  CHECK(error_of(payload) ==
        "stream line is not a JSON object: \"[\"" + std::string(76, 'a') + "\xE6\x97\xA5\"...");
}

TEST_CASE("a field list entry that is not a string is refused as invalid") {
  CHECK_THAT(
      error_of(R"({"data":{},"fields":["a",1]})"),
      Catch::Matchers::StartsWith("stream line has a \"fields\" entry that is not a string"));
  CHECK_THAT(
      error_of(R"({"event":"e","data":{},"fields":[null]})"),
      Catch::Matchers::StartsWith("stream line has a \"fields\" entry that is not a string"));
}

TEST_CASE(
    "JSON nested deeper than 256 levels is refused while parsing, without exhausting the stack") {
  const auto nested = [](std::size_t depth) {
    // The object around the arrays is one level of its own.
    return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  CHECK(classify_payload(nested(256)).kind == Kind::object);
  CHECK_THAT(error_of(nested(257)),
             Catch::Matchers::StartsWith("stream line is nested deeper than 256 levels: \"{"));
  CHECK_THAT(error_of(nested(1000000)),
             Catch::Matchers::StartsWith("stream line is nested deeper than 256 levels"));
}
