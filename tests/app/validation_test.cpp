// Decoding and validating input at the boundary: every broken rule is reported with the path
// of the bad field and the rule, defaults fill what is absent, and encoding round-trips.

#include <catch2/catch.hpp>

#include <infsh/infsh.hpp>

namespace validation_test {

enum class Palette { sunset, ocean };
INFSH_ENUM(Palette, {Palette::sunset, "sunset"}, {Palette::ocean, "ocean"})

struct Size {
  int width = 512;
  int height = 512;
};
INFSH_MODEL(Size, INFSH_FIELD(width).minimum(16).maximum(2048).with_default(),
            INFSH_FIELD(height).minimum(16).maximum(2048).with_default())

struct Input {
  std::string prompt;
  Size size;
  std::vector<std::string> tags;
  Palette palette = Palette::sunset;
  std::optional<std::int32_t> seed;
  double strength = 0.5;
  std::optional<infsh::File> image;
  std::string code = "ABC";
};
INFSH_MODEL(Input, INFSH_FIELD(prompt).min_length(2).max_length(5),
            INFSH_FIELD(size).with_default(), INFSH_FIELD(tags).max_items(2).with_default(),
            INFSH_FIELD(palette).with_default(), INFSH_FIELD(seed).minimum(0),
            INFSH_FIELD(strength).exclusive_minimum(0).maximum(1).with_default(),
            INFSH_FIELD(image), INFSH_FIELD(code).pattern("^[A-Z]{3}$").with_default())

struct Strict {
  int n = 0;
};
INFSH_MODEL(Strict, INFSH_FIELD(n).with_default(), forbid_extra())

struct WithFile {
  infsh::File file;
};
INFSH_MODEL(WithFile, INFSH_FIELD(file))

std::vector<infsh::ValidationIssue> issues_of(const nlohmann::json& json) {
  try {
    (void)infsh::decode<Input>(json, "input");
  } catch (const infsh::ValidationError& e) {
    return e.issues();
  }
  return {};
}

std::string single_issue(const nlohmann::json& json) {
  const auto issues = issues_of(json);
  REQUIRE(issues.size() == 1);
  return issues[0].path + ": " + issues[0].message;
}

}  // namespace validation_test

using namespace validation_test;
using nlohmann::json;

TEST_CASE("a valid input decodes, with defaults for what is absent") {
  const Input in = infsh::decode<Input>(json{{"prompt", "cat"}, {"seed", 7}});
  CHECK(in.prompt == "cat");
  CHECK(in.size.width == 512);
  CHECK(in.palette == Palette::sunset);
  REQUIRE(in.seed);
  CHECK(*in.seed == 7);
  CHECK(in.strength == 0.5);
  CHECK_FALSE(in.image);
  CHECK(in.tags.empty());
}

TEST_CASE("a missing required field is reported by its path") {
  CHECK(single_issue(json::object()) == "input.prompt: field required");
}

TEST_CASE("a value of the wrong type names the expected and the given type") {
  CHECK(single_issue({{"prompt", 42}}) == "input.prompt: expected string, got integer");
  CHECK(single_issue({{"prompt", "cat"}, {"size", {{"width", "wide"}}}}) ==
        "input.size.width: expected integer, got string");
  CHECK(single_issue({{"prompt", "cat"}, {"strength", true}}) ==
        "input.strength: expected number, got boolean");
  CHECK(single_issue({{"prompt", "cat"}, {"size", nullptr}}) ==
        "input.size: expected object, got null");
}

TEST_CASE("numeric limits name the nested field and the bound") {
  CHECK(single_issue({{"prompt", "cat"}, {"size", {{"width", 8}}}}) ==
        "input.size.width: must be >= 16");
  CHECK(single_issue({{"prompt", "cat"}, {"size", {{"height", 4096}}}}) ==
        "input.size.height: must be <= 2048");
  CHECK(single_issue({{"prompt", "cat"}, {"strength", 0}}) == "input.strength: must be > 0");
  CHECK(single_issue({{"prompt", "cat"}, {"seed", -1}}) == "input.seed: must be >= 0");
}

TEST_CASE("integers refuse fractions and values their C++ type cannot hold") {
  CHECK(single_issue({{"prompt", "cat"}, {"seed", 1.5}}) ==
        "input.seed: expected integer, got a number with a fractional part");
  CHECK(single_issue({{"prompt", "cat"}, {"seed", 4294967296LL}}) ==
        "input.seed: must be <= 2147483647");
  const Input whole = infsh::decode<Input>(json{{"prompt", "cat"}, {"seed", 3.0}});
  CHECK(*whole.seed == 3);
}

TEST_CASE("string lengths count characters, not bytes") {
  CHECK(single_issue({{"prompt", "c"}}) == "input.prompt: must have at least 2 characters");
  CHECK(single_issue({{"prompt", "cattle"}}) == "input.prompt: must have at most 5 characters");
  CHECK(infsh::decode<Input>(json{{"prompt", "日本語です"}}).prompt == "日本語です");
}

TEST_CASE("array limits and item paths are reported") {
  CHECK(single_issue({{"prompt", "cat"}, {"tags", {"a", "b", "c"}}}) ==
        "input.tags: must have at most 2 items");
  CHECK(single_issue({{"prompt", "cat"}, {"tags", {"a", 2}}}) ==
        "input.tags[1]: expected string, got integer");
}

TEST_CASE("an enum value outside the declared ones lists the allowed values") {
  CHECK(single_issue({{"prompt", "cat"}, {"palette", "neon"}}) ==
        "input.palette: must be one of 'sunset', 'ocean'");
}

