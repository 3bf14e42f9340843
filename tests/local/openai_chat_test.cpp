// infsh/openai-chat, the core that asks an OpenAI-compatible /chat/completions endpoint: run as
// a task of the runtime against a scripted server in the test process, over real sockets.

#include <catch2/catch.hpp>

#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "apps/builtin/openai_chat_stream.hpp"
#include "client/sse_decoder.hpp"
#include "common/base64.hpp"
#include "local_runtime_fixture.hpp"
#include "support/scripted_server.hpp"

namespace inf = inferencesh;
using inferencesh::testing::RecordedRequest;
using inferencesh::testing::Reply;
using inferencesh::testing::Router;
using inferencesh::testing::ScriptedServer;
using nlohmann::json;
using namespace infsh::local::testing;
using namespace std::string_literals;

namespace {

constexpr const char* kKey = "sk-test-Zq81x0Secret";

std::string sse(const json& chunk) { return "data: " + chunk.dump() + "\n\n"; }

json delta(const json& delta_object, const json& finish_reason = nullptr) {
  return {{"id", "chatcmpl-1"},
          {"object", "chat.completion.chunk"},
          {"choices", {{{"index", 0}, {"delta", delta_object}, {"finish_reason", finish_reason}}}}};
}

json usage_chunk(int prompt, int completion) {
  return {{"id", "chatcmpl-1"},
          {"choices", json::array()},
          {"usage",
           {{"prompt_tokens", prompt},
            {"completion_tokens", completion},
            {"total_tokens", prompt + completion}}}};
}

// A streamed answer "Hello wörld" in three deltas, its finish and its usage.
std::string hello_stream() {
  return sse(delta({{"role", "assistant"}, {"content", "Hel"}})) +
         sse(delta({{"content", "lo wö"}})) + sse(delta({{"content", "rld"}})) +
         sse(delta(json::object(), "stop")) + sse(usage_chunk(11, 3)) + "data: [DONE]\n\n";
}

Reply event_stream(const std::string& body, std::size_t piece = 7) {
  return Reply::status(200)
      .header("Content-Type", "text/event-stream")
      .chunked()
      .send_split(body, piece);
}

json setup_for(const ScriptedServer& server, json extra = json::object()) {
  json setup = {{"base_url", server.base_url() + "/v1/"}, {"model", "test-model"}};
  for (const auto& [key, value] : extra.items()) setup[key] = value;
  return setup;
}

json run_params(const json& setup, const json& input) {
  return {{"app", "infsh/openai-chat"}, {"setup", setup}, {"input", input}};
}

infsh::local::RuntimeOptions with_key() {
  auto options = LocalRuntime::quiet();
  options.secrets = {{"OPENAI_API_KEY", kKey}};
  return options;
}

// Runs a task expected to fail; returns it as it ended.
inf::Task failed_task(inf::Client& client, const json& params) {
  const inf::Task queued = client.tasks.run(params, {.wait = false});
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::TaskFailedError);
  return client.tasks.get(queued.id);
}

std::string all_logs(const inf::Task& task) {
  std::string text;
  for (const auto& log : task.logs) text += log.content + "\n";
  return text;
}

}  // namespace

