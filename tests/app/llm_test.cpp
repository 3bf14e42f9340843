// The chat contract (infsh/llm.hpp): what an agent's core takes and returns, read the way the
// platform and OpenAI-compatible servers write it, and written back the same way.

#include <catch2/catch.hpp>

#include <infsh/infsh.hpp>

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// A turn as an agent sends it after a tool ran: a system prompt, a user message with an image,
// the assistant's tool call (arguments as text), the tool's result, and the new user text.
const char* const kTurn = R"({
  "system_prompt": "You are terse.",
  "context": [
    {"role": "user", "text": "What is in this picture?",
     "images": [{"uri": "https://example.com/cat.png", "content_type": "image/png"}]},
    {"role": "assistant", "text": "",
     "tool_calls": [{"id": "call_1", "type": "function",
                     "function": {"name": "describe", "arguments": "{\"detail\": \"high\"}"}}]},
    {"role": "tool", "text": "a cat on a mat", "tool_call_id": "call_1"}
  ],
  "role": "user",
  "text": "And the colour?",
  "files": ["https://example.com/notes.txt"],
  "tools": [{"type": "function",
             "function": {"name": "describe", "description": "Describes an image",
                          "parameters": {"type": "object",
                                         "properties": {"detail": {"type": "string"}},
                                         "required": ["detail"]}}}],
  "temperature": 0.2,
  "max_tokens": 256
})";

std::string issues_of(const json& document) {
  try {
    infsh::decode<infsh::LLMInput>(document, "input");
  } catch (const infsh::ValidationError& e) {
    return e.what();
  }
  return "no issue";
}

}  // namespace

TEST_CASE("a chat turn decodes into the contract's types") {
  const auto input = infsh::decode<infsh::LLMInput>(json::parse(kTurn), "input");
  CHECK(input.system_prompt == "You are terse.");
  REQUIRE(input.context.size() == 3);
  CHECK(input.context[0].role == infsh::ContextMessageRole::user);
  REQUIRE(input.context[0].images.has_value());
  CHECK(input.context[0].images->at(0).uri == "https://example.com/cat.png");
  CHECK(input.context[0].images->at(0).content_type == "image/png");
  CHECK(input.context[1].role == infsh::ContextMessageRole::assistant);
  REQUIRE(input.context[1].tool_calls.has_value());
  CHECK(input.context[1].tool_calls->at(0) ==
        infsh::ToolCall{"call_1", "describe", R"({"detail": "high"})"});
  CHECK(input.context[2].role == infsh::ContextMessageRole::tool);
  CHECK(input.context[2].tool_call_id == "call_1");
  CHECK(input.text == "And the colour?");
  REQUIRE(input.files.has_value());
  CHECK(input.files->at(0).uri == "https://example.com/notes.txt");
  REQUIRE(input.tools.has_value());
  CHECK(input.tools->at(0).name == "describe");
  CHECK(input.tools->at(0).description == "Describes an image");
  CHECK(input.tools->at(0).parameters.at("required") == json::array({"detail"}));
  CHECK(input.temperature == 0.2);
  CHECK(input.max_tokens == 256);
  CHECK_FALSE(input.top_p.has_value());
}

TEST_CASE("a chat turn survives encoding and decoding again unchanged") {
  const auto input = infsh::decode<infsh::LLMInput>(json::parse(kTurn), "input");
  const ordered_json encoded = infsh::encode(input);
  const auto again = infsh::decode<infsh::LLMInput>(json(encoded), "input");
  CHECK(infsh::encode(again) == encoded);
  // Tool calls and tools go out in OpenAI's nested shapes.
  CHECK(encoded["context"][1]["tool_calls"][0] == ordered_json::parse(R"({"id": "call_1",
      "type": "function", "function": {"name": "describe", "arguments": "{\"detail\": \"high\"}"}})"));
  CHECK(encoded["tools"][0]["type"] == "function");
  CHECK(encoded["tools"][0]["function"]["name"] == "describe");
  CHECK(encoded["tools"][0]["function"]["parameters"]["required"] == ordered_json({"detail"}));
}

TEST_CASE("tool call arguments sent as an object are kept as their JSON text") {
  const auto input = infsh::decode<infsh::LLMInput>(json::parse(R"({
    "text": "",
    "context": [{"role": "assistant", "text": "",
                 "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}]},
                {"role": "assistant", "tool_calls": [{"id": "d", "function": {"name": "g"}}]}]
  })"),
                                                    "input");
  CHECK(input.context[0].tool_calls->at(0).arguments == R"({"a":1})");
  CHECK(infsh::parse_arguments(input.context[0].tool_calls->at(0)) == json{{"a", 1}});
  CHECK(input.context[1].tool_calls->at(0).arguments == "{}");  // none given
  CHECK(input.context[1].text.empty());
}

TEST_CASE("a tool given as a bare function object is read like a wrapped one") {
  const auto tool = json::parse(R"({"name": "lookup", "description": "Looks up a word",
      "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}})")
                        .get<infsh::Tool>();
  CHECK(tool.name == "lookup");
  CHECK(tool.description == "Looks up a word");
  CHECK(json(tool) == json::parse(R"({"type": "function", "function": {"name": "lookup",
      "description": "Looks up a word",
      "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}}})"));
  const auto minimal = json::parse(R"({"function": {"name": "ping"}})").get<infsh::Tool>();
  CHECK(minimal.parameters == json::parse(R"({"type": "object", "properties": {}})"));
}