TEST_CASE("a pattern is matched against the whole rule") {
  CHECK(single_issue({{"prompt", "cat"}, {"code", "abc"}}) ==
        "input.code: must match pattern '^[A-Z]{3}$'");
}

TEST_CASE("null is accepted for optional fields and refused for others") {
  const Input in = infsh::decode<Input>(json{{"prompt", "cat"}, {"seed", nullptr}, {"image", ""}});
  CHECK_FALSE(in.seed);
  CHECK_FALSE(in.image);
  CHECK(single_issue({{"prompt", nullptr}}) == "input.prompt: expected string, got null");
}

TEST_CASE("every issue is reported at once, in document order") {
  const auto issues = issues_of({{"size", {{"width", 1}}}, {"palette", "neon"}});
  REQUIRE(issues.size() == 3);
  CHECK(issues[0].path == "input.prompt");
  CHECK(issues[1].path == "input.size.width");
  CHECK(issues[2].path == "input.palette");
  try {
    (void)infsh::decode<Input>(json{{"size", {{"width", 1}}}});
    FAIL("no exception");
  } catch (const infsh::ValidationError& e) {
    CHECK(std::string(e.what()) == "input.prompt: field required; input.size.width: must be >= 16");
  }
}

TEST_CASE("an input that is not an object is refused as a whole") {
  const auto issues = issues_of(json::array());
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].path == "input");
  CHECK(issues[0].message == "expected object, got array");
}

TEST_CASE("unknown keys are ignored unless the model forbids them") {
  CHECK(infsh::decode<Input>(json{{"prompt", "cat"}, {"unknown", 1}}).prompt == "cat");
  try {
    (void)infsh::decode<Strict>(json{{"n", 1}, {"m", 2}}, "setup");
    FAIL("no exception");
  } catch (const infsh::ValidationError& e) {
    REQUIRE(e.issues().size() == 1);
    CHECK(e.issues()[0].path == "setup.m");
    CHECK(e.issues()[0].message == "is not a field of Strict");
  }
}

TEST_CASE("files decode from a URI string or an object, and an empty value is not a file") {
  const auto from_string = infsh::decode<WithFile>(json{{"file", "https://example.com/a.png"}});
  CHECK(from_string.file.uri == "https://example.com/a.png");
  CHECK(from_string.file.path.empty());
  const auto from_object = infsh::decode<WithFile>(
      json{{"file", {{"path", "/tmp/a.png"}, {"content_type", "image/png"}, {"size", 3}}}});
  CHECK(from_object.file.path == "/tmp/a.png");
  CHECK(from_object.file.content_type == "image/png");
  CHECK(from_object.file.size == std::optional<std::uint64_t>(3));

  for (const json& empty : {json(""), json(nullptr), json::object()}) {
    try {
      (void)infsh::decode<WithFile>(json{{"file", empty}});
      FAIL("no exception for " << empty.dump());
    } catch (const infsh::ValidationError& e) {
      CHECK(e.issues()[0].path == "input.file");
      CHECK(e.issues()[0].message == "a file is required, got an empty value");
    }
  }
  CHECK_THROWS_WITH(infsh::decode<WithFile>(json{{"file", 5}}),
                    Catch::Contains("input.file: expected a file"));
  CHECK_THROWS_WITH(infsh::decode<WithFile>(json{{"file", {{"size", -1}, {"path", "/x"}}}}),
                    Catch::Contains("'size' must be a non-negative integer"));
}

TEST_CASE("encoding writes every field in declaration order and decoding reads it back") {
  Input in;
  in.prompt = "cat";
  in.tags = {"a"};
  in.palette = Palette::ocean;
  in.image = infsh::File{.uri = "https://example.com/a.png"};
  const nlohmann::ordered_json encoded = infsh::encode(in);
  CHECK(encoded.dump() ==
        R"({"prompt":"cat","size":{"width":512,"height":512},"tags":["a"],"palette":"ocean",)"
        R"("seed":null,"strength":0.5,"image":{"uri":"https://example.com/a.png"},"code":"ABC"})");
  const Input back = infsh::decode<Input>(nlohmann::json(encoded));
  CHECK(back.palette == Palette::ocean);
  CHECK(back.image->uri == "https://example.com/a.png");
  // nlohmann's own conversions work on declared models too.
  const json via_adl = in;
  CHECK(via_adl.at("palette") == "ocean");
  CHECK(via_adl.get<Input>().prompt == "cat");
}

TEST_CASE("output_meta items encode with their type and decode by it") {
  infsh::OutputMeta meta{
      .inputs = {infsh::TextMeta{.tokens = 5}},
      .outputs = {infsh::ImageMeta{.width = 2, .height = 3}, infsh::RawMeta{.cost = 1.5}}};
  const nlohmann::ordered_json encoded = infsh::encode(meta);
  CHECK(encoded.dump() ==
        R"({"inputs":[{"type":"text","extra":null,"tokens":5}],"outputs":[{"type":"image",)"
        R"("extra":null,"width":2,"height":3,"resolution_mp":0.0,"steps":0,"count":1},)"
        R"({"type":"raw","extra":null,"cost":1.5}]})");
  const auto back = infsh::decode<infsh::OutputMeta>(nlohmann::json(encoded), "output_meta");
  REQUIRE(back.outputs.size() == 2);
  CHECK(std::holds_alternative<infsh::ImageMeta>(back.outputs[0]));
  CHECK(std::get<infsh::RawMeta>(back.outputs[1]).cost == 1.5);
  CHECK_THROWS_WITH(
      infsh::decode<infsh::OutputMeta>(json{{"outputs", {{{"type", "smell"}}}}}, "output_meta"),
      Catch::Contains("output_meta.outputs[0].type: must be one of 'text'"));
}