TEST_CASE("infsh/openai-chat streams text deltas as partial outputs and reports usage") {
  std::promise<void> go;
  std::shared_future<void> gate = go.get_future().share();
  ScriptedServer server([gate](const RecordedRequest&) {
    gate.wait();  // until the test follows the task
    return event_stream(hello_stream());
  });
  LocalRuntime local(with_key());
  auto client = local.client();
  const inf::Task queued = client.tasks.run(
      run_params(setup_for(server, {{"temperature", 0.3}}),
                 {{"system_prompt", "Be brief."},
                  {"text", "Say hello"},
                  {"max_tokens", 50},
                  {"tools",
                   {{{"type", "function"},
                     {"function", {{"name", "noop"}, {"parameters", {{"type", "object"}}}}}}}}}),
      {.wait = false});
  auto stream = client.tasks.stream(queued.id);
  const inf::Task* update = stream.next();  // attached before the server answers
  REQUIRE(update != nullptr);
  go.set_value();

  std::vector<std::string> partials;
  inf::Task last;
  for (; update != nullptr; update = stream.next()) {
    if (update->status == inf::TaskStatus::running && update->output.is_object() &&
        update->output.contains("response")) {
      partials.push_back(update->output["response"].get<std::string>());
    }
    last = *update;
  }
  REQUIRE(last.status == inf::TaskStatus::completed);
  CHECK(last.output.at("response") == "Hello wörld");
  CHECK(last.output.at("tool_calls").is_null());
  const json& usage = last.output.at("usage");
  CHECK(usage.at("stop_reason") == "stop");
  CHECK(usage.at("prompt_tokens") == 11);
  CHECK(usage.at("completion_tokens") == 3);
  CHECK(usage.at("total_tokens") == 14);
  // Streamed text reached the task stream before the end, each a prefix of the answer.
  REQUIRE_FALSE(partials.empty());
  for (const auto& partial : partials) {
    INFO(partial);
    CHECK("Hello wörld"s.rfind(partial, 0) == 0);
  }
  CHECK(partials.back() == "Hello wörld");

  // What the endpoint was sent.
  REQUIRE(server.request_count() == 1);
  const RecordedRequest request = server.requests().front();
  CHECK(request.method == "POST");
  CHECK(request.path == "/v1/chat/completions");
  CHECK(request.header("Authorization") == "Bearer "s + kKey);
  CHECK(request.header("Accept") == "text/event-stream");
  const json body = request.json();
  CHECK(body.at("model") == "test-model");
  CHECK(body.at("stream") == true);
  CHECK(body.at("stream_options") == json{{"include_usage", true}});
  CHECK(body.at("temperature") == 0.3);  // from setup
  CHECK(body.at("max_tokens") == 50);    // from the turn's input
  CHECK(body.at("messages") == json::parse(R"([{"role": "system", "content": "Be brief."},
                                               {"role": "user", "content": "Say hello"}])"));
  CHECK(body.at("tools")[0]["function"]["name"] == "noop");
}

TEST_CASE("infsh/openai-chat assembles tool calls from deltas in pieces") {
  // Two calls, their arguments in pieces and interleaved, the name only in the first delta.
  const std::string body =
      sse(delta({{"role", "assistant"}, {"content", nullptr}})) +
      sse(delta({{"tool_calls",
                  {{{"index", 0},
                    {"id", "call_a"},
                    {"type", "function"},
                    {"function", {{"name", "get_weather"}, {"arguments", "{\"ci"}}}}}}})) +
      sse(delta({{"tool_calls",
                  {{{"index", 1},
                    {"id", "call_b"},
                    {"type", "function"},
                    {"function", {{"name", "get_time"}, {"arguments", ""}}}}}}})) +
      sse(delta({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "ty\": \"Pa"}}}}}}})) +
      sse(delta(
          {{"tool_calls", {{{"index", 1}, {"function", {{"arguments", "{\"tz\": \"CET\"}"}}}}}}})) +
      sse(delta({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "ris\"}"}}}}}}})) +
      sse(delta(json::object(), "tool_calls")) + "data: [DONE]\n\n";
  for (const std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
    DYNAMIC_SECTION("written " << piece << " bytes at a time") {
      ScriptedServer server([&](const RecordedRequest&) { return event_stream(body, piece); });
      LocalRuntime local;
      const inf::Task done =
          local.client().tasks.run(run_params(setup_for(server), {{"text", "weather and time?"}}));
      CHECK(done.output.at("response") == "");
      CHECK(done.output.at("tool_calls") == json::parse(R"([
        {"id": "call_a", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
        {"id": "call_b", "type": "function",
         "function": {"name": "get_time", "arguments": "{\"tz\": \"CET\"}"}}])"));
      CHECK(done.output.at("usage").at("stop_reason") == "tool_calls");
      // No key was given: none is sent (local servers need none).
      CHECK_FALSE(server.requests().front().header("Authorization").has_value());
    }
  }
}

