// infsh/scripted-llm, the deterministic core for agents: run as an ordinary task of the runtime
// with the chat contract's input (infsh/llm.hpp), over real sockets.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "apps/builtin/scripted_llm_script.hpp"
#include "local_runtime_fixture.hpp"

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

namespace {

// A script: fetch the weather, then answer with the tool's result quoted.
const json kWeatherScript = json::parse(R"({
  "chunk_size": 4,
  "steps": [
    {"text": "Let me check.",
     "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris", "asked": "{{user_text}}"}}]},
    {"text": "The weather: {{last_tool_result}}"}
  ]
})");

const json kWeatherTool = json::parse(R"({"type": "function", "function": {"name": "get_weather",
    "description": "The weather in a city", "parameters": {"type": "object",
    "properties": {"city": {"type": "string"}}, "required": ["city"]}}})");

json run_params(const json& script, const json& input) {
  return {{"app", "infsh/scripted-llm"}, {"setup", script}, {"input", input}};
}

// The context after the first step: the user's question, the assistant's call, the result.
json weather_context(const std::string& result) {
  return json::array(
      {{{"role", "user"}, {"text", "Weather in Paris?"}},
       {{"role", "assistant"},
        {"text", "Let me check."},
        {"tool_calls",
         {{{"id", "call_0_1"},
           {"type", "function"},
           {"function", {{"name", "get_weather"}, {"arguments", R"({"city":"Paris"})"}}}}}}},
       {{"role", "tool"}, {"text", result}, {"tool_call_id", "call_0_1"}}});
}

}  // namespace

TEST_CASE("infsh/scripted-llm answers the first turn with the first step's text and tool calls") {
  LocalRuntime local;
  const inf::Task done = local.client().tasks.run(run_params(
      kWeatherScript,
      {{"system_prompt", "Be brief."}, {"text", "Weather in Paris?"}, {"tools", {kWeatherTool}}}));
  const json& out = done.output;
  CHECK(out.at("response") == "Let me check.");
  REQUIRE(out.at("tool_calls").size() == 1);
  CHECK(out["tool_calls"][0] == json::parse(R"({"id": "call_0_1", "type": "function",
      "function": {"name": "get_weather",
                   "arguments": "{\"asked\":\"Weather in Paris?\",\"city\":\"Paris\"}"}})"));
  CHECK(out.at("usage").at("stop_reason") == "tool_calls");
  CHECK(out["usage"]["prompt_tokens"] == 5);  // "Be brief." + "Weather in Paris?"
  CHECK(out["usage"]["completion_tokens"] == 3);
  CHECK(out["usage"]["total_tokens"] == 8);
  CHECK(out.contains("output_meta"));
}

TEST_CASE("infsh/scripted-llm quotes the last tool result in the next turn") {
  LocalRuntime local;
  const inf::Task done = local.client().tasks.run(run_params(
      kWeatherScript,
      {{"context", weather_context("sunny, 21 C")}, {"text", ""}, {"tools", {kWeatherTool}}}));
  CHECK(done.output.at("response") == "The weather: sunny, 21 C");
  CHECK(done.output.at("tool_calls").is_null());
  CHECK(done.output.at("usage").at("stop_reason") == "stop");

  // The result may also arrive as the new message itself (role tool, its text the result).
  json context = weather_context("unused");
  context.erase(2);
  const inf::Task latest = local.client().tasks.run(run_params(
      kWeatherScript,
      {{"context", context}, {"role", "tool"}, {"text", "rain"}, {"tool_call_id", "call_0_1"}}));
  CHECK(latest.output.at("response") == "The weather: rain");
}

