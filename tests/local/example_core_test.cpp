// The example core for agents (examples/apps/echo_llm), an app program speaking the chat
// contract, hosted by the runtime with --app: streamed text, a tool call, its result.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "local_runtime_fixture.hpp"

#if defined(INFSH_EXAMPLE_ECHO_LLM_PROGRAM)

namespace inf = inferencesh;
using nlohmann::json;
using namespace infsh::local::testing;

TEST_CASE("the example core streams its echo and makes a tool call round trip under --app") {
  auto options = LocalRuntime::quiet();
  options.workers = 1;
  options.app_programs = {{"examples/echo-llm", INFSH_EXAMPLE_ECHO_LLM_PROGRAM}};
  LocalRuntime local(options);
  auto client = local.client();
  const json tool = json::parse(R"({"type": "function", "function": {"name": "get_weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}})");

  // The only worker is busy until the stream is attached, so every partial output is seen.
  const inf::Task blocker = client.tasks.run(
      {{"app", "infsh/progress"}, {"input", {{"steps", 1}, {"delay_ms", 60000}}}}, {.wait = false});
  REQUIRE(
      wait_until([&] { return client.tasks.get(blocker.id).status == inf::TaskStatus::running; }));
  const inf::Task queued = client.tasks.run(
      {{"app", "examples/echo-llm"}, {"input", {{"text", "three small words"}, {"tools", {tool}}}}},
      {.wait = false});
  auto stream = client.tasks.stream(queued.id);
  const inf::Task* update = stream.next();
  REQUIRE(update != nullptr);
  client.tasks.cancel(blocker.id);
  std::vector<std::string> partials;
  inf::Task last;
  for (; update != nullptr; update = stream.next()) {
    if (update->status == inf::TaskStatus::running && update->output.is_object()) {
      partials.push_back(update->output.value("response", ""));
    }
    last = *update;
  }
  REQUIRE(last.status == inf::TaskStatus::completed);
  CHECK(last.output.at("response") == "You said: three small words");
  CHECK(partials == std::vector<std::string>{"You said: three", "You said: three small",
                                             "You said: three small words"});
  CHECK(last.output.at("usage").at("stop_reason") == "stop");

  // Asked for a tool it was offered, it calls it; the result comes back as a tool message.
  const std::string question = R"(call get_weather {"city": "Oslo"})";
  const inf::Task call = client.tasks.run(
      {{"app", "examples/echo-llm"}, {"input", {{"text", question}, {"tools", {tool}}}}});
  REQUIRE(call.output.at("tool_calls").size() == 1);
  const json tool_call = call.output["tool_calls"][0];
  CHECK(tool_call.at("function") ==
        json{{"name", "get_weather"}, {"arguments", R"({"city": "Oslo"})"}});
  CHECK(call.output.at("usage").at("stop_reason") == "tool_calls");

  const inf::Task answer =
      client.tasks.run({{"app", "examples/echo-llm"},
                        {"input",
                         {{"context",
                           {{{"role", "user"}, {"text", question}},
                            {{"role", "assistant"}, {"text", ""}, {"tool_calls", {tool_call}}}}},
                          {"role", "tool"},
                          {"text", "snow, -3 C"},
                          {"tool_call_id", tool_call.at("id")}}}});
  CHECK(answer.output.at("response") == "The tool said: snow, -3 C");

  // Input that is not the chat contract is refused by the program's own model.
  const inf::Task queued_bad = client.tasks.run(
      {{"app", "examples/echo-llm"}, {"input", {{"text", "x"}, {"context", {{{"role", "bot"}}}}}}},
      {.wait = false});
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued_bad.id), inf::TaskFailedError);
  CHECK_THAT(client.tasks.get(queued_bad.id).error,
             Catch::Contains("input.context[0].role: must be one of 'user', 'assistant', "
                             "'system', 'tool'"));
}

#endif  // INFSH_EXAMPLE_ECHO_LLM_PROGRAM