TEST_CASE("infsh/openai-chat sends the conversation with tool calls results and attachments") {
  ScriptedServer server([](const RecordedRequest&) { return event_stream(hello_stream()); });
  LocalRuntime local;
  const std::string png = "\x89PNG\r\n\x1a\n tiny";
  const std::string image = "data:image/png;base64," + inf::common::encode_base64(png);
  const std::string notes = "data:text/plain;base64," + inf::common::encode_base64("line one\n");
  const json input = json::parse(R"({
    "context": [
      {"role": "user", "text": "Weather?"},
      {"role": "assistant", "text": "",
       "tool_calls": [{"id": "c1", "type": "function",
                       "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
      {"role": "tool", "text": "snow", "tool_call_id": "c1"},
      {"role": "assistant", "text": "It snows."}
    ],
    "text": "And this?"
  })");
  json with_files = input;
  with_files["images"] = {image};
  with_files["files"] = {notes};
  local.client().tasks.run(run_params(setup_for(server), with_files));

  const json messages = server.requests().front().json().at("messages");
  REQUIRE(messages.size() == 5);
  CHECK(messages[0] == json{{"role", "user"}, {"content", "Weather?"}});
  CHECK(messages[1] == json::parse(R"({"role": "assistant", "content": null,
      "tool_calls": [{"id": "c1", "type": "function",
                      "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]})"));
  CHECK(messages[2] == json{{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "snow"}});
  CHECK(messages[3] == json{{"role", "assistant"}, {"content", "It snows."}});
  const json& parts = messages[4].at("content");
  REQUIRE(parts.size() == 3);
  CHECK(parts[0] == json{{"type", "text"}, {"text", "And this?"}});
  CHECK(parts[1].at("type") == "image_url");
  const std::string url = parts[1]["image_url"]["url"];
  REQUIRE(url.rfind("data:image/png;base64,", 0) == 0);
  CHECK(inf::common::decode_base64(url.substr(22)) == png);
  CHECK(parts[2].at("type") == "text");
  CHECK_THAT(parts[2]["text"].get<std::string>(), Catch::EndsWith(":\nline one\n"));
}

TEST_CASE("infsh/openai-chat retries a 429 honouring Retry-After") {
  Router router;
  router
      .on("POST", "/v1/chat/completions",
          Reply::json(429, {{"error", {{"message", "slow down"}}}}).header("Retry-After", "1"))
      .on("POST", "/v1/chat/completions", event_stream(hello_stream()));
  ScriptedServer server(router.handler());
  LocalRuntime local;
  const inf::Task done = local.client().tasks.run(
      run_params(setup_for(server, {{"retry_delay_ms", 0}}), {{"text", "hi"}}));
  CHECK(done.output.at("response") == "Hello wörld");
  CHECK(server.request_count() == 2);
  // The wait was the server's one second, not the zero of retry_delay_ms.
  CHECK_THAT(all_logs(done),
             Catch::Contains("/v1/chat/completions answered 429: slow down; retrying in 1.0 s "
                             "(retry 1 of 3)"));
}

TEST_CASE("infsh/openai-chat gives up on a persistent 500 and says so") {
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::json(500, {{"error", {{"message", "upstream exploded"}}}});
  });
  LocalRuntime local;
  auto client = local.client();
  const inf::Task failed = failed_task(
      client,
      run_params(setup_for(server, {{"max_retries", 2}, {"retry_delay_ms", 0}}), {{"text", "hi"}}));
  CHECK(failed.error == "infsh/openai-chat: POST " + server.base_url() +
                            "/v1/chat/completions answered 500: upstream exploded (3 attempts; "
                            "giving up)");
  CHECK(server.request_count() == 3);
}

TEST_CASE("infsh/openai-chat does not retry a 400 and quotes the server") {
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::json(400, {{"error", {{"message", "model 'test-model' not found"}}}});
  });
  LocalRuntime local;
  auto client = local.client();
  const inf::Task failed = failed_task(client, run_params(setup_for(server), {{"text", "hi"}}));
  CHECK_THAT(failed.error, Catch::EndsWith("answered 400: model 'test-model' not found"));
  CHECK(server.request_count() == 1);
}

TEST_CASE("infsh/openai-chat fails clearly on a malformed chunk") {
  ScriptedServer server([](const RecordedRequest&) {
    return event_stream(sse(delta({{"content", "ok"}})) + "data: {\"choices\": [{\"delta\": \n\n");
  });
  LocalRuntime local;
  auto client = local.client();
  const inf::Task failed = failed_task(client, run_params(setup_for(server), {{"text", "hi"}}));
  CHECK_THAT(failed.error,
             Catch::StartsWith("infsh/openai-chat: POST " + server.base_url() +
                               "/v1/chat/completions: chunk 2 of the stream is not JSON ("));
  CHECK_THAT(failed.error, Catch::EndsWith(R"(: {"choices": [{"delta":)"));
}