TEST_CASE("infsh/scripted-llm streams a step's text in pieces as partial outputs") {
  auto options = LocalRuntime::quiet();
  options.workers = 1;
  LocalRuntime local(options);
  auto client = local.client();
  // The only worker is busy until the stream below is attached, so no piece can go unseen.
  const inf::Task blocker = client.tasks.run(
      {{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 60000}}}}, {.wait = false});
  REQUIRE(
      wait_until([&] { return client.tasks.get(blocker.id).status == inf::TaskStatus::running; }));
  const inf::Task queued = client.tasks.run(
      run_params(json::parse(R"({"chunk_size": 5, "steps": [{"text": "Hello, wörld! Bye."}]})"),
                 {{"text", "hi"}}),
      {.wait = false});
  auto stream = client.tasks.stream(queued.id);
  const inf::Task* update = stream.next();  // the task as queued: the stream is attached
  REQUIRE(update != nullptr);
  CHECK(update->status == inf::TaskStatus::queued);
  client.tasks.cancel(blocker.id);

  std::vector<std::string> responses;
  inf::Task last;
  for (; update != nullptr; update = stream.next()) {
    if (update->output.is_object() && update->output.contains("response")) {
      const auto& response = update->output["response"].get_ref<const std::string&>();
      if (responses.empty() || responses.back() != response) responses.push_back(response);
    }
    last = *update;
  }
  CHECK(last.status == inf::TaskStatus::completed);
  // Five characters (not bytes) at a time: "ö" is never cut in two.
  CHECK(responses ==
        std::vector<std::string>{"Hello", "Hello, wör", "Hello, wörld! B", "Hello, wörld! Bye."});
}

TEST_CASE("infsh/scripted-llm takes explicit chunks and reasoning as given") {
  LocalRuntime local;
  const inf::Task done = local.client().tasks.run(run_params(
      json::parse(
          R"({"steps": [{"chunks": ["Hi ", "{{user_text}}", "!"], "reasoning": "greet"}]})"),
      {{"text", "Ada"}}));
  CHECK(done.output.at("response") == "Hi Ada!");
  CHECK(done.output.at("reasoning") == "greet");
}

TEST_CASE("infsh/scripted-llm steps matched by the latest message come before positional ones") {
  LocalRuntime local;
  auto client = local.client();
  const json script = json::parse(R"({
    "steps": [
      {"when": {"user_text_contains": "weather"}, "text": "weather step"},
      {"when": {"tool_result_of": "get_weather"}, "text": "after get_weather: {{last_tool_result}}"},
      {"when": {"user_text": "exactly this"}, "text": "exact step"},
      {"when": {"turn": 5}, "text": "turn five"},
      {"text": "never: the fifth step is at turn four"}
    ],
    "default": {"text": "default at turn {{turn}} with tools {{tool_names}}"}
  })");
  const auto answer = [&](const json& input) {
    return client.tasks.run(run_params(script, input)).output.at("response").get<std::string>();
  };
  CHECK(answer({{"text", "what weather today?"}}) == "weather step");
  CHECK(answer({{"context", weather_context("cloudy")}, {"text", ""}}) ==
        "after get_weather: cloudy");
  CHECK(answer({{"text", "exactly this"}}) == "exact step");
  CHECK(answer({{"text", "exactly this, and more"}, {"tools", {kWeatherTool}}}) ==
        "default at turn 0 with tools get_weather");
  json five = json::array();
  for (int i = 0; i < 5; ++i) five.push_back({{"role", "assistant"}, {"text", "a"}});
  CHECK(answer({{"context", five}, {"text", "again"}}) == "turn five");
}

TEST_CASE("infsh/scripted-llm finishes with a finish tool call carrying its output") {
  LocalRuntime local;
  const json script = json::parse(R"({"steps": [
    {"text": "Looking.", "tool_calls": [{"id": "lookup-1", "name": "lookup", "arguments": "{\"q\": 1}"}]},
    {"text": "Done.", "finish": {"answer": "{{last_tool_result}}", "confidence": 0.9}}
  ]})");
  auto client = local.client();
  const inf::Task first = client.tasks.run(run_params(script, {{"text", "go"}}));
  CHECK(first.output["tool_calls"][0]["id"] == "lookup-1");
  CHECK(first.output["tool_calls"][0]["function"]["arguments"] == R"({"q": 1})");

  const json context = json::array(
      {{{"role", "user"}, {"text", "go"}},
       {{"role", "assistant"}, {"text", "Looking."}, {"tool_calls", first.output["tool_calls"]}},
       {{"role", "tool"}, {"text", "forty-two"}, {"tool_call_id", "lookup-1"}}});
  const inf::Task second =
      client.tasks.run(run_params(script, {{"context", context}, {"text", ""}}));
  CHECK(second.output.at("response") == "Done.");
  REQUIRE(second.output.at("tool_calls").size() == 1);
  CHECK(second.output["tool_calls"][0]["function"]["name"] == "finish");
  CHECK(json::parse(second.output["tool_calls"][0]["function"]["arguments"].get<std::string>()) ==
        json{{"answer", "forty-two"}, {"confidence", 0.9}});
  CHECK(second.output["usage"]["stop_reason"] == "tool_calls");
}

