#include <catch2/catch.hpp>

#include <string>

#include "common/json_parse.hpp"

using inferencesh::common::JsonParseError;
using inferencesh::common::kMaxJsonDepth;
using inferencesh::common::parse_untrusted_json;
using nlohmann::json;

namespace {

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

}  // namespace

TEST_CASE("untrusted JSON parses to the same value as the nlohmann parser does") {
  const char* const texts[] = {
      "null",
      "true",
      " 42 ",
      "-7",
      "18446744073709551615",
      "3.25e2",
      "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\"",
      "[]",
      "{}",
      "[1,[2,[3,{}]],{\"a\":[]}]",
      R"({"id":"t1","status":7,"output":{"text":"hi","list":[1,2.5,null,true,{"k":"v"}]}})",
      R"({"a":1,"a":2})",  // a repeated key keeps the last value, as nlohmann does
  };
  for (const char* text : texts) {
    INFO(text);
    const auto parsed = parse_untrusted_json(text);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == json::parse(text));
    CHECK(parsed->type() == json::parse(text).type());
  }
}

TEST_CASE("untrusted JSON may nest 256 levels and no more") {
  CHECK(kMaxJsonDepth == 256);
  CHECK(parse_untrusted_json(nested_arrays(256)).has_value());
  JsonParseError error;
  CHECK_FALSE(parse_untrusted_json(nested_arrays(257), &error).has_value());
  CHECK(error.too_deep);
  CHECK(error.message == "nested deeper than 256 levels");
  // Objects count like arrays, and it is the depth, not the number of containers, that counts.
  std::string objects;
  for (int i = 0; i < 257; ++i) objects += "{\"k\":";
  objects += "1" + std::string(257, '}');
  CHECK_FALSE(parse_untrusted_json(objects).has_value());
  std::string wide = "[";
  for (int i = 0; i < 10000; ++i) wide += "[[]],";
  wide += "1]";
  CHECK(parse_untrusted_json(wide).has_value());
}

TEST_CASE("untrusted JSON a million levels deep is refused without exhausting the stack") {
  JsonParseError error;
  CHECK_FALSE(parse_untrusted_json(nested_arrays(1000000), &error).has_value());
  CHECK(error.too_deep);
  // Unterminated: the depth is noticed before the end of the input is.
  CHECK_FALSE(parse_untrusted_json(std::string(1000000, '['), &error).has_value());
  CHECK(error.too_deep);
}

TEST_CASE("text that is not JSON is refused with the message of the parser, without its tag") {
  for (const char* text : {"", "{nope", "{} {}", "[1,]", "\"\xFF\""}) {
    INFO(text);
    JsonParseError error;
    CHECK_FALSE(parse_untrusted_json(text, &error).has_value());
    CHECK_FALSE(error.too_deep);
    CHECK_THAT(error.message, Catch::Matchers::StartsWith("parse error at "));
  }
  JsonParseError error;
  CHECK_FALSE(parse_untrusted_json("[1e400]", &error).has_value());
  CHECK(error.message == "number overflow parsing '1e400'");
}