TEST_CASE("infsh/openai-chat fails a stream that ends before the answer is complete") {
  ScriptedServer server([](const RecordedRequest&) {
    return event_stream(sse(delta({{"content", "cut sh"}})));
  });
  LocalRuntime local;
  auto client = local.client();
  const inf::Task failed = failed_task(client, run_params(setup_for(server), {{"text", "hi"}}));
  CHECK_THAT(failed.error, Catch::EndsWith("the stream ended after 1 chunks, before the answer "
                                           "was complete (no finish_reason, no [DONE])"));
  CHECK(failed.output.at("response") == "cut sh");  // the partial output stays
}

TEST_CASE("infsh/openai-chat reports an error object sent in the stream") {
  ScriptedServer server([](const RecordedRequest&) {
    return event_stream(sse(delta({{"content", "a"}})) +
                        sse({{"error", {{"message", "context length exceeded"}}}}));
  });
  LocalRuntime local;
  auto client = local.client();
  const inf::Task failed = failed_task(client, run_params(setup_for(server), {{"text", "hi"}}));
  CHECK_THAT(failed.error,
             Catch::Contains("chunk 2 of the stream is an error from the server: context length "
                             "exceeded"));
}

TEST_CASE("infsh/openai-chat takes a whole completion from a server that does not stream") {
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::json(200, json::parse(R"({"choices": [{"index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": "Calling.", "tool_calls": [{"id": "x1",
        "type": "function", "function": {"name": "f", "arguments": {"n": 2}}}]}}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}})"));
  });
  LocalRuntime local;
  const inf::Task done = local.client().tasks.run(run_params(setup_for(server), {{"text", "hi"}}));
  CHECK(done.output.at("response") == "Calling.");
  CHECK(done.output.at("tool_calls")[0]["function"]["arguments"] == R"({"n":2})");
  CHECK(done.output.at("usage").at("total_tokens") == 6);
}

TEST_CASE("infsh/openai-chat sends the key as a bearer token and never shows it") {
  // A server that echoes the key back, as some providers do in their 401 message.
  ScriptedServer server([](const RecordedRequest& request) {
    return Reply::json(401, {{"error",
                              {{"message", "Incorrect API key provided: " +
                                               request.header("Authorization").value_or("")}}}});
  });
  auto options = with_key();
  auto log = std::make_shared<std::string>();
  auto log_mutex = std::make_shared<std::mutex>();
  options.log_level = infsh::local::LogLevel::debug;
  options.log_sink = [log, log_mutex](infsh::local::LogLevel, std::string_view line) {
    std::lock_guard lock(*log_mutex);
    *log += std::string(line) + "\n";
  };
  LocalRuntime local(options);
  auto client = local.client();
  const inf::Task failed = failed_task(client, run_params(setup_for(server), {{"text", "hi"}}));
  CHECK(server.requests().front().header("Authorization") == "Bearer "s + kKey);
  CHECK(failed.error == "infsh/openai-chat: POST " + server.base_url() +
                            "/v1/chat/completions answered 401: Incorrect API key provided: "
                            "Bearer [secret OPENAI_API_KEY]");
  const auto raw = http_request(local.port(), "GET", "/tasks/" + failed.id, {},
                                {{"Authorization", "Bearer test-key"}});
  CHECK(raw.status == 200);
  CHECK(raw.body.find(kKey) == std::string::npos);
  std::lock_guard lock(*log_mutex);
  CHECK(log->find(kKey) == std::string::npos);
}

TEST_CASE("infsh/openai-chat refuses a named secret that is not set, saying how to set it") {
  ScriptedServer server;
  LocalRuntime local;
  try {
    local.client().tasks.run(
        run_params(setup_for(server, {{"api_key_secret", "MY_PROVIDER_KEY"}}), {{"text", "hi"}}));
    FAIL("the run should have been refused");
  } catch (const inf::UnprocessableEntityError& e) {
    CHECK(e.detail() ==
          "setup.api_key_secret: the secret MY_PROVIDER_KEY is not set: start infsh-local with "
          "--secret MY_PROVIDER_KEY=... or set INFSH_SECRET_MY_PROVIDER_KEY");
  }
  CHECK(server.request_count() == 0);
}