TEST_CASE("infsh/scripted-llm fails a turn no step applies to and says why") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(
      run_params(kWeatherScript,
                 {{"context", json::array({{{"role", "assistant"}, {"text", "1"}},
                                           {{"role", "assistant"}, {"text", "2"}}})},
                  {"text", "third?"}}),
      {.wait = false});
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::TaskFailedError);
  CHECK(client.tasks.get(queued.id).error ==
        "infsh/scripted-llm: no step of the script applies to turn 2 (latest message: the "
        "user's 'third?'); the script has 2 steps and no default");
}

TEST_CASE("infsh/scripted-llm fails with a step's error after streaming its text") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(
      run_params(json::parse(R"({"steps": [{"text": "partly", "error": "model overloaded"}]})"),
                 {{"text", "hi"}}),
      {.wait = false});
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::TaskFailedError);
  const inf::Task failed = client.tasks.get(queued.id);
  CHECK(failed.error == "model overloaded");
  CHECK(failed.output.at("response") == "partly");  // the last partial output stays
}

TEST_CASE("infsh/scripted-llm refuses a bad script or input with 422 naming the field") {
  LocalRuntime local;
  auto client = local.client();
  const auto refusal = [&](const json& setup, const json& input) -> std::string {
    try {
      client.tasks.run(run_params(setup, input));
    } catch (const inf::UnprocessableEntityError& e) {
      return e.detail();
    }
    return "accepted";
  };
  const json hi = {{"text", "hi"}};
  CHECK_THAT(refusal(nullptr, hi), Catch::Contains("needs its script as setup"));
  CHECK(refusal(json::parse(R"({"steps": [{"txt": "typo"}]})"), hi) ==
        "setup.steps[0].txt: is not a field of a step");
  CHECK(
      refusal(json::parse(R"({"steps": []})"), hi) ==
      R"(setup.steps: give at least one step (or a default), e.g. {"steps": [{"text": "Hello!"}]})");
  CHECK(refusal(json::parse(R"({"steps": [{"when": {"turn": -1}}]})"), hi) ==
        "setup.steps[0].when.turn: must be >= 0");
  CHECK(
      refusal(json::parse(R"({"steps": [{"tool_calls": [{"name": "f", "arguments": 3}]}]})"), hi) ==
      "setup.steps[0].tool_calls[0].arguments: must be an object, or JSON text sent as it is, "
      "not number");
  CHECK(refusal(json::parse(R"({"steps": [{"finish": "done"}]})"), hi) ==
        "setup.steps[0].finish: must be an object (the finish tool's arguments), not string");
  CHECK(refusal(json::parse(R"({"chunk_size": 0, "steps": [{}]})"), hi) ==
        "setup.chunk_size: must be >= 1");
  CHECK(refusal(json::parse(R"({"steps": [{"usage": {"prompt_tokens": "many"}}]})"), hi) ==
        "setup.steps[0].usage.prompt_tokens: expected integer, got string");
  CHECK(refusal(kWeatherScript, json{{"text", 1}}) == "input.text: expected string, got integer");
  CHECK(refusal(kWeatherScript, json{{"text", ""}, {"context", {{{"role", "bot"}}}}}) ==
        "input.context[0].role: must be one of 'user', 'assistant', 'system', 'tool'");
}

TEST_CASE("infsh/scripted-llm stops between pieces when its task is cancelled") {
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued = client.tasks.run(
      run_params(json::parse(R"({"delay_ms": 60000, "steps": [{"text": "never shown"}]})"),
                 {{"text", "hi"}}),
      {.wait = false});
  REQUIRE(
      wait_until([&] { return client.tasks.get(queued.id).status == inf::TaskStatus::running; }));
  client.tasks.cancel(queued.id);
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::CancelledError);
}

TEST_CASE("infsh/scripted-llm usage can be overridden by the script") {
  LocalRuntime local;
  const inf::Task done = local.client().tasks.run(run_params(
      json::parse(
          R"({"steps": [{"text": "x", "usage": {"prompt_tokens": 100, "stop_reason": "length"}}]})"),
      {{"text", "hi"}}));
  CHECK(done.output["usage"]["prompt_tokens"] == 100);
  CHECK(done.output["usage"]["stop_reason"] == "length");
  CHECK(done.output["usage"]["completion_tokens"] == 1);
}