TEST_CASE("bad chat turns name the field and the rule") {
  CHECK(issues_of(json::object()) == "input.text: field required");
  CHECK(issues_of(json::parse(R"({"text": "", "context": [{"role": "robot"}]})")) ==
        "input.context[0].role: must be one of 'user', 'assistant', 'system', 'tool'");
  CHECK(issues_of(json::parse(R"({"text": "", "context": [{"role": "assistant",
      "tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}]})")) ==
        "input.context[0].tool_calls[0].function.name: field required");
  CHECK(issues_of(json::parse(R"({"text": "", "context": [{"role": "assistant",
      "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": 3}}]}]})")) ==
        "input.context[0].tool_calls[0].function.arguments: expected a JSON object as text, got "
        "integer");
  CHECK(issues_of(json::parse(R"({"text": "", "tools": [{"type": "function",
      "function": {"name": "f", "parameters": "none"}}]})")) ==
        "input.tools[0].function.parameters: expected object, got string");
  CHECK(issues_of(json::parse(R"({"text": "", "temperature": 3})")) ==
        "input.temperature: must be <= 2");
}

TEST_CASE("a turn's output is written as the platform's LLM output") {
  infsh::LLMOutput output;
  output.response = "Checking.";
  output.tool_calls = std::vector<infsh::ToolCall>{{"call_7", "get_weather", R"({"city":"Oslo"})"}};
  output.usage = infsh::LLMUsage{};
  output.usage->stop_reason = "tool_calls";
  output.usage->prompt_tokens = 12;
  output.usage->completion_tokens = 3;
  output.usage->total_tokens = 15;
  const ordered_json expected = ordered_json::parse(R"({
    "response": "Checking.",
    "reasoning": null,
    "tool_calls": [{"id": "call_7", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}],
    "usage": {"stop_reason": "tool_calls", "time_to_first_token": 0.0, "tokens_per_second": 0.0,
              "prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15,
              "reasoning_tokens": 0, "reasoning_time": 0.0},
    "output_meta": null
  })");
  CHECK(infsh::encode(output) == expected);
  const auto back = infsh::decode<infsh::LLMOutput>(json(expected), "output");
  CHECK(back.tool_calls->at(0) == output.tool_calls->at(0));
  CHECK(back.usage->total_tokens == 15);
}

TEST_CASE("the chat contract's schemas list their parts in defs") {
  const ordered_json input = infsh::json_schema<infsh::LLMInput>();
  CHECK(input["title"] == "LLMInput");
  CHECK(input["required"] == ordered_json({"text"}));
  for (const char* name : {"ContextMessage", "ContextMessageRole", "ToolCall", "ToolCallFunction",
                           "Tool", "ToolFunction"}) {
    INFO(name);
    CHECK(input["$defs"].contains(name));
  }
  CHECK(input["properties"]["images"] == ordered_json::parse(R"({"anyOf": [
      {"items": {"format": "file", "type": "string"}, "type": "array"}, {"type": "null"}],
      "default": null, "description": "the images to use for the model", "title": "Images"})"));
  CHECK(input["$defs"]["ToolCall"]["required"] == ordered_json({"id", "function"}));
  CHECK(input["$defs"]["ToolCallFunction"]["properties"]["arguments"]["type"] == "string");
  CHECK(input["$defs"]["ContextMessageRole"]["enum"] ==
        ordered_json({"user", "assistant", "system", "tool"}));

  const ordered_json output = infsh::json_schema<infsh::LLMOutput>();
  CHECK(output["title"] == "LLMOutput");
  CHECK(output["properties"].contains("output_meta"));
  CHECK(output["$defs"].contains("LLMUsage"));
  CHECK(output["$defs"].contains("ToolCall"));
  // Where Files can be: the runtime resolves them there before a core runs.
  CHECK(infsh::file_locations<infsh::LLMInput>() ==
        std::vector<std::string>{"/context/*/images/*", "/context/*/files/*", "/images/*",
                                 "/files/*"});
}

TEST_CASE("the conversation is the context followed by the new message") {
  auto input = infsh::decode<infsh::LLMInput>(json::parse(kTurn), "input");
  auto messages = infsh::conversation(input);
  REQUIRE(messages.size() == 4);
  CHECK(messages.back().text == "And the colour?");
  CHECK(messages.back().files->at(0).uri == "https://example.com/notes.txt");

  input.text.clear();
  input.files.reset();
  CHECK(infsh::conversation(input).size() == 3);  // nothing new: the context alone

  input.role = infsh::ContextMessageRole::tool;  // a tool result counts, even when empty
  input.tool_call_id = "call_2";
  messages = infsh::conversation(input);
  REQUIRE(messages.size() == 4);
  CHECK(messages.back().tool_call_id == "call_2");
}

TEST_CASE("tool call arguments that are not a JSON object are refused by name") {
  CHECK_THROWS_WITH(infsh::parse_arguments({"call_1", "f", "{nope"}),
                    Catch::StartsWith("tool call call_1 arguments: not valid JSON"));
  CHECK_THROWS_WITH(infsh::parse_arguments({"call_1", "f", "[1]"}),
                    "tool call call_1 arguments: expected a JSON object, got array");
  CHECK(infsh::parse_arguments({"call_1", "f", R"({"x": [1, 2]})"}) ==
        json::parse(R"({"x": [1, 2]})"));
}