TEST_CASE("infsh/openai-chat reads a named secret from INFSH_SECRET_ variables") {
  ScriptedServer server([](const RecordedRequest&) { return event_stream(hello_stream()); });
  ::setenv("INFSH_SECRET_CORES_TEST_KEY", "from-the-environment", 1);
  LocalRuntime local;  // reads the environment when built
  ::unsetenv("INFSH_SECRET_CORES_TEST_KEY");
  local.client().tasks.run(
      run_params(setup_for(server, {{"api_key_secret", "CORES_TEST_KEY"}}), {{"text", "hi"}}));
  CHECK(server.requests().front().header("Authorization") == "Bearer from-the-environment");
}

TEST_CASE("infsh/openai-chat refuses a bad setup naming the field") {
  LocalRuntime local;
  auto client = local.client();
  const auto refusal = [&](const json& setup) -> std::string {
    try {
      client.tasks.run(run_params(setup, {{"text", "hi"}}));
    } catch (const inf::UnprocessableEntityError& e) {
      return e.detail();
    }
    return "accepted";
  };
  CHECK_THAT(refusal(nullptr), Catch::StartsWith("infsh/openai-chat needs a setup"));
  CHECK(refusal({{"model", "m"}}) == "setup.base_url: field required");
  CHECK_THAT(refusal({{"base_url", "127.0.0.1:8080/v1"}, {"model", "m"}}),
             Catch::StartsWith("setup.base_url: must be an http:// or https:// URL"));
  CHECK(refusal({{"base_url", "http://x/v1"}, {"model", "m"}, {"temprature", 1}}) ==
        "setup.temprature: is not a field of the setup");
  CHECK(refusal({{"base_url", "http://x/v1"}, {"model", "m"}, {"temperature", 3}}) ==
        "setup.temperature: must be <= 2");
  CHECK_THAT(refusal({{"base_url", "http://x/v1"}, {"model", "m"}, {"api_key_secret", "a-b"}}),
             Catch::StartsWith("setup.api_key_secret: 'a-b' is not a secret name"));
}

TEST_CASE("infsh/openai-chat retries a refused connection then says the server may be down") {
  std::string base_url;
  {
    ScriptedServer gone;  // a port that was free a moment ago and is closed now
    base_url = gone.base_url();
  }
  LocalRuntime local;
  auto client = local.client();
  const inf::Task failed = failed_task(client, run_params({{"base_url", base_url + "/v1"},
                                                           {"model", "m"},
                                                           {"max_retries", 1},
                                                           {"retry_delay_ms", 0}},
                                                          {{"text", "hi"}}));
  CHECK_THAT(failed.error, Catch::Contains("(is the server running?)"));
  CHECK_THAT(failed.error, Catch::EndsWith("(2 attempts; giving up)"));
}

TEST_CASE("infsh/openai-chat stops reading when its task is cancelled mid-stream") {
  ScriptedServer server([](const RecordedRequest&) {
    return Reply::status(200)
        .header("Content-Type", "text/event-stream")
        .chunked()
        .send(sse(delta({{"content", "thinking..."}})))
        .stall();
  });
  LocalRuntime local;
  auto client = local.client();
  const inf::Task queued =
      client.tasks.run(run_params(setup_for(server), {{"text", "hi"}}), {.wait = false});
  REQUIRE(wait_until([&] {
    const auto task = client.tasks.get(queued.id);
    return task.output.is_object() && task.output.value("response", "") == "thinking...";
  }));
  client.tasks.cancel(queued.id);
  CHECK_THROWS_AS(client.tasks.wait_for_completion(queued.id), inf::CancelledError);
  CHECK(server.wait_for_closed_connections(1, std::chrono::seconds(10)));
}

TEST_CASE("a streamed chat completion is assembled the same at every split point") {
  const std::string body =
      sse(delta({{"content", "Wö"}})) +
      sse(delta({{"reasoning_content", "hmm"}, {"content", "rd"}})) +
      sse(delta({{"tool_calls",
                  {{{"index", 0},
                    {"id", "c"},
                    {"function", {{"name", "f"}, {"arguments", "{\"a\""}}}}}}})) +
      sse(delta({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", ": 1}"}}}}}}},
                "tool_calls")) +
      "data: [DONE]\r\n\r\n";
  for (std::size_t split = 0; split <= body.size(); ++split) {
    infsh::local::apps::ChatCompletionStream stream;
    inf::detail::SseFramer framer;
    const auto feed = [&](std::string_view part) {
      framer.feed(
          part, [&](inf::detail::SseMessage&& message) { stream.feed(message.data); },
          [](std::string_view) {});
    };
    feed(std::string_view(body).substr(0, split));
    feed(std::string_view(body).substr(split));
    INFO("split at " << split);
    REQUIRE(stream.done());
    const auto output = stream.result();
    CHECK(output.response == "Wörd");
    CHECK(output.reasoning == "hmm");
    REQUIRE(output.tool_calls.has_value());
    CHECK(output.tool_calls->at(0) == infsh::ToolCall{"c", "f", R"({"a": 1})"});
    CHECK(output.usage->stop_reason == "tool_calls");
  }
}

TEST_CASE("infsh/openai-chat reads the streams of llama.cpp's server and of Ollama") {
  // As llama-server (with --jinja) and `ollama serve` write them: a role-only first chunk, null
  // fields, usage and llama.cpp's timings on the last chunk, Ollama's usage-only chunk.
  const std::string llama_cpp =
      R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1735000000,"id":"chatcmpl-Xy","model":"local","system_fingerprint":"b4500","object":"chat.completion.chunk"})"
      "\n\n"
      R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Rayleigh"}}],"created":1735000000,"id":"chatcmpl-Xy","model":"local","object":"chat.completion.chunk"})"
      "\n\n"
      R"(data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":" scattering."}}],"created":1735000000,"id":"chatcmpl-Xy","model":"local","object":"chat.completion.chunk"})"
      "\n\n"
      R"(data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1735000000,"id":"chatcmpl-Xy","model":"local","object":"chat.completion.chunk","usage":{"completion_tokens":4,"prompt_tokens":21,"total_tokens":25},"timings":{"prompt_n":21,"prompt_ms":35.2,"predicted_n":4,"predicted_ms":6.8,"predicted_per_second":588.2}})"
      "\n\ndata: [DONE]\n\n";
  const std::string ollama =
      R"(data: {"id":"chatcmpl-512","object":"chat.completion.chunk","created":1735000000,"model":"qwen2.5:7b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":"","tool_calls":[{"id":"call_k2x","index":0,"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]})"
      "\n\n"
      R"(data: {"id":"chatcmpl-512","object":"chat.completion.chunk","created":1735000000,"model":"qwen2.5:7b","system_fingerprint":"fp_ollama","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"tool_calls"}]})"
      "\n\n"
      R"(data: {"id":"chatcmpl-512","object":"chat.completion.chunk","created":1735000000,"model":"qwen2.5:7b","system_fingerprint":"fp_ollama","choices":[],"usage":{"prompt_tokens":140,"completion_tokens":22,"total_tokens":162}})"
      "\n\ndata: [DONE]\n\n";
  LocalRuntime local;
  auto client = local.client();
  {
    ScriptedServer server([&](const RecordedRequest&) { return event_stream(llama_cpp, 13); });
    const inf::Task done = client.tasks.run(
        run_params({{"base_url", server.base_url() + "/v1"}, {"model", "local"}},
                   {{"system_prompt", "Be brief."}, {"text", "Why is the sky blue?"}}));
    CHECK(done.output.at("response") == "Rayleigh scattering.");
    CHECK(done.output.at("usage").at("prompt_tokens") == 21);
    CHECK(done.output.at("usage").at("tokens_per_second") == 588.2);
    CHECK(done.output.at("usage").at("stop_reason") == "stop");
  }
  {
    ScriptedServer server([&](const RecordedRequest&) { return event_stream(ollama, 5); });
    const inf::Task done = client.tasks.run(
        run_params({{"base_url", server.base_url() + "/v1"}, {"model", "qwen2.5:7b"}},
                   {{"text", "Weather in Paris?"},
                    {"tools", {{{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}}));
    CHECK(done.output.at("response") == "");
    CHECK(done.output.at("tool_calls") == json::parse(R"([{"id": "call_k2x", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}])"));
    CHECK(done.output.at("usage").at("total_tokens") == 162);
    CHECK(done.output.at("usage").at("stop_reason") == "tool_calls");
  }
}
